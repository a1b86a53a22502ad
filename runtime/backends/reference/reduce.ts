/**
 * The definition of reductions and of matmul: plain loops in float64.
 */
import type { DType, Shape } from "../../ir/ops.js";
import { broadcastShapes, sizeOf, stridesOf } from "../../ir/shape.js";

/** The smallest i32, the maximum of an empty i32 set. */
const I32_MIN = -(2 ** 31);

/**
 * sum or max over `axes`, which stay in the result with size 1. Sums of i32
 * values wrap to 32 bits; the maximum of nothing is −∞ (f32) or −2^31 (i32).
 */
export function reduce(
  kind: "sum" | "max",
  src: Float64Array,
  inShape: Shape,
  axes: readonly number[],
  dtype: DType,
): Float64Array {
  const outShape = inShape.map((d, i) => (axes.includes(i) ? 1 : d));
  const init = kind === "sum" ? 0 : dtype === "i32" ? I32_MIN : -Infinity;
  const out = new Float64Array(sizeOf(outShape)).fill(init);
  // An input element adds into the output element with its reduced coordinates zeroed.
  const outStrides = stridesOf(outShape).map((s, i) => (axes.includes(i) ? 0 : s));
  const rank = inShape.length;
  const index = new Array<number>(rank).fill(0);
  let o = 0;
  for (let flat = 0; flat < src.length; flat++) {
    const v = src[flat]!;
    if (kind === "sum") out[o] += v;
    else if (v > out[o]! || Number.isNaN(v)) out[o] = v;
    for (let a = rank - 1; a >= 0; a--) {
      o += outStrides[a]!;
      if (++index[a]! < inShape[a]!) break;
      o -= outStrides[a]! * inShape[a]!;
      index[a] = 0;
    }
  }
  if (dtype === "i32" && kind === "sum") for (let i = 0; i < out.length; i++) out[i] = out[i]! | 0;
  return out;
}

/**
 * Batched matrix product [..., m, k] × [..., k, n] → [..., m, n]; batch
 * dimensions broadcast (a size-1 or missing batch axis repeats).
 */
export function matmul(a: Float64Array, aShape: Shape, b: Float64Array, bShape: Shape): Float64Array {
  const [m, k] = aShape.slice(-2) as [number, number];
  const n = bShape[bShape.length - 1]!;
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch)!;
  const out = new Float64Array(sizeOf(batch) * m * n);
  const aOffsets = batchOffsets(aBatch, batch, m * k);
  const bOffsets = batchOffsets(bBatch, batch, k * n);
  for (let t = 0; t < aOffsets.length; t++) {
    const ao = aOffsets[t]!;
    const bo = bOffsets[t]!;
    const oo = t * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[ao + i * k + p]! * b[bo + p * n + j]!;
        out[oo + i * n + j] = s;
      }
    }
  }
  return out;
}

/**
 * For each batch index of the broadcast batch shape (row-major), the offset of
 * the operand's matrix, whose batch shape is right-aligned against it.
 */
function batchOffsets(own: Shape, batch: Shape, matrixSize: number): number[] {
  const lead = batch.length - own.length;
  const ownStrides = stridesOf(own);
  const offsets: number[] = [];
  const index = new Array<number>(batch.length).fill(0);
  const count = sizeOf(batch);
  for (let t = 0; t < count; t++) {
    let o = 0;
    for (let i = 0; i < own.length; i++) if (own[i] !== 1) o += index[lead + i]! * ownStrides[i]!;
    offsets.push(o * matrixSize);
    for (let a = batch.length - 1; a >= 0; a--) {
      if (++index[a]! < batch[a]!) break;
      index[a] = 0;
    }
  }
  return offsets;
}
