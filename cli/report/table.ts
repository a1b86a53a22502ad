import { formatSignificant } from "./format.js";

/**
 * Formats rows as an aligned plain-text table, such as the metrics report with
 * one column per phase: a header line, a rule of dashes, then the rows.
 * Columns are separated by two spaces. Numbers are right-aligned so that their
 * digits line up; integers are written in full and other numbers with four
 * significant digits (see {@link formatSignificant}); strings are left-aligned.
 * Short rows are padded with empty cells; a numeric column may hold "" or "-"
 * for a metric a phase lacks. Trailing spaces are trimmed, so the
 * output is stable in golden files.
 */
export function formatTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const columns = Math.max(header.length, ...rows.map((r) => r.length));
  const cells = rows.map((row) => Array.from({ length: columns }, (_, i) => formatCell(row[i])));
  // A column is numeric when it holds numbers and, besides them, at most
  // placeholders for missing values ("", "-"); its header and placeholders are
  // then right-aligned with the numbers.
  const numeric = Array.from(
    { length: columns },
    (_, i) => rows.some((r) => typeof r[i] === "number") && rows.every((r) => typeof r[i] === "number" || isPlaceholder(r[i])),
  );
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max((header[i] ?? "").length, ...cells.map((r) => r[i]!.text.length)),
  );
  const line = (texts: readonly string[], right: (i: number) => boolean): string =>
    texts
      .map((t, i) => (right(i) ? t.padStart(widths[i]!) : t.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const headerTexts = Array.from({ length: columns }, (_, i) => header[i] ?? "");
  return [
    line(headerTexts, (i) => numeric[i]!),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.map((r) => line(r.map((c) => c.text), (i) => r[i]!.number || numeric[i]!)),
  ].join("\n");
}

function isPlaceholder(value: string | number | undefined): boolean {
  return value === undefined || value === "" || value === "-";
}

function formatCell(value: string | number | undefined): { text: string; number: boolean } {
  if (value === undefined) return { text: "", number: false };
  if (typeof value === "string") return { text: value, number: false };
  const text = Number.isInteger(value) && Math.abs(value) < 1e15 ? String(value) : formatSignificant(value);
  return { text, number: true };
}
