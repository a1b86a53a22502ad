" .repr files are repr programs.
autocmd BufRead,BufNewFile *.repr setfiletype repr
