-- Comments and indentation as `repr fmt` writes them.
vim.bo.commentstring = "// %s"
vim.bo.comments = ":///,://"
vim.bo.expandtab = true
vim.bo.shiftwidth = 2
vim.bo.tabstop = 2
-- Enter inside a `///` doc comment continues it.
vim.opt_local.formatoptions:append("ro")
