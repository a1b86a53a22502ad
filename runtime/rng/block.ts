import { checkU32, philoxInto, type U32 } from "./philox.js";

/**
 * How a draw is addressed: the one place that maps (seed, stream, step, index)
 * to a Philox key and counter. See spec/random.md, "The scheme".
 *
 *     key     = [seed, stream]
 *     counter = [block mod 2^32, floor(block / 2^32), step, 0]
 *     block   = floor(index / 4),  lane = index mod 4
 *
 * Element `index` of a stream is word `lane` of the Philox output for its
 * block, so one Philox call serves four consecutive elements.
 */

/** The number of u32 words one Philox-4x32 call yields: elements per block. */
export const LANES = 4;

/** The largest element index a stream has: 2^53 − 1, the largest exact integer. */
export const MAX_INDEX = Number.MAX_SAFE_INTEGER;

/** The block that holds element `index`: floor(index / 4). */
export function blockOf(index: number): number {
  return Math.floor(index / LANES);
}

/** The word of its block that element `index` is: index mod 4. */
export function laneOf(index: number): number {
  return index % LANES;
}

/**
 * Writes the four words of `block` of the stream (seed, stream, step) into
 * `out`. No checks: callers validate once per call, not once per block.
 */
export function drawBlock(seed: U32, stream: U32, step: U32, block: number, out: Uint32Array): void {
  philoxInto(block >>> 0, Math.floor(block / 0x1_0000_0000), step, 0, seed, stream, out);
}

/** Throws a RangeError unless seed, stream and step are u32 values. */
export function checkStream(seed: number, stream: number, step: number): void {
  checkU32("seed", seed);
  checkU32("stream", stream);
  checkU32("step", step);
}

/**
 * Throws a RangeError unless elements `offset .. offset + count − 1` are all
 * valid indices: integers in [0, 2^53 − 1].
 */
export function checkIndices(offset: number, count: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_INDEX) {
    throw new RangeError(`index must be an integer in [0, 2^53 - 1], got ${offset}`);
  }
  if (count > 0 && offset > MAX_INDEX - (count - 1)) {
    throw new RangeError(`indices ${offset} .. ${offset} + ${count - 1} pass 2^53 - 1`);
  }
}
