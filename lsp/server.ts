/**
 * The language server: `repr lsp` (vscode-languageserver over stdio).
 *
 * Documents are kept as the editor has them (incremental sync). After an
 * edit, diagnostics are computed once the document has been quiet for the
 * debounce (50 ms unless the client asks for less), for it and for every
 * open document whose program loads it, and published for each open
 * document. Every request is answered from the current text.
 *
 * *Invariant:* no request, notification or text makes the server throw or
 * stop: a handler that fails logs the error and answers as if it had found
 * nothing.
 */
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import {
  CodeActionKind,
  ResponseError,
  TextDocumentSyncKind,
  type Connection,
  type InitializeResult,
} from "vscode-languageserver";
import { Debouncer } from "./debounce.js";
import { Document } from "./documents.js";
import { Workspace, type Checked } from "./workspace.js";
import { toLspDiagnostic } from "./features/diagnostics.js";
import { hover } from "./features/hover.js";
import { complete } from "./features/completion.js";
import { signatureHelp } from "./features/signature-help.js";
import { RenameError, definition, prepareRename, references, rename } from "./features/navigation.js";
import { documentSymbols } from "./features/document-symbols.js";
import { formatDocument } from "./features/formatting.js";
import { semanticTokens, semanticTokensLegend } from "./features/semantic-tokens.js";
import { quickFixes } from "./features/code-actions.js";

/** The longest wait after an edit before diagnostics are computed, in milliseconds. */
export const MAX_DEBOUNCE_MS = 50;

/** Options a client may give in `initializationOptions`. */
interface ServerOptions {
  /** Milliseconds to wait after an edit before checking (at most 50). */
  readonly debounceMs?: number;
}

/** The path a `file:` URI names (other schemes keep their URI as the name). */
function pathOf(uri: string): string {
  try {
    return uri.startsWith("file:") ? fileURLToPath(uri) : uri;
  } catch {
    return uri;
  }
}

