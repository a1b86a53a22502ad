/**
 * The VS Code extension: the language, its grammar, configuration and
 * snippets are contributed by package.json; this starts the language server
 * (`repr lsp --stdio`) for `.repr` files, and restarts it when the
 * `repr.server.path` setting changes.
 */
import * as vscode from "vscode";
import { LanguageClient, type LanguageClientOptions, type ServerOptions } from "vscode-languageclient/node";
import { serverCommand } from "./server-command";

let client: LanguageClient | null = null;

/** Starts the client, or says why it cannot. */
async function start(): Promise<void> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === "file").map((f) => f.uri.fsPath);
  const setting = vscode.workspace.getConfiguration("repr").get<string>("server.path", "");
  const command = serverCommand(setting, folders);
  if (!command) {
    void vscode.window.showWarningMessage("repr: no language server found. Install repr in the workspace (npm install repr) or set repr.server.path.");
    return;
  }
  const run = { command, args: ["lsp", "--stdio"], options: { shell: process.platform === "win32" } };
  const serverOptions: ServerOptions = { run, debug: run };
  const clientOptions: LanguageClientOptions = { documentSelector: [{ scheme: "file", language: "repr" }] };
  client = new LanguageClient("repr", "repr language server", serverOptions, clientOptions);
  await client.start();
}

async function stop(): Promise<void> {
  const c = client;
  client = null;
  if (c) await c.stop();
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration("repr.server")) return;
      await stop();
      await start();
    }),
  );
  await start();
}

export function deactivate(): Promise<void> {
  return stop();
}
