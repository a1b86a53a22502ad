/**
 * `repr lsp [--stdio]`: the language server (lsp/). It runs until the
 * client exits, so the command's promise settles only then.
 */
export async function lspCommand(): Promise<number> {
  const { serveStdio } = await import("../../lsp/stdio.js");
  serveStdio();
  // The connection ends the process on `exit`; until then there is nothing more to do here.
  return new Promise<number>(() => {});
}
