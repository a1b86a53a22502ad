/**
 * The definition of the movement ops. Each output element reads one input
 * element (or a pad value), found from row-major strides; nothing here is
 * clever, so it can serve as the oracle.
 */
import type { Shape } from "../../ir/ops.js";
import { sizeOf, stridesOf } from "../../ir/shape.js";

/**
 * out[o] = src[base + Σ o_i · strides_i] for every multi-index o of `shape`:
 * the one access pattern behind permute, expand and slice.
 */
export function strided(src: Float64Array, shape: Shape, strides: readonly number[], base = 0): Float64Array {
  const out = new Float64Array(sizeOf(shape));
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let offset = base;
  for (let flat = 0; flat < out.length; flat++) {
    out[flat] = src[offset]!;
    // Odometer increment, keeping `offset` in step with `index`.
    for (let a = rank - 1; a >= 0; a--) {
      offset += strides[a]!;
      if (++index[a]! < shape[a]!) break;
      offset -= strides[a]! * shape[a]!;
      index[a] = 0;
    }
  }
  return out;
}

/** reshape: the same row-major data. */
export function reshape(src: Float64Array): Float64Array {
  return src.slice();
}

/** permute: output axis i is input axis perm[i]. */
export function permute(src: Float64Array, inShape: Shape, perm: readonly number[]): Float64Array {
  const strides = stridesOf(inShape);
  return strided(
    src,
    perm.map((p) => inShape[p]!),
    perm.map((p) => strides[p]!),
  );
}

/** expand: size-1 input axes repeat (stride 0). */
export function expand(src: Float64Array, inShape: Shape, outShape: Shape): Float64Array {
  const strides = stridesOf(inShape).map((s, i) => (inShape[i] === 1 && outShape[i] !== 1 ? 0 : s));
  return strided(src, outShape, strides);
}

/** slice: per axis, elements start, start + step, … below end. */
export function slice(
  src: Float64Array,
  inShape: Shape,
  outShape: Shape,
  starts: readonly number[],
  steps: readonly number[],
): Float64Array {
  const strides = stridesOf(inShape);
  const base = starts.reduce((sum, s, i) => sum + s * strides[i]!, 0);
  return strided(
    src,
    outShape,
    strides.map((s, i) => s * steps[i]!),
    base,
  );
}

/** pad: input element i of an axis lands at lo + i · (interior + 1); the rest is `value`. */
export function pad(
  src: Float64Array,
  inShape: Shape,
  outShape: Shape,
  lo: readonly number[],
  interior: readonly number[],
  value: number,
): Float64Array {
  const out = new Float64Array(sizeOf(outShape)).fill(value);
  const outStrides = stridesOf(outShape);
  const base = lo.reduce((sum, l, i) => sum + l * outStrides[i]!, 0);
  const step = outStrides.map((s, i) => s * (interior[i]! + 1));
  const rank = inShape.length;
  const index = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < src.length; flat++) {
    let o = base;
    for (let a = 0; a < rank; a++) o += index[a]! * step[a]!;
    out[o] = src[flat]!;
    for (let a = rank - 1; a >= 0; a--) {
      if (++index[a]! < inShape[a]!) break;
      index[a] = 0;
    }
  }
  return out;
}

/** concat: operands one after another along `axis`. */
export function concat(srcs: readonly Float64Array[], shapes: readonly Shape[], outShape: Shape, axis: number): Float64Array {
  const out = new Float64Array(sizeOf(outShape));
  // Rows before the axis are `outer`; each operand contributes a block of dim·inner per row.
  const outer = sizeOf(outShape.slice(0, axis));
  const inner = sizeOf(outShape.slice(axis + 1));
  const rowLength = outShape[axis]! * inner;
  let column = 0;
  srcs.forEach((src, k) => {
    const block = shapes[k]![axis]! * inner;
    for (let r = 0; r < outer; r++) out.set(src.subarray(r * block, (r + 1) * block), r * rowLength + column);
    column += block;
  });
  return out;
}
