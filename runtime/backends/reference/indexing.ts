/**
 * The definition of gather, scatter_add and argsort: indexing along one axis.
 *
 * All three see a tensor as [outer, size, inner] around the axis. An index
 * outside 0..size−1 is a broken program, not a value: the reference backend
 * throws a RangeError naming it (other backends may clamp instead).
 */
import type { Shape } from "../../ir/ops.js";
import { sizeOf } from "../../ir/shape.js";

/** The [outer, size, inner] view of a shape around `axis`. */
function around(shape: Shape, axis: number): [outer: number, size: number, inner: number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

function checkIndex(op: string, i: number, size: number, axis: number): void {
  if (!(i >= 0 && i < size)) throw new RangeError(`${op}: index ${i} is out of range 0..${size - 1} of axis ${axis}`);
}

/** out[o, j, i] = x[o, idx[o, j, i], i]: PyTorch's `gather` (NumPy's `take_along_axis`). */
export function gather(x: Float64Array, xShape: Shape, idx: Float64Array, idxShape: Shape, axis: number): Float64Array {
  const [outer, size] = around(xShape, axis);
  const [, count, inner] = around(idxShape, axis);
  const out = new Float64Array(idx.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      for (let i = 0; i < inner; i++) {
        const at = (o * count + j) * inner + i;
        const k = idx[at]!;
        checkIndex("gather", k, size, axis);
        out[at] = x[(o * size + k) * inner + i]!;
      }
    }
  }
  return out;
}

/** `target` with updates[o, j, i] added at target[o, idx[o, j, i], i]; repeated indices accumulate. */
export function scatterAdd(
  target: Float64Array,
  targetShape: Shape,
  idx: Float64Array,
  idxShape: Shape,
  updates: Float64Array,
  axis: number,
  wrapI32: boolean,
): Float64Array {
  const out = target.slice();
  const [outer, size] = around(targetShape, axis);
  const [, count, inner] = around(idxShape, axis);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      for (let i = 0; i < inner; i++) {
        const at = (o * count + j) * inner + i;
        const k = idx[at]!;
        checkIndex("scatter_add", k, size, axis);
        const t = (o * size + k) * inner + i;
        out[t] = wrapI32 ? (out[t]! + updates[at]!) | 0 : out[t]! + updates[at]!;
      }
    }
  }
  return out;
}

/**
 * The indices that sort each line along `axis`: stable (equal values keep
 * their order), ascending or descending; NaN counts as larger than +∞.
 */
export function argsort(x: Float64Array, shape: Shape, axis: number, descending: boolean): Float64Array {
  const [outer, size, inner] = around(shape, axis);
  const out = new Float64Array(x.length);
  const order = new Array<number>(size);
  const key = (v: number): number => (Number.isNaN(v) ? Infinity : v);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (j: number): number => (o * size + j) * inner + i;
      for (let j = 0; j < size; j++) order[j] = j;
      order.sort((p, q) => {
        const [a, b] = [x[at(p)]!, x[at(q)]!];
        const c = key(a) - key(b) || (Number.isNaN(a) ? 1 : 0) - (Number.isNaN(b) ? 1 : 0);
        // Stable by construction: ties fall back to the original position.
        return (descending ? -c : c) || p - q;
      });
      for (let j = 0; j < size; j++) out[at(j)] = order[j]!;
    }
  }
  return out;
}
