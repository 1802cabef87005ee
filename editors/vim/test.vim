" Headless test of syntax/svc.vim: the highlight group at chosen places of a fixture.
" Run: vim -Nu NONE -es -c 'set rtp^=editors/vim' -c 'filetype on' -c 'syntax on' -S editors/vim/test.vim
let s:fails = []
let s:checked = 0
function! s:Check(pattern, offset, expected) abort
  call cursor(1, 1)
  let l = search(a:pattern, 'cW')
  if l == 0
    call add(s:fails, 'not found: ' . a:pattern)
    return
  endif
  let c = col('.') + a:offset
  let name = synIDattr(synID(l, c, 1), 'name')
  let s:checked += 1
  if name !=# a:expected
    call add(s:fails, printf('%s (line %d, col %d): expected %s, got "%s"', a:pattern, l, c, a:expected, name))
  endif
endfunction

edit editors/vim/fixture.svc
if &filetype !=# 'svc'
  call add(s:fails, 'filetype not detected: "' . &filetype . '"')
endif
call s:Check('^//!', 0, 'svcInnerDoc')
call s:Check('^package', 0, 'svcDeclKeyword')
call s:Check('^import', 0, 'svcDeclKeyword')
call s:Check('^/// A reg', 0, 'svcDocComment')
call s:Check('^// plain', 0, 'svcComment')
call s:Check('@length', 0, 'svcAnnotation')
call s:Check('\\\\d', 0, 'svcEscape')
call s:Check('^type Handle', 0, 'svcDeclKeyword')
call s:Check('^type Handle', 5, 'svcDeclName')
call s:Check('= string', 2, 'svcBuiltinType')
call s:Check('^  type @1', 2, '')
call s:Check('^  type @1', 7, 'svcTag')
call s:Check('^  error?', 7, 'svcOptional')
call s:Check('list<', 0, 'svcBuiltinType')
call s:Check('^enum Role', 0, 'svcDeclKeyword')
call s:Check('not_found', 0, 'svcErrorKind')
call s:Check('  rpc get', 2, 'svcDeclKeyword')
call s:Check('  rpc get', 6, 'svcMethodName')
call s:Check('throws', 0, 'svcKeyword')
call s:Check('emits', 0, 'svcKeyword')
call s:Check('->', 0, 'svcKeyword')
call s:Check('"/users', 0, 'svcString')
call s:Check('= 5;', 2, 'svcNumber')
call s:Check('/\* block', 0, 'svcBlockComment')
let s:out = empty($SVC_VIM_RESULT) ? '/dev/stdout' : $SVC_VIM_RESULT
if empty(s:fails)
  call writefile([printf('vim syntax: %d checks passed', s:checked)], s:out)
  qall!
endif
call writefile(s:fails, s:out)
cquit!
