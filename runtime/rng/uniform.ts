import { blockOf, checkIndices, checkStream, drawBlock, laneOf, LANES } from "./block.js";
import { philoxInto, type U32 } from "./philox.js";
import { fillEither } from "./fill.js";

/**
 * Uniform numbers in [0, 1) from the shared counter-based generator. A value is
 * the top 24 bits of one Philox word times 2^-24: a multiple of 2^-24 below 1,
 * which float32 and float64 both hold exactly, so every backend sees the same
 * number, bit for bit. See spec/random.md.
 */

/** The spacing of uniform values: 2^-24, the resolution a float32 holds in [0, 1). */
export const UNIFORM_STEP = 2 ** -24;

/** Scratch words for one Philox block; the functions here never call out while using it. */
const words = new Uint32Array(LANES);

/** The uniform value of one Philox word: (bits >>> 8) · 2^-24, in [0, 1 − 2^-24]. */
export function uniformFromBits(bits: U32): number {
  return (bits >>> 8) * UNIFORM_STEP;
}

/**
 * The raw Philox word of element `index` of the stream (seed, stream, step):
 * lane index mod 4 of block floor(index / 4). For integer draws and sort keys.
 */
export function bitsAt(seed: U32, stream: U32, index: number, step: U32 = 0): U32 {
  checkStream(seed, stream, step);
  checkIndices(index, 1);
  drawBlock(seed, stream, step, blockOf(index), words);
  return words[laneOf(index)]!;
}

/** Element `index` of the stream (seed, stream, step) as a uniform number in [0, 1). */
export function uniformAt(seed: U32, stream: U32, index: number, step: U32 = 0): number {
  return uniformFromBits(bitsAt(seed, stream, index, step));
}

export { WASM_FILL_MIN } from "./fill.js";

/**
 * Fills `out` with elements `offset .. offset + out.length − 1` of the stream
 * (seed, stream, step): `out[j] = uniformAt(seed, stream, offset + j, step)`
 * exactly, in WebAssembly SIMD where the engine has it (`rng/wasm.ts`, the
 * same numbers bit for bit), else by `fillUniformJs`.
 */
export function fillUniform<T extends Float32Array | Float64Array>(
  out: T,
  seed: U32,
  stream: U32,
  offset: number = 0,
  step: U32 = 0,
): T {
  return fillEither("uniform", fillUniformJs, out, seed, stream, offset, step);
}

/**
 * `fillUniform` in JavaScript, with one Philox call per four elements and no
 * allocation: the fallback where there is no WebAssembly SIMD, and what the
 * WebAssembly is checked against.
 */
export function fillUniformJs<T extends Float32Array | Float64Array>(
  out: T,
  seed: U32,
  stream: U32,
  offset: number = 0,
  step: U32 = 0,
): T {
  checkStream(seed, stream, step);
  checkIndices(offset, out.length);
  const n = out.length;
  let block = blockOf(offset);
  let lane = laneOf(offset);
  let j = 0;
  while (j < n) {
    // drawBlock, inlined by hand: the extra call level halves the speed in V8.
    philoxInto(block >>> 0, Math.floor(block / 0x1_0000_0000), step, 0, seed, stream, words);
    for (; lane < LANES && j < n; lane++, j++) out[j] = (words[lane]! >>> 8) * UNIFORM_STEP;
    lane = 0;
    block++;
  }
  return out;
}

/**
 * Fills `out` with the raw Philox words of elements `offset .. offset +
 * out.length − 1` of the stream: `out[j] = bitsAt(seed, stream, offset + j,
 * step)`, for integer draws and sort keys, in WebAssembly SIMD where the
 * engine has it, else by `fillBitsJs`.
 */
export function fillBits(out: Uint32Array, seed: U32, stream: U32, offset: number = 0, step: U32 = 0): Uint32Array {
  return fillEither("bits", fillBitsJs, out, seed, stream, offset, step);
}

/** `fillBits` in JavaScript, one Philox call per four elements. */
export function fillBitsJs(out: Uint32Array, seed: U32, stream: U32, offset: number = 0, step: U32 = 0): Uint32Array {
  checkStream(seed, stream, step);
  checkIndices(offset, out.length);
  const n = out.length;
  let block = blockOf(offset);
  let lane = laneOf(offset);
  let j = 0;
  while (j < n) {
    philoxInto(block >>> 0, Math.floor(block / 0x1_0000_0000), step, 0, seed, stream, words);
    for (; lane < LANES && j < n; lane++, j++) out[j] = words[lane]!;
    lane = 0;
    block++;
  }
  return out;
}

/**
 * `p` rounded to the nearest multiple of 2^-24, the grid uniform values lie on.
 * Compare `u < quantizeProbability(p)` rather than `u < p`: the rounded value
 * is exact in float32, so the comparison decides the same way on every backend
 * (with `p` itself, float32(p) and float64(p) can fall on either side of a `u`).
 * An event `u < q` then has probability exactly q.
 */
export function quantizeProbability(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`a probability must be in [0, 1], got ${p}`);
  return Math.round(p / UNIFORM_STEP) * UNIFORM_STEP;
}

/**
 * Whether element `index` of the stream falls below probability `p` (for
 * example, whether dropout drops it): `uniformAt(...) < quantizeProbability(p)`.
 */
export function bernoulliAt(seed: U32, stream: U32, index: number, p: number, step: U32 = 0): boolean {
  return uniformAt(seed, stream, index, step) < quantizeProbability(p);
}
