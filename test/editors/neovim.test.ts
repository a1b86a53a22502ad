/**
 * A real editor as the client: Debian's Neovim (0.7.2) in headless mode,
 * with the setup in editors/nvim (filetype detection and the built-in LSP
 * client through `vim.lsp.start_client` and `vim.lsp.buf_attach_client`).
 * It opens an example with a deliberate error and reads back the
 * diagnostic, a hover and a formatting edit.
 *
 * Skipped, saying why, where `nvim` is not installed (CI installs it).
 */
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { format } from "../../language/format.js";
import { Source } from "../../language/source.js";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import { repoRoot } from "../cli/run-cli.js";
import { tempDir } from "../train/helpers.js";

const nvim = spawnSync("nvim", ["--version"], { encoding: "utf8" });
const skipReason = nvim.status === 0 ? null : "nvim is not installed (Debian: apt-get install neovim)";
if (skipReason) console.warn(`skipping the Neovim tests: ${skipReason}`);

/** The script Neovim runs: everything it learns goes to a JSON file. */
const script = `
local out = vim.env.REPR_NVIM_OUT
local result = { log = {} }
local function finish()
  local f = io.open(out, "w")
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd("qa!")
end
local ok, err = pcall(function()
  -- Keep Neovim's LSP log (in the user's cache folder) quiet.
  pcall(vim.lsp.set_log_level, "ERROR")
  require("repr").setup({
    cmd = { vim.env.REPR_NODE, "--import", vim.env.REPR_TSX, vim.env.REPR_ROOT .. "/cli/main.ts", "lsp", "--stdio" },
    init_options = { debounceMs = 0 },
  })
  vim.cmd("edit " .. vim.fn.fnameescape(vim.env.REPR_FILE))
  local buf = vim.api.nvim_get_current_buf()
  result.filetype = vim.bo[buf].filetype
  result.commentstring = vim.bo[buf].commentstring
  assert(vim.wait(60000, function() return #vim.diagnostic.get(buf) > 0 end, 50), "no diagnostics arrived")
  result.diagnostics = vim.tbl_map(function(d)
    return { lnum = d.lnum, col = d.col, message = d.message, code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) }
  end, vim.diagnostic.get(buf))
  local uri = vim.uri_from_bufnr(buf)
  local line = tonumber(vim.env.REPR_HOVER_LINE)
  local col = tonumber(vim.env.REPR_HOVER_COL)
  local hover = vim.lsp.buf_request_sync(buf, "textDocument/hover", { textDocument = { uri = uri }, position = { line = line, character = col } }, 30000)
  for _, r in pairs(hover or {}) do
    if r.result then result.hover = r.result.contents.value end
  end
  local formatting = vim.lsp.buf_request_sync(buf, "textDocument/formatting", { textDocument = { uri = uri }, options = { tabSize = 2, insertSpaces = true } }, 30000)
  for _, r in pairs(formatting or {}) do
    if r.result then
      result.edits = #r.result
      vim.lsp.util.apply_text_edits(r.result, buf, "utf-16")
    end
  end
  result.formatted = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\\n")
end)
if not ok then result.error = tostring(err) end
finish()
`;

describe.skipIf(skipReason !== null)("Neovim with the repr setup", () => {
  const dir = tempDir("nvim");

  it("shows the server's diagnostic, a hover and a formatting edit", () => {
    const example = readFileSync(join(repoRoot, "examples", "mnist-autoencoder.repr"), "utf8");
    // A deliberate error (an unknown layer) and a layout `repr fmt` changes.
    const broken = example.replace("-> dense(784)", "-> dens(784)").replace("bottleneck z = plain(dim: 32)", "bottleneck   z=plain( dim:32 )");
    const file = join(dir, "autoencoder.repr");
    writeFileSync(file, broken);
    writeFileSync(join(dir, "check.lua"), script);
    const lines = broken.split("\n");
    const hoverLine = lines.findIndex((l) => l.includes("  encoder f ="));
    const out = join(dir, "result.json");
    const run = spawnSync("nvim", ["--headless", "--clean", "--cmd", `set rtp^=${join(repoRoot, "editors", "nvim")}`, "-c", `luafile ${join(dir, "check.lua")}`], {
      cwd: dir,
      encoding: "utf8",
      timeout: 150_000,
      env: { ...process.env, REPR_NVIM_OUT: out, REPR_NODE: process.execPath, REPR_TSX: import.meta.resolve("tsx"), REPR_ROOT: repoRoot, REPR_FILE: file, REPR_HOVER_LINE: String(hoverLine), REPR_HOVER_COL: String(lines[hoverLine]!.indexOf("f =")) },
    });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(readFileSync(out, "utf8")) as Record<string, unknown>;
    expect(result["error"]).toBeUndefined();
    expect(result["filetype"]).toBe("repr");
    expect(result["commentstring"]).toBe("// %s");
    const diagnostics = result["diagnostics"] as { lnum: number; message: string; code: string }[];
    // What repr check reports: the unknown layer, and the loss that cannot be computed without it.
    expect(diagnostics.map((d) => d.code)).toEqual(checkProgram(new Source(file, broken), nodeFileHost).diagnostics.map((d) => d.code));
    expect(diagnostics[0]!.code).toBe("RC201");
    expect(diagnostics[0]!.message).toContain("unknown name 'dens'");
    expect(diagnostics[0]!.message).toContain("did you mean 'dense'?");
    expect(diagnostics[0]!.lnum).toBe(lines.findIndex((l) => l.includes("dens(784)")));
    expect(result["hover"]).toContain("encoder f: [B, 1, 28, 28] -> [B, 64]");
    expect(result["edits"]).toBe(1);
    expect(result["formatted"]).toBe(format(new Source(file, broken)).text!.replace(/\n$/, ""));
    expect(result["formatted"]).toContain("bottleneck z = plain(dim: 32)");
  });
});
