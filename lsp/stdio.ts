/**
 * `repr lsp --stdio`: the language server on standard input and output.
 * Loaded by `await import()` from the command, so other commands never load
 * the protocol library.
 */
import { createConnection } from "vscode-languageserver/node";
import { startServer } from "./server.js";

/** Serves one client on stdin/stdout until it exits; nothing else may write to stdout. */
export function serveStdio(): void {
  const connection = createConnection(process.stdin, process.stdout);
  // Output meant for a person goes to the client's log, never into the protocol stream.
  console.log = (...args: unknown[]) => connection.console.log(args.map(String).join(" "));
  console.warn = (...args: unknown[]) => connection.console.warn(args.map(String).join(" "));
  console.error = (...args: unknown[]) => connection.console.error(args.map(String).join(" "));
  process.on("uncaughtException", (error) => connection.console.error(`repr lsp: ${error.stack ?? error.message}`));
  process.on("unhandledRejection", (error) => connection.console.error(`repr lsp: ${String(error)}`));
  // A client that goes away without `exit` ends the server too.
  process.stdin.on("end", () => process.exit(0));
  startServer(connection);
}
