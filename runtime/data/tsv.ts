/**
 * TSV tables (IANA `text/tab-separated-values`): a header row naming the
 * columns, then one example per row; cells are separated by tabs and hold no
 * tab or line break, so nothing is quoted. Lines end in LF or CRLF; blank
 * lines are not rows.
 */
import type { CsvTable } from "./table.js";
import { DataError } from "./errors.js";

/** Parses TSV text, or throws a DataError naming `file` and the line of a malformed row. */
export function parseTsv(text: string, file: string): CsvTable {
  const records: string[][] = [];
  const lines: number[] = [];
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  body.split("\n").forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "") return;
    records.push(line.split("\t"));
    lines.push(i + 1);
  });
  if (records.length === 0) throw new DataError(file, "is empty; a TSV source needs a header row naming its columns.", "format");
  const header = records[0]!.map((h) => h.trim());
  const rows = records.slice(1);
  rows.forEach((row, k) => {
    if (row.length !== header.length) {
      throw new DataError(file, `line ${lines[k + 1]} has ${row.length} cells, but the header has ${header.length}.`, "format", {
        expected: `${header.length} cells`,
        actual: `${row.length} cells`,
      });
    }
  });
  return { header, rows, lines: lines.slice(1) };
}
