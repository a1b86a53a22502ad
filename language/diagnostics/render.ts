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
 * Notes say why or what else is known; a `help` line gives the fix, with the
 * code to write, where it is known.
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
  for (const help of d.help) lines.push(`  = help: ${help}`);
  return lines.join("\n");
}

/** At most this many diagnostics of one file are shown; the others are counted in a last line. */
export const MAX_DIAGNOSTICS_PER_FILE = 100;

/**
 * Renders a list of diagnostics separated by blank lines. Past
 * `perFile` diagnostics of one file, the rest of that file's are only
 * counted, so a file of random bytes gives a screenful, not megabytes.
 */
export function renderDiagnostics(ds: readonly Diagnostic[], perFile = MAX_DIAGNOSTICS_PER_FILE): string {
  const blocks: string[] = [];
  const shown = new Map<string, number>();
  const hidden = new Map<string, { errors: number; others: number }>();
  for (const d of ds) {
    const file = d.source.name;
    const count = shown.get(file) ?? 0;
    if (count < perFile) {
      shown.set(file, count + 1);
      blocks.push(renderDiagnostic(d));
      continue;
    }
    const h = hidden.get(file) ?? { errors: 0, others: 0 };
    if (d.severity === "error") h.errors++;
    else h.others++;
    hidden.set(file, h);
  }
  for (const [file, h] of hidden) {
    const parts = [h.errors > 0 ? count(h.errors, "more error") : "", h.others > 0 ? count(h.others, "more warning") : ""];
    blocks.push(`${file}: ${parts.filter(Boolean).join(" and ")} not shown (at most ${perFile} diagnostics are shown per file)`);
  }
  return blocks.join("\n\n");
}

/** `1 more error`, `52,067 more errors`. */
function count(n: number, noun: string): string {
  return `${n.toLocaleString("en-US")} ${noun}${n === 1 ? "" : "s"}`;
}

/** The widest source text a code frame shows; a longer line is cut to a window around the caret. */
export const MAX_FRAME_WIDTH = 100;

/** How many columns a window keeps before the caret, to show what leads up to it. */
const FRAME_LEAD = 30;

/** The source line of a span's start and a caret line under the span. */
export function codeFrame(source: Source, span: Span): string[] {
  const start = source.position(span.start);
  const end = source.position(Math.max(span.start, span.end));
  const line = source.lineText(start.line);
  const gutter = String(start.line);
  const pad = " ".repeat(gutter.length);
  // Underline to the end of the span, or to the end of the line if it spans several.
  const lastCol = end.line === start.line ? end.column : line.length + 1;
  let caretStart = Math.min(start.column - 1, line.length);
  let width = Math.max(1, lastCol - start.column);
  // A long line shows a window around the caret, with '…' where it was cut.
  let from = 0;
  let to = line.length;
  if (line.length > MAX_FRAME_WIDTH) {
    from = Math.max(0, Math.min(caretStart - FRAME_LEAD, line.length - MAX_FRAME_WIDTH));
    to = from + MAX_FRAME_WIDTH;
  }
  const text = (from > 0 ? "…" : "") + line.slice(from, to).replace(/\t/g, " ") + (to < line.length ? "…" : "");
  if (from > 0 || to < line.length) {
    caretStart = caretStart - from + (from > 0 ? 1 : 0);
    width = Math.max(1, Math.min(width, text.length - caretStart));
  }
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
    help: d.help,
    related: d.related.map((r) => {
      const p = r.source.position(r.span.start);
      return { file: r.source.name, line: p.line, column: p.column, message: r.message };
    }),
  };
}
