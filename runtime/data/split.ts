/**
 * Splits and data sets in memory: one typed array per field, examples along
 * the first axis, in a fixed order.
 */
import { shapeSize } from "./spec.js";

/** One field's values for every example of a split: `data.length = length · prod(shape)`. */
export interface Column {
  readonly dtype: "f32" | "i32";
  /** Per-example shape. */
  readonly shape: readonly number[];
  /** Row-major, example after example. Treat as read-only: columns may share memory with caches. */
  readonly data: Float32Array | Int32Array;
}

/** A finite sequence of examples: `d.train` or `d.test`. */
export interface Split {
  /** Where it came from, for messages: a file path or "mnist package". */
  readonly origin: string;
  readonly length: number;
  /** By field name, in declaration order. */
  readonly columns: ReadonlyMap<string, Column>;
}

/**
 * The tokens of a text corpus by id, so a run can save them beside its
 * checkpoint: `tokens[id]` is the character or word of that id. Ids that no
 * token has are `""`; the "other" id, where there is one, is `"\uFFFD"`
 * (characters) or `"<other>"` (words). See spec/data.md, "Text corpora".
 */
export interface Vocabulary {
  readonly kind: "chars" | "words";
  readonly tokens: readonly string[];
}

/** A loaded data set: both splits, where they came from, and a text corpus's vocabulary. */
export interface Dataset {
  readonly name: string;
  readonly train: Split;
  readonly test: Split;
  readonly origin: string;
  readonly vocabulary?: Vocabulary;
}

/** The number of elements of one example of a column. */
export function rowSize(column: Column): number {
  return shapeSize(column.shape);
}

/** The number of examples a column holds. */
export function columnLength(column: Column): number {
  const row = rowSize(column);
  return row === 0 ? 0 : column.data.length / row;
}

/** Rows `start .. end − 1` of a column, sharing its memory. */
export function sliceColumn(column: Column, start: number, end: number): Column {
  const row = rowSize(column);
  return { dtype: column.dtype, shape: column.shape, data: column.data.subarray(start * row, end * row) };
}

/** The rows `indices` of a column, in that order, copied into a new column. */
export function takeColumn(column: Column, indices: ArrayLike<number>): Column {
  const row = rowSize(column);
  const data = column.dtype === "f32" ? new Float32Array(indices.length * row) : new Int32Array(indices.length * row);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (row === 1) data[k] = column.data[i]!;
    else data.set(column.data.subarray(i * row, (i + 1) * row), k * row);
  }
  return { dtype: column.dtype, shape: column.shape, data };
}

/**
 * The number of examples in the first 80% of `n`: floor(4n / 5), in integers
 * so no rounding of 0.8 · n can move the boundary. Sources without a split of
 * their own use it (spec/data.md, "Sources").
 */
export function trainCount(n: number): number {
  return Math.floor((n * 4) / 5);
}
