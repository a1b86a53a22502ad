import { blockOf, checkIndices, checkStream, drawBlock, laneOf, LANES } from "./block.js";
import { philoxInto, type U32 } from "./philox.js";
import { fillEither } from "./fill.js";
import { UNIFORM_STEP } from "./uniform.js";

/**
 * Standard normal numbers from the shared counter-based generator, by the
 * Box–Muller transform. Each Philox block of four words gives four normals:
 * words 0 and 1 give elements 4b and 4b + 1, words 2 and 3 give elements
 * 4b + 2 and 4b + 3. For a pair (w, v) of words,
 *
 *     u1 = ((w >>> 8) + 1) · 2^-24          in (0, 1], so log(u1) is finite
 *     u2 = (v >>> 8) · 2^-24                in [0, 1)
 *     r  = sqrt(0 − 2 · ln u1),  θ = π · (2 · u2 − 1)    θ in [−π, π)
 *     element of the even lane = r · cos θ, of the odd lane = r · sin θ
 *
 * u1 and u2 are exact in float32, so every backend starts from the same
 * numbers; the reference and CPU backends then compute in float64 (the CPU
 * backend rounds the result to float32 once), and WebGPU computes in float32,
 * agreeing within float32 tolerance. θ is centred on 0 because WGSL only
 * bounds the error of sin and cos on [−π, π]. See spec/random.md.
 */

/** Scratch words for one Philox block; the functions here never call out while using it. */
const words = new Uint32Array(LANES);

/**
 * The Box–Muller radius sqrt(−2 ln u1) of the pair's first word, with u1 in
 * (0, 1]. Written `0 − 2·ln u1` so that u1 = 1 gives +0 rather than −0.
 */
export function normalRadius(bits: U32): number {
  return Math.sqrt(0 - 2 * Math.log(((bits >>> 8) + 1) * UNIFORM_STEP));
}

/** The Box–Muller angle π(2·u2 − 1) in [−π, π) of the pair's second word. */
export function normalAngle(bits: U32): number {
  return Math.PI * (2 * ((bits >>> 8) * UNIFORM_STEP) - 1);
}

/** Element `index` of the stream (seed, stream, step) as a standard normal number. */
export function normalAt(seed: U32, stream: U32, index: number, step: U32 = 0): number {
  checkStream(seed, stream, step);
  checkIndices(index, 1);
  drawBlock(seed, stream, step, blockOf(index), words);
  const lane = laneOf(index);
  const first = lane & ~1;
  const r = normalRadius(words[first]!);
  const theta = normalAngle(words[first + 1]!);
  return lane === first ? r * Math.cos(theta) : r * Math.sin(theta);
}

/**
 * Fills `out` with elements `offset .. offset + out.length − 1` of the stream
 * (seed, stream, step) as standard normals: `out[j] = normalAt(seed, stream,
 * offset + j, step)` exactly (rounded to float32 by a Float32Array), in
 * WebAssembly SIMD where the engine has it (`rng/wasm.ts`: the same words,
 * and the same float64 arithmetic with this engine's Math.log, sin and cos,
 * so the same numbers bit for bit), else by `fillNormalJs`.
 */
export function fillNormal<T extends Float32Array | Float64Array>(
  out: T,
  seed: U32,
  stream: U32,
  offset: number = 0,
  step: U32 = 0,
): T {
  return fillEither("normal", fillNormalJs, out, seed, stream, offset, step);
}

/**
 * `fillNormal` in JavaScript, with one Philox call per four elements and one
 * logarithm per two: the fallback where there is no WebAssembly SIMD, and
 * what the WebAssembly is checked against.
 */
export function fillNormalJs<T extends Float32Array | Float64Array>(
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
    for (let first = lane & ~1; first < LANES && j < n; first += 2) {
      const r = normalRadius(words[first]!);
      const theta = normalAngle(words[first + 1]!);
      if (lane === first) {
        out[j++] = r * Math.cos(theta);
        lane++;
        if (j === n) break;
      }
      out[j++] = r * Math.sin(theta);
      lane++;
    }
    lane = 0;
    block++;
  }
  return out;
}
