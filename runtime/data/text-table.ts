/**
 * Text in a table (spec/data.md, "Text in tables"): a `tokens(length: L,
 * vocab: V)` field filled from the CSV or TSV column of its name, one text
 * per row, so that a label column beside it can feed a text classifier.
 *
 * Each row's text is read as characters, with one vocabulary for the whole
 * table (counted over every row, as a corpus's is over the whole corpus).
 * An example is the field's `cls` token, if it reserves one, then the
 * text's first characters; a shorter text is filled up with its `pad`
 * token, and one that would need padding without a `pad` token is an error
 * naming the row.
 */
import { DataError, quote } from "./errors.js";
import type { CsvTable } from "./table.js";
import { specialIdOf, type FieldSpec } from "./spec.js";
import type { Column, Vocabulary } from "./split.js";
import { realVocab, specialTokenName, tokenizeChars } from "./text.js";

/** Whether a field is filled from a text column: a `tokens` field whose name is a column of the table. */
export function isTextColumn(field: FieldSpec, table: CsvTable): boolean {
  return field.kind === "tokens" && table.header.includes(field.name);
}

/** The column of a `tokens` field from its text column, and the table's vocabulary. */
export function textColumn(field: FieldSpec, table: CsvTable, file: string): { column: Column; vocabulary: Vocabulary } {
  const c = table.header.indexOf(field.name);
  const texts = table.rows.map((row) => Array.from(row[c]!));
  const { real, special } = realVocab(field);
  // One vocabulary for the table: the characters of every row, in row order.
  const all = tokenizeChars(texts.map((t) => t.join("")).join(""), real);
  const length = field.shape[0]!;
  const [cls, pad] = [specialIdOf(field, "cls"), specialIdOf(field, "pad")];
  const room = cls === null ? length : length - 1;
  const data = new Int32Array(table.rows.length * length);
  let offset = 0;
  texts.forEach((chars, r) => {
    const ids = all.ids.subarray(offset, offset + chars.length);
    offset += chars.length;
    const row = data.subarray(r * length, (r + 1) * length);
    let k = 0;
    if (cls !== null) row[k++] = cls;
    row.set(ids.subarray(0, room), k);
    if (ids.length < room) {
      if (pad === null) {
        throw new DataError(
          file,
          `line ${table.lines[r]}, column ${quote(field.name)}: the text has ${chars.length} characters, fewer than the ${room} field ${quote(field.name)} holds; reserve a pad token (special: [pad]) to fill the rest.`,
          "value",
          { field: field.name, expected: `${room} characters`, actual: `${chars.length}` },
        );
      }
      row.fill(pad, k + ids.length);
    }
  });
  const vocabulary: Vocabulary = { kind: "chars", tokens: [...all.vocabulary.tokens, ...special.map(specialTokenName)] };
  return { column: { dtype: "i32", shape: field.shape, data }, vocabulary };
}
