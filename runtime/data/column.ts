/**
 * From what a file holds to a field's column: the one place that checks an
 * array against a field (shape, element type, value range) and converts it.
 */
import { DataError, quote } from "./errors.js";
import { describeField, idLimit, shapeSize, type FieldSpec } from "./spec.js";
import type { Column } from "./split.js";

/** The element types sources read: IDX, npy, CSV (as f64) and PNG (as f32). */
export type RawDtype = "f32" | "f64" | "u8" | "i8" | "u16" | "i16" | "i32" | "i64";

/** An array as a file holds it: examples along the first axis. */
export interface RawArray {
  /** The file, as the user named it, for messages. */
  readonly file: string;
  readonly dtype: RawDtype;
  /** The whole shape, examples first. */
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
  /** Where example `i` is, for messages (`line 7`, a PNG's path); `example i` when absent. */
  readonly locate?: (example: number) => string;
}

/** `u8[28, 28]`: a dtype and a shape as messages print them. */
export function describeArray(dtype: RawDtype, shape: readonly number[]): string {
  return `${dtype}[${shape.join(", ")}]`;
}

/** The shape without its axes of size 1: two shapes that agree on it hold the same elements in the same order. */
function squeeze(shape: readonly number[]): number[] {
  return shape.filter((d) => d !== 1);
}

function sameSqueezed(a: readonly number[], b: readonly number[]): boolean {
  const x = squeeze(a);
  const y = squeeze(b);
  return x.length === y.length && x.every((d, i) => d === y[i]);
}

/**
 * The column of `field` from `raw`, or a DataError naming the file and field.
 *
 * - The per-example shape must equal the field's once axes of size 1 are
 *   dropped: `[28, 28]` fills `f32[1, 28, 28]`, `[n, 1]` fills a label. Equal
 *   element counts alone are not enough: `[28, 28, 3]` does not fill
 *   `f32[3, 28, 28]`, because its elements are in another order.
 * - `f32` fields take any element type; 8-bit unsigned data (`u8`: IDX ubyte,
 *   npy `|u1`) is pixels and is scaled by 1/255. Every value must be finite.
 * - `label`, `token` and `tokens` fields take integers in [0, classes) or
 *   [0, vocab); floats are accepted when they hold integers.
 */
export function toColumn(field: FieldSpec, raw: RawArray): Column {
  const perExample = raw.shape.slice(1);
  if (raw.shape.length === 0 || !sameSqueezed(perExample, field.shape)) {
    const held = raw.shape.length === 0 ? `a scalar ${raw.dtype}, with no examples axis` : describeArray(raw.dtype, perExample);
    const expected = describeField(field);
    const per = field.kind === "f32" || field.kind === "tokens" ? "" : " (one integer)";
    throw new DataError(raw.file, `field ${quote(field.name)} expects ${expected}${per} per example, the file holds ${held}.`, "shape", {
      field: field.name,
      expected,
      actual: held,
    });
  }
  const n = raw.shape[0]!;
  const row = shapeSize(field.shape);
  const where = (element: number): string => {
    const example = Math.floor(element / row);
    const at = raw.locate ? raw.locate(example) : `example ${example}`;
    return row === 1 ? at : `${at}, element ${element - example * row}`;
  };
  if (field.kind === "f32") {
    const data = new Float32Array(n * row);
    const scale = raw.dtype === "u8" ? 1 / 255 : 1;
    for (let i = 0; i < data.length; i++) {
      const v = raw.data[i]! * scale;
      if (!Number.isFinite(v)) {
        throw new DataError(raw.file, `field ${quote(field.name)} holds ${v} at ${where(i)}; f32 data must be finite.`, "value", {
          field: field.name,
          expected: "finite values",
          actual: String(v),
        });
      }
      data[i] = v;
    }
    return { dtype: "f32", shape: field.shape, data };
  }
  const limit = idLimit(field);
  const data = new Int32Array(n * row);
  for (let i = 0; i < data.length; i++) {
    const v = raw.data[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= limit) {
      const why = Number.isInteger(v) ? `outside 0..${limit - 1}` : "not an integer";
      const expected = describeField(field);
      throw new DataError(raw.file, `field ${quote(field.name)} expects ${expected}, but ${where(i)} holds ${v}, ${why}.`, "value", {
        field: field.name,
        expected,
        actual: String(v),
      });
    }
    data[i] = v;
  }
  return { dtype: "i32", shape: field.shape, data };
}