/** Serves one client on a connection. */
export function startServer(connection: Connection): void {
  const ws = new Workspace();
  const debounce = new Debouncer(MAX_DEBOUNCE_MS);
  const checked = new Map<string, Checked>();
  let roots: string[] = [];

  /** Runs a handler; an exception is logged and becomes `fallback`. */
  const safe = <A extends unknown[], R>(name: string, fallback: R, fn: (...args: A) => R) =>
    (...args: A): R => {
      try {
        return fn(...args);
      } catch (error) {
        if (error instanceof RenameError) throw new ResponseError(-32803, error.message);
        connection.console.error(`repr lsp: ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        return fallback;
      }
    };

  const docAt = (uri: string): Document | undefined => ws.documents.get(pathOf(uri));

  /** Checks one document and publishes its diagnostics. */
  const publish = safe("diagnostics", undefined, (path: string): void => {
    const doc = ws.documents.get(path);
    if (!doc) return;
    const result = ws.check(doc);
    checked.set(path, result);
    const own = result.diagnostics.filter((d) => resolve(d.source.name) === path || d.source.name === path);
    void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: own.map(toLspDiagnostic) });
  });

  /** Schedules checking a document and every open document whose program loaded it. */
  const schedule = (path: string): void => {
    const targets = [path, ...[...checked].filter(([p, c]) => p !== path && c.files.includes(path)).map(([p]) => p)];
    for (const target of targets) debounce.schedule(target, () => publish(target));
  };

  connection.onInitialize((params): InitializeResult => {
    const options = (params.initializationOptions ?? {}) as ServerOptions;
    if (typeof options.debounceMs === "number" && options.debounceMs >= 0) debounce.delay = Math.min(options.debounceMs, MAX_DEBOUNCE_MS);
    roots = (params.workspaceFolders ?? []).map((f) => pathOf(f.uri));
    if (roots.length === 0 && params.rootUri) roots = [pathOf(params.rootUri)];
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        hoverProvider: true,
        completionProvider: { triggerCharacters: [".", "(", ",", ":", "\"", "{", ">"] },
        signatureHelpProvider: { triggerCharacters: ["(", ","] },
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        documentFormattingProvider: true,
        semanticTokensProvider: { legend: semanticTokensLegend, full: true },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      },
      serverInfo: { name: "repr" },
    };
  });

  connection.onDidOpenTextDocument(
    safe("didOpen", undefined, ({ textDocument: t }) => {
      const doc = new Document(t.uri, pathOf(t.uri), t.version, t.text);
      ws.open(doc);
      schedule(doc.path);
    }),
  );
  connection.onDidChangeTextDocument(
    safe("didChange", undefined, ({ textDocument: t, contentChanges }) => {
      const doc = docAt(t.uri);
      if (!doc) return;
      doc.update(contentChanges, t.version ?? doc.version + 1);
      ws.changed();
      schedule(doc.path);
    }),
  );
  connection.onDidCloseTextDocument(
    safe("didClose", undefined, ({ textDocument: t }) => {
      const path = pathOf(t.uri);
      debounce.cancel(path);
      checked.delete(path);
      ws.close(path);
      void connection.sendDiagnostics({ uri: t.uri, diagnostics: [] });
      // Documents that import it now read it from disk.
      for (const [p, c] of checked) if (c.files.includes(path)) schedule(p);
    }),
  );

  connection.onHover(safe("hover", null, ({ textDocument, position }) => {
    const doc = docAt(textDocument.uri);
    return doc ? hover(ws, doc, doc.lines.offsetAt(position)) : null;
  }));
  connection.onCompletion(safe("completion", [], ({ textDocument, position }) => {
    const doc = docAt(textDocument.uri);
    return doc ? complete(ws, doc, doc.lines.offsetAt(position)) : [];
  }));
  connection.onSignatureHelp(safe("signatureHelp", null, ({ textDocument, position }) => {
    const doc = docAt(textDocument.uri);
    return doc ? signatureHelp(ws, doc, doc.lines.offsetAt(position)) : null;
  }));
  connection.onDefinition(safe("definition", null, ({ textDocument, position }) => {
    const doc = docAt(textDocument.uri);
    return doc ? definition(ws, doc, doc.lines.offsetAt(position)) : null;
  }));
  connection.onReferences(safe("references", [], ({ textDocument, position, context }) => {
    const doc = docAt(textDocument.uri);
    return doc ? references(ws, doc, doc.lines.offsetAt(position), roots, context.includeDeclaration) : [];
  }));
  connection.onPrepareRename(safe("prepareRename", null, ({ textDocument, position }) => {
    const doc = docAt(textDocument.uri);
    return doc ? prepareRename(ws, doc, doc.lines.offsetAt(position)) : null;
  }));
  connection.onRenameRequest(safe("rename", null, ({ textDocument, position, newName }) => {
    const doc = docAt(textDocument.uri);
    return doc ? rename(ws, doc, doc.lines.offsetAt(position), newName, roots) : null;
  }));
  connection.onDocumentSymbol(safe("documentSymbol", [], ({ textDocument }) => {
    const doc = docAt(textDocument.uri);
    return doc ? documentSymbols(ws, doc) : [];
  }));
  connection.onDocumentFormatting(safe("formatting", [], ({ textDocument }) => {
    const doc = docAt(textDocument.uri);
    return doc ? formatDocument(doc) : [];
  }));
  connection.languages.semanticTokens.on(safe("semanticTokens", { data: [] }, ({ textDocument }) => {
    const doc = docAt(textDocument.uri);
    return doc ? semanticTokens(ws, doc) : { data: [] };
  }));
  connection.onCodeAction(safe("codeAction", [], ({ textDocument, context }) => {
    const doc = docAt(textDocument.uri);
    return doc ? quickFixes(doc, context.diagnostics) : [];
  }));

  connection.listen();
}

