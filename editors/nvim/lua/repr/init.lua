-- The repr language server in Neovim (0.7 or later), with its built-in client.
--
--   require("repr").setup()            -- in init.lua, with editors/nvim on 'runtimepath'
--   require("repr").setup({ cmd = { "/path/to/repr", "lsp", "--stdio" } })
--
-- Each .repr buffer is attached to one server per project (the folder with
-- package.json or .git above it). The server is the project's
-- node_modules/.bin/repr when there is one, else `repr` on PATH.
local M = {}

local clients = {}

--- The folder above `path` that holds one of `markers`, or nil.
local function find_up(path, markers)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  while true do
    for _, marker in ipairs(markers) do
      if vim.loop.fs_stat(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      return nil
    end
    dir = parent
  end
end

--- The command that starts the server for a file: the project's repr, else the one on PATH.
function M.default_cmd(path)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  while true do
    local bin = dir .. "/node_modules/.bin/repr"
    if vim.fn.executable(bin) == 1 then
      return { bin, "lsp", "--stdio" }
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      return { "repr", "lsp", "--stdio" }
    end
    dir = parent
  end
end

--- Attaches a buffer to the server of its project, starting the server first if needed.
function M.attach(bufnr, opts)
  opts = opts or {}
  local path = vim.api.nvim_buf_get_name(bufnr)
  local root = find_up(path, { "package.json", ".git" }) or vim.fn.fnamemodify(path, ":p:h")
  local id = clients[root]
  if not id or not vim.lsp.get_client_by_id(id) then
    id = vim.lsp.start_client({
      name = "repr",
      cmd = opts.cmd or M.default_cmd(path),
      root_dir = root,
      workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
      init_options = opts.init_options,
      on_attach = opts.on_attach,
    })
    clients[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

--- Attaches every repr buffer, now and later, to its project's server.
function M.setup(opts)
  vim.api.nvim_create_autocmd("FileType", {
    pattern = "repr",
    callback = function(args)
      M.attach(args.buf, opts)
    end,
  })
end

return M
