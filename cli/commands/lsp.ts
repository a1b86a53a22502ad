/**
 * `repr lsp [--stdio]`: the language server (lsp/), on stdin and stdout
 * until the client sends `exit` or closes its end.
 */
export async function lspCommand(): Promise<number> {
  const { serveStdio } = await import("../../lsp/stdio.js");
  await serveStdio();
  return 0;
}
