/**
 * TSV tables (IANA `text/tab-separated-values`): a header row naming the
 * columns, then one example per row; cells are separated by tabs and hold no
 * tab or line break, so nothing is quoted. Lines end in LF or CRLF; blank
 * lines are not rows.
 */
import type { CsvTable } from "./table.js";
import { tableOf } from "./csv.js";

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
  return tableOf(records, lines, file, "TSV");
}
