" Vim syntax file for svcc contracts (.svc)
" Keywords are reserved only where a declaration starts: `type` names a declaration after a
" line start (or annotations), but is a plain name as a field (`type @1: string;`).
if exists("b:current_syntax")
  finish
endif

syn case match

" Comments: `///` and `//!` are documentation; `//` and `/* */` are plain.
syn keyword svcTodo contained TODO FIXME XXX NOTE
syn match   svcDocComment   "///.*$" contains=svcTodo,@Spell
syn match   svcInnerDoc     "//!.*$" contains=svcTodo,@Spell
syn match   svcComment      "//\([/!]\)\@!.*$" contains=svcTodo,@Spell
syn match   svcComment      "////.*$" contains=svcTodo,@Spell
syn region  svcBlockComment start="/\*" end="\*/" contains=svcTodo,@Spell

" Declarations: a keyword followed by a name, at the start of a statement.
syn match   svcDeclKeyword  "^\s*\zs\(package\|import\)\>"
syn match   svcDeclKeyword  "\(^\|[;})]\)\s*\(@\w\+\(([^)]*)\)\?\s*\)*\zs\<\(type\|enum\|union\|error\|service\|event\)\ze\s\+\h\w*"
syn match   svcDeclKeyword  "\<rpc\ze\s\+\h\w*\s*("
syn match   svcKeyword      "\<\(as\|throws\|emits\)\>"
syn match   svcKeyword      "->"
syn match   svcDeclName     "\(\<\(type\|enum\|union\|error\|service\|event\)\s\+\)\@<=\h\w*"
syn match   svcMethodName   "\(\<rpc\s\+\)\@<=\h\w*"

" Types.
syn keyword svcBuiltinType  bool int32 int64 uint32 uint64 float32 float64 string bytes uuid timestamp date duration decimal any
syn match   svcBuiltinType  "\<\(list\|map\)\ze\s*<"
syn keyword svcErrorKind    cancelled unknown invalid_argument deadline_exceeded not_found already_exists permission_denied resource_exhausted failed_precondition aborted out_of_range unimplemented internal unavailable data_loss unauthenticated contained
syn match   svcKind         ":\s*\zs\(cancelled\|unknown\|invalid_argument\|deadline_exceeded\|not_found\|already_exists\|permission_denied\|resource_exhausted\|failed_precondition\|aborted\|out_of_range\|unimplemented\|internal\|unavailable\|data_loss\|unauthenticated\)\>" contains=svcErrorKind

" Annotations, tags, markers, literals.
syn match   svcAnnotation   "@\h\w*"
syn match   svcTag          "@\d\+\>"
syn match   svcOptional     "?\ze\s*\(@\d\+\)\?\s*:"
syn region  svcString       start=+"+ skip=+\\\\\|\\"+ end=+"+ oneline contains=svcEscape
syn match   svcEscape       contained +\\\(["\\nrt0]\|u{\x\+}\)+
syn match   svcNumber       "\<-\?\d\+\(\.\d\+\)\?\([eE][+-]\?\d\+\)\?\>"
syn keyword svcBoolean      true false

hi def link svcTodo         Todo
hi def link svcDocComment   SpecialComment
hi def link svcInnerDoc     SpecialComment
hi def link svcComment      Comment
hi def link svcBlockComment Comment
hi def link svcDeclKeyword  Keyword
hi def link svcKeyword      Keyword
hi def link svcDeclName     Type
hi def link svcMethodName   Function
hi def link svcBuiltinType  Type
hi def link svcErrorKind    Constant
hi def link svcAnnotation   PreProc
hi def link svcTag          Number
hi def link svcOptional     Operator
hi def link svcString       String
hi def link svcEscape       SpecialChar
hi def link svcNumber       Number
hi def link svcBoolean      Boolean

let b:current_syntax = "svc"
