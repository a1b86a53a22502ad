/**
 * A language client for the tests: `repr lsp --stdio` started from source
 * (through tsx) in a child process, driven over stdio with
 * vscode-languageserver-protocol's client connection.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  PublishDiagnosticsNotification,
  InitializeRequest,
  InitializedNotification,
  DidOpenTextDocumentNotification,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  ShutdownRequest,
  ExitNotification,
  LogMessageNotification,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  type InitializeResult,
  type TextDocumentContentChangeEvent,
} from "vscode-languageserver-protocol/node";
import { repoRoot } from "../cli/run-cli.js";

/** A running server and a connection to it. */
export interface Client {
  readonly connection: ProtocolConnection;
  readonly process: ChildProcessWithoutNullStreams;
  readonly capabilities: InitializeResult["capabilities"];
  /** Everything the server logged (errors of failed handlers among them). */
  readonly log: string[];
  /** Opens a document. */
  open(path: string, text: string, version?: number): string;
  /** Sends changes to an open document. */
  change(path: string, version: number, changes: TextDocumentContentChangeEvent[]): void;
  close(path: string): void;
  /** Resolves with the next diagnostics published for a file (at `version` or later, when given). */
  diagnostics(path: string, version?: number): Promise<PublishDiagnosticsParams>;
  /** Shuts the server down and waits for it to exit; resolves with its exit code. */
  stop(): Promise<number | null>;
}

export const uriOf = (path: string): string => pathToFileURL(path).href;

/** Starts `repr lsp --stdio` and initializes it (debounce 0 unless given). */
export async function startClient(options: { debounceMs?: number; root?: string } = {}): Promise<Client> {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "cli", "main.ts"), "lsp", "--stdio"], { cwd: repoRoot, stdio: "pipe" });
  const stderr: string[] = [];
  child.stderr.on("data", (b: Buffer) => stderr.push(b.toString()));
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const log: string[] = [];
  connection.onNotification(LogMessageNotification.type, (p: { message: string }) => {
    log.push(p.message);
  });
  const waiting: { path: string; version: number | undefined; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  const latest = new Map<string, PublishDiagnosticsParams>();
  connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
    latest.set(p.uri, p);
    for (let i = waiting.length - 1; i >= 0; i--) {
      const w = waiting[i]!;
      if (uriOf(w.path) === p.uri && (w.version === undefined || (p.version ?? -1) >= w.version)) {
        waiting.splice(i, 1);
        w.resolve(p);
      }
    }
  });
  connection.listen();
  const root = options.root ?? repoRoot;
  const init = await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: uriOf(root),
    workspaceFolders: [{ uri: uriOf(root), name: "root" }],
    capabilities: {},
    initializationOptions: { debounceMs: options.debounceMs ?? 0 },
  });
  await connection.sendNotification(InitializedNotification.type, {});
  return {
    connection,
    process: child,
    capabilities: init.capabilities,
    log,
    open(path, text, version = 1) {
      void connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: uriOf(path), languageId: "repr", version, text } });
      return uriOf(path);
    },
    change(path, version, changes) {
      void connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri: uriOf(path), version }, contentChanges: changes });
    },
    close(path) {
      void connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri: uriOf(path) } });
    },
    diagnostics(path, version) {
      return new Promise((resolve) => waiting.push({ path, version, resolve }));
    },
    async stop() {
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      if (child.exitCode !== null) return child.exitCode;
      await connection.sendRequest(ShutdownRequest.type);
      await connection.sendNotification(ExitNotification.type);
      const code = await exited;
      connection.dispose();
      return code;
    },
  };
}
