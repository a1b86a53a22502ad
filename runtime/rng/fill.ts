/**
 * The choice every fill function makes: WebAssembly SIMD (`wasm.ts`) where the
 * engine has it and the fill is long enough to pay for the call, else the
 * JavaScript fill. Both give the same numbers bit for bit.
 */
import { checkIndices, checkStream } from "./block.js";
import type { U32 } from "./philox.js";
import { rngWasm, type RngWasm } from "./wasm.js";

/**
 * Below this many elements a fill stays in JavaScript: the WebAssembly's
 * fixed cost per call (a chunk's whole blocks, a copy) outweighs its speed.
 */
export const WASM_FILL_MIN = 64;

type Fill<T> = (out: T, seed: U32, stream: U32, offset: number, step: U32) => T;

/** Fills `out` by the WebAssembly fill `kind` or, where that is not taken, by `js`. */
export function fillEither<T extends Float32Array | Float64Array | Uint32Array>(kind: keyof RngWasm, js: Fill<T>, out: T, seed: U32, stream: U32, offset: number, step: U32): T {
  checkStream(seed, stream, step);
  checkIndices(offset, out.length);
  const wasm = out.length >= WASM_FILL_MIN ? rngWasm() : undefined;
  if (wasm === undefined) return js(out, seed, stream, offset, step);
  (wasm[kind] as (out: T, seed: U32, stream: U32, offset: number, step: U32) => void)(out, seed, stream, offset, step);
  return out;
}
