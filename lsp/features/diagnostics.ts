/**
 * Diagnostics as the protocol carries them: the checker's code, span,
 * severity and message; its notes as further lines of the message (as
 * `repr check` prints them); its related spans as related information; and
 * the names a "did you mean" note offers, for quick fixes.
 */
import type { Diagnostic as LspDiagnostic, DiagnosticRelatedInformation } from "vscode-languageserver";
import { pathToFileURL } from "node:url";
import type { Diagnostic } from "../../language/diagnostics/diagnostic.js";
import type { Source } from "../../language/source.js";
import type { Span } from "../../language/ast.js";
import { pathOfSourceName } from "../workspace.js";

/** What a quick fix needs from a diagnostic. */
export interface DiagnosticData {
  /** The names a "did you mean" note offers, best first. */
  readonly suggestions: readonly string[];
}

/** The names in a note such as `did you mean 'dense'?` or `did you mean 'a', 'b' or 'c'?`. */
export function suggestionsIn(notes: readonly string[]): string[] {
  for (const note of notes) {
    const m = /^did you mean (.*)\?$/.exec(note);
    if (m) return [...m[1]!.matchAll(/'([^']*)'/g)].map((x) => x[1]!);
  }
  return [];
}

/** The protocol range of a span of a source. */
export function sourceRange(source: Source, span: Span): LspDiagnostic["range"] {
  const a = source.position(span.start);
  const b = source.position(span.end);
  return { start: { line: a.line - 1, character: a.column - 1 }, end: { line: b.line - 1, character: b.column - 1 } };
}

/** The file URI of a source (the bundled standard library's files included). */
export function sourceUri(source: Source): string {
  return pathToFileURL(pathOfSourceName(source.name)).href;
}

/** One checker diagnostic for the protocol. */
export function toLspDiagnostic(d: Diagnostic): LspDiagnostic {
  const related: DiagnosticRelatedInformation[] = d.related.map((r) => ({
    location: { uri: sourceUri(r.source), range: sourceRange(r.source, r.span) },
    message: r.message,
  }));
  const data: DiagnosticData = { suggestions: suggestionsIn(d.notes) };
  return {
    range: sourceRange(d.source, d.span),
    severity: d.severity === "error" ? 1 : d.severity === "warning" ? 2 : 3,
    code: d.code,
    source: "repr",
    message: [d.message, ...d.notes.map((n) => `note: ${n}`)].join("\n"),
    ...(related.length > 0 ? { relatedInformation: related } : {}),
    data,
  };
}
