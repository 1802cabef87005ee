" .svc contracts (svcc)
autocmd BufRead,BufNewFile *.svc setfiletype svc
