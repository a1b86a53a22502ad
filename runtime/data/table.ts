/**
 * A table as CSV and TSV files hold it (csv.ts, tsv.ts): what the readers of
 * its columns share.
 */

/** A parsed table: the header, the rows, and the line each row starts on (1-based). */
export interface CsvTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly lines: readonly number[];
}
