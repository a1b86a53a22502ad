import type { Diagnostic } from "./diagnostic.js";
import type { Source } from "../source.js";
import type { Span } from "../ast.js";

/**
 * Renders diagnostics the way compilers do:
 *
 *     model.repr:3:15: error RC201: unknown layer 'dense2'
 *       3 |   encoder f = dense2(32)
 *         |               ^^^^^^
 *       = note: did you mean 'dense'?
 *
 * One renderer serves the CLI, the golden tests and the language server.
 */
export function renderDiagnostic(d: Diagnostic): string {
  const { line, column } = d.source.position(d.span.start);
  const lines = [`${d.source.name}:${line}:${column}: ${d.severity} ${d.code}: ${d.message}`];
  lines.push(...codeFrame(d.source, d.span));
  for (const rel of d.related) {
    const p = rel.source.position(rel.span.start);
    lines.push(`  = ${rel.source.name}:${p.line}:${p.column}: ${rel.message}`);
    lines.push(...codeFrame(rel.source, rel.span));
  }
  for (const note of d.notes) lines.push(`  = note: ${note}`);
  return lines.join("\n");
}

/** Renders a list of diagnostics separated by blank lines. */
export function renderDiagnostics(ds: readonly Diagnostic[]): string {
  return ds.map(renderDiagnostic).join("\n\n");
}

/** The source line of a span's start and a caret line under the span. */
export function codeFrame(source: Source, span: Span): string[] {
  const start = source.position(span.start);
  const end = source.position(Math.max(span.start, span.end));
  const text = source.lineText(start.line).replace(/\t/g, " ");
  const gutter = String(start.line);
  const pad = " ".repeat(gutter.length);
  // Underline to the end of the span, or to the end of the line if it spans several.
  const lastCol = end.line === start.line ? end.column : text.length + 1;
  const width = Math.max(1, lastCol - start.column);
  const caretStart = Math.min(start.column - 1, text.length);
  return [
    `  ${gutter} | ${text}`,
    `  ${pad} | ${" ".repeat(caretStart)}${"^".repeat(width)}`,
  ];
}

/** A JSON-friendly form of a diagnostic, for `--json`. */
export function diagnosticToJson(d: Diagnostic): Record<string, unknown> {
  const start = d.source.position(d.span.start);
  const end = d.source.position(d.span.end);
  return {
    file: d.source.name,
    line: start.line,
    column: start.column,
    endLine: end.line,
    endColumn: end.column,
    severity: d.severity,
    code: d.code,
    message: d.message,
    notes: d.notes,
    related: d.related.map((r) => {
      const p = r.source.position(r.span.start);
      return { file: r.source.name, line: p.line, column: p.column, message: r.message };
    }),
  };
}
