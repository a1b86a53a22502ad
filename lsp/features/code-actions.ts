/**
 * Quick fixes: for a diagnostic whose note asks "did you mean ...?", one
 * fix per name it offers, replacing the misspelt name.
 */
import { CodeActionKind, type CodeAction, type Diagnostic } from "vscode-languageserver";
import type { Document } from "../documents.js";
import { suggestionsIn, type DiagnosticData } from "./diagnostics.js";

/** The quick fixes for the diagnostics a client sends with a code action request. */
export function quickFixes(doc: Document, diagnostics: readonly Diagnostic[]): CodeAction[] {
  const actions: CodeAction[] = [];
  for (const d of diagnostics) {
    if (d.source !== "repr") continue;
    const data = d.data as Partial<DiagnosticData> | undefined;
    const names = data?.suggestions ?? suggestionsIn((typeof d.message === "string" ? d.message : d.message.value).split("\n").filter((l: string) => l.startsWith("note: ")).map((l: string) => l.slice(6)));
    const start = doc.lines.offsetAt(d.range.start);
    const end = doc.lines.offsetAt(d.range.end);
    // Only where the diagnostic points at a single name.
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(doc.text.slice(start, end))) continue;
    names.forEach((name, i) => {
      actions.push({
        title: `Change to '${name}'`,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: i === 0,
        edit: { changes: { [doc.uri]: [{ range: d.range, newText: name }] } },
      });
    });
  }
  return actions;
}
