/**
 * Copying a batch of examples out of a split into arrays the caller keeps
 * from step to step, so training allocates nothing per batch.
 */
import { rowSize, type Split } from "./split.js";

/**
 * Copies rows `indices` of every column of `split` into `out`, by field name:
 * row k of `out.get(name)` is example `indices[k]`. An array missing from
 * `out` is allocated (f32 or i32, indices.length rows) and stored there, so
 * the first call allocates and later calls reuse. A present array of the
 * wrong type or length, or an index out of range, is a RangeError: a broken
 * caller invariant, not a data error.
 */
export function gatherBatch(split: Split, indices: ArrayLike<number>, out: Map<string, Float32Array | Int32Array>): void {
  const n = indices.length;
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= split.length) throw new RangeError(`gatherBatch: index ${i} at position ${k} is outside 0..${split.length - 1}`);
  }
  for (const [name, column] of split.columns) {
    const row = rowSize(column);
    let target = out.get(name);
    if (target === undefined) {
      target = column.dtype === "f32" ? new Float32Array(n * row) : new Int32Array(n * row);
      out.set(name, target);
    }
    const wanted = column.dtype === "f32" ? Float32Array : Int32Array;
    if (!(target instanceof wanted) || target.length !== n * row) {
      throw new RangeError(`gatherBatch: out '${name}' must be a ${wanted.name} of ${n * row} elements, got ${target.constructor.name} of ${target.length}`);
    }
    const source = column.data;
    if (row === 1) {
      for (let k = 0; k < n; k++) target[k] = source[indices[k]!]!;
    } else {
      for (let k = 0; k < n; k++) {
        const i = indices[k]!;
        target.set(source.subarray(i * row, (i + 1) * row), k * row);
      }
    }
  }
}
