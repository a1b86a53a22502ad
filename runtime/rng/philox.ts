/**
 * Philox-4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3" (SC 2011), as published in the
 * Random123 library (`philox.h`).
 *
 * Philox is a keyed bijection on 128-bit counters: the same (counter, key)
 * gives the same four words on every machine, and any element of a stream can
 * be computed without computing the ones before it. That is what lets the
 * reference, CPU and WebGPU backends draw the same masks, dropout and weights.
 *
 * Everything here uses only unsigned 32-bit operations that WGSL also has
 * (wrapping multiply, add, xor, shifts, masks); there is no 64-bit product,
 * because WGSL has no 64-bit integers. The WGSL port is a transliteration:
 * `Math.imul(a, b) >>> 0` is `a * b`, and `x >>> 0` marks a value as a u32.
 * See spec/random.md.
 */

/** A 32-bit unsigned integer, held in a JavaScript number in [0, 2^32). */
export type U32 = number;

/** A Philox-4x32 counter: four 32-bit words, word 0 first. */
export type PhiloxCounter = readonly [U32, U32, U32, U32];

/** A Philox-4x32 key: two 32-bit words, word 0 first. */
export type PhiloxKey = readonly [U32, U32];

/** Multiplier of the round function for counter words 0 (Random123 `PHILOX_M4x32_0`). */
export const PHILOX_M0 = 0xd2511f53;
/** Multiplier of the round function for counter words 2 (Random123 `PHILOX_M4x32_1`). */
export const PHILOX_M1 = 0xcd9e8d57;
/** Weyl increment of key word 0 between rounds: the golden ratio (Random123 `PHILOX_W32_0`). */
export const PHILOX_W0 = 0x9e3779b9;
/** Weyl increment of key word 1 between rounds: √3 − 1 (Random123 `PHILOX_W32_1`). */
export const PHILOX_W1 = 0xbb67ae85;
/** The number of rounds of Philox-4x32-10. */
export const PHILOX_ROUNDS = 10;

/**
 * The high 32 bits of the 64-bit product of two u32 values, from the four
 * products of their 16-bit halves. Each partial product is below 2^32 and each
 * sum below stays below 2^32, so no step overflows a u32.
 */
export function mulhi32(a: U32, b: U32): U32 {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = Math.imul(a0, b0) >>> 0;
  const p01 = Math.imul(a0, b1) >>> 0;
  const p10 = Math.imul(a1, b0) >>> 0;
  const p11 = Math.imul(a1, b1) >>> 0;
  // The carry out of bits 16..31: at most 3·(2^16 − 1), well below 2^32.
  const middle = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (middle >>> 16)) >>> 0;
}

/**
 * The 64-bit product of two u32 values as `[hi, lo]` (Random123's `mulhilo32`).
 * The low word is the wrapping product; the high word comes from `mulhi32`.
 */
export function mulhilo32(a: U32, b: U32): readonly [hi: U32, lo: U32] {
  return [mulhi32(a, b), Math.imul(a, b) >>> 0];
}

/**
 * Philox-4x32-R into `out` (four words), with no allocation and no checks: the
 * hot path of the fill functions. Round r (0-based) uses the key plus r Weyl
 * increments, as in Random123, where the key is bumped before every round but
 * the first.
 */
export function philoxInto(
  c0: U32,
  c1: U32,
  c2: U32,
  c3: U32,
  k0: U32,
  k1: U32,
  out: Uint32Array,
  rounds: number = PHILOX_ROUNDS,
): void {
  for (let r = 0; r < rounds; r++) {
    if (r > 0) {
      k0 = (k0 + PHILOX_W0) >>> 0;
      k1 = (k1 + PHILOX_W1) >>> 0;
    }
    const hi0 = mulhi32(PHILOX_M0, c0);
    const lo0 = Math.imul(PHILOX_M0, c0) >>> 0;
    const hi1 = mulhi32(PHILOX_M1, c2);
    const lo1 = Math.imul(PHILOX_M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/**
 * Philox-4x32-10 of one counter under one key: four u32 words. `rounds` exists
 * for the Random123 known-answer tests of Philox-4x32-7; repr always uses 10.
 * Throws a RangeError if a word is not an integer in [0, 2^32).
 */
export function philox4x32(
  counter: PhiloxCounter,
  key: PhiloxKey,
  rounds: number = PHILOX_ROUNDS,
): [U32, U32, U32, U32] {
  counter.forEach((word, i) => checkU32(`counter[${i}]`, word));
  key.forEach((word, i) => checkU32(`key[${i}]`, word));
  if (!Number.isInteger(rounds) || rounds < 0) throw new RangeError(`rounds must be a non-negative integer, got ${rounds}`);
  const out = new Uint32Array(4);
  philoxInto(counter[0], counter[1], counter[2], counter[3], key[0], key[1], out, rounds);
  return [out[0]!, out[1]!, out[2]!, out[3]!];
}

/** Throws a RangeError unless `value` is an integer in [0, 2^32); a broken caller invariant. */
export function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${name} must be an unsigned 32-bit integer, got ${value}`);
  }
}
