/**
 * CSV tables (RFC 4180): a header row naming the columns, then one example per
 * row. Cells are separated by commas; a cell in double quotes may hold commas,
 * line breaks and `""` for a quote. Lines end in LF or CRLF.
 */
import { toColumn } from "./column.js";
import { DataError, quote } from "./errors.js";
import type { Part, SourceRequest } from "./part.js";
import { fieldSize, type FieldSpec } from "./spec.js";
import type { Column, Vocabulary } from "./split.js";
import type { CsvTable } from "./table.js";
import { isTextColumn, textColumn } from "./text-table.js";

export type { CsvTable };

/** Parses CSV text, or throws a DataError naming `file` and the line of a malformed row. */
export function parseCsv(text: string, file: string): CsvTable {
  const records: string[][] = [];
  const lines: number[] = [];
  let line = 1;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < text.length) {
    const start = line;
    const record: string[] = [];
    for (;;) {
      let cell = "";
      if (text[i] === '"') {
        const open = line;
        i++;
        for (;;) {
          if (i >= text.length) throw new DataError(file, `line ${open}: a quoted cell is never closed.`, "format");
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === "\n") line++;
          cell += c;
          i++;
        }
        const next = text[i];
        if (next !== undefined && next !== "," && next !== "\n" && !(next === "\r" && text[i + 1] === "\n")) {
          throw new DataError(file, `line ${line}: a quoted cell is followed by ${JSON.stringify(next)}, not by a comma or the end of the line.`, "format");
        }
      } else {
        const begin = i;
        while (i < text.length && text[i] !== "," && text[i] !== "\n" && !(text[i] === "\r" && text[i + 1] === "\n")) {
          if (text[i] === '"') throw new DataError(file, `line ${line}: a quote inside an unquoted cell; quote the whole cell and double the quote.`, "format");
          i++;
        }
        cell = text.slice(begin, i);
      }
      record.push(cell);
      if (text[i] === ",") {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === "\r") i++;
    if (text[i] === "\n") i++;
    // A blank line (one empty cell) is not a row.
    if (!(record.length === 1 && record[0] === "")) {
      records.push(record);
      lines.push(start);
    }
    line++;
  }
  return tableOf(records, lines, file, "CSV");
}

/**
 * Records (the first the header) as a table, with each row's line number;
 * throws a DataError naming `file` when there is no header or a row's width
 * differs from it. Shared by the CSV and TSV readers.
 */
export function tableOf(records: readonly string[][], lines: readonly number[], file: string, format: "CSV" | "TSV"): CsvTable {
  if (records.length === 0) throw new DataError(file, `is empty; a ${format} source needs a header row naming its columns.`, "format");
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

/**
 * A decimal number: an optional sign, digits with an optional decimal point
 * (`12`, `-0.5`, `.5`, `3.`), and an optional exponent (`1e-3`). Nothing else
 * JavaScript's `Number` would take: no `0x1F`, `0b1`, `0o7`, `1_000`,
 * `Infinity` or `NaN`.
 */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A CSV cell as a number, or why it is not one. Spaces and tabs around the
 * number are allowed (`1, 2, 3` is a common way to write a row); the number
 * must be decimal and within float64's range (`1e999` is refused, not read as
 * Infinity).
 */
export function decimalNumber(cell: string): number | string {
  const text = cell.replace(/^[ \t]+|[ \t]+$/g, "");
  if (text === "") return "the cell is empty";
  if (!DECIMAL.test(text)) return `${JSON.stringify(cell)} is not a decimal number`;
  const value = Number(text);
  if (!Number.isFinite(value)) return `${JSON.stringify(cell)} is beyond the range of numbers (about ±1.8e308)`;
  return value;
}

/**
 * The columns a field takes: its own name when it holds one number per example
 * (or `name_0` if that is what the header has), else `name_0 … name_{k−1}`
 * for its k elements in row-major order.
 */
export function csvColumnsOf(field: FieldSpec, header: readonly string[]): string[] {
  const k = fieldSize(field);
  if (k === 1) return [header.includes(field.name) || !header.includes(`${field.name}_0`) ? field.name : `${field.name}_0`];
  return Array.from({ length: k }, (_, j) => `${field.name}_${j}`);
}

/** Fills the target fields from a parsed CSV (or TSV) table, a text column into a `tokens` field; no split of its own. */
export function readCsvTable(request: SourceRequest, table: CsvTable): Part {
  const file = request.shown;
  const all = new Map<string, Column>();
  let vocabulary: Vocabulary | undefined;
  for (const field of request.targets) {
    if (isTextColumn(field, table)) {
      const text = textColumn(field, table, file);
      all.set(field.name, text.column);
      vocabulary ??= text.vocabulary;
      continue;
    }
    const names = csvColumnsOf(field, table.header);
    const missing = names.filter((n) => !table.header.includes(n));
    if (missing.length > 0) {
      const needs = names.length === 1 ? `a column ${quote(names[0]!)}` : `columns ${quote(names[0]!)} … ${quote(names.at(-1)!)}`;
      throw new DataError(
        file,
        `field ${quote(field.name)} needs ${needs}; the header lacks ${missing.slice(0, 5).map(quote).join(", ")}${missing.length > 5 ? ` and ${missing.length - 5} more` : ""} (it has ${table.header.map(quote).join(", ")}).`,
        "missing",
        { field: field.name, expected: names.join(", "), actual: table.header.join(", ") },
      );
    }
    const indices = names.map((n) => table.header.indexOf(n));
    const k = names.length;
    const data = new Float64Array(table.rows.length * k);
    table.rows.forEach((row, r) => {
      indices.forEach((c, j) => {
        const cell = row[c]!;
        const value = decimalNumber(cell);
        if (typeof value === "string") {
          throw new DataError(file, `line ${table.lines[r]}, column ${quote(names[j]!)} (column ${c + 1}) of field ${quote(field.name)}: ${value}.`, "value", {
            field: field.name,
            expected: "a decimal number",
            actual: cell,
          });
        }
        data[r * k + j] = value;
      });
    });
    const located = (example: number): string => `line ${table.lines[example]}`;
    all.set(field.name, toColumn(field, { file, dtype: "f64", shape: [table.rows.length, ...field.shape], data, locate: located }));
  }
  return { origin: file, provides: `the columns ${table.header.map(quote).join(", ")}`, columns: { kind: "whole", all }, ...(vocabulary ? { vocabulary } : {}) };
}
