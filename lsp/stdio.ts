/**
 * `repr lsp --stdio`: the language server on standard input and output.
 * Loaded by `await import()` from the command, so other commands never load
 * the protocol library.
 */
import { createConnection } from "vscode-languageserver/node";
import { startServer } from "./server.js";

/**
 * Serves one client on stdin/stdout; nothing else may write to stdout. The
 * client's `exit`, or the end of its input, ends the process (the protocol
 * library exits, with 1 unless `shutdown` came first); the promise settles
 * when the input ends.
 */
export function serveStdio(): Promise<void> {
  const connection = createConnection(process.stdin, process.stdout);
  // Output meant for a person goes to the client's log, never into the protocol stream.
  console.log = (...args: unknown[]) => connection.console.log(args.map(String).join(" "));
  console.warn = (...args: unknown[]) => connection.console.warn(args.map(String).join(" "));
  console.error = (...args: unknown[]) => connection.console.error(args.map(String).join(" "));
  process.on("uncaughtException", (error) => connection.console.error(`repr lsp: ${error.stack ?? error.message}`));
  process.on("unhandledRejection", (error) => connection.console.error(`repr lsp: ${String(error)}`));
  const ended = new Promise<void>((resolve) => process.stdin.on("end", resolve));
  startServer(connection);
  return ended;
}
