/**
 * The shared generator's fill functions in WebAssembly SIMD: the same words,
 * uniforms and normals as the JavaScript of `uniform.ts` and `normal.ts`, bit
 * for bit, several times faster. Philox-4x32-10 runs on four blocks per v128
 * (`philoxBlocksCode` in the CPU backend's emitters), the uniforms convert
 * four words per instruction, and the normals are the Box–Muller pairs in
 * float64 with the engine's own `Math.log`, `Math.sin` and `Math.cos`
 * imported, so they are the very numbers the JavaScript computes.
 *
 * A fill goes by chunks of `CHUNK` elements through the module's own small
 * memory: the chunk's whole blocks are drawn there, converted, and the
 * elements asked for copied out, so any offset and length work and the
 * caller's array never has to live in WebAssembly memory.
 *
 * Where the engine has no WebAssembly SIMD (or compiling fails), or the
 * environment sets `REPR_RNG_WASM=0`, `rngWasm()` is undefined and the fill
 * functions stay in JavaScript.
 */
import { normalsCode, philoxBlocksCode, uniformsCode } from "../backends/cpu/emit/philox.js";
import { simdAvailable, nodeProcess } from "../backends/cpu/features.js";
import { F64, wasmApi, wasmModule, type WasmApi } from "../backends/cpu/wasm.js";
import type { U32 } from "./philox.js";

/** Elements per chunk: its words (16 KiB) and its float64 values (32 KiB) fit one 64 KiB page. */
const CHUNK = 4096;
/** Where the words go: room for CHUNK elements plus the groups `philoxBlocks` may write past them (three of 16 words: it goes four groups at a time). */
const WORDS = 0;
/** Where the converted values go, after the words. */
const VALUES = (CHUNK + 64) * 4;

/** The generator's fill functions in WebAssembly; each writes `out.length` elements starting at element `offset`. */
export interface RngWasm {
  /** Raw Philox words (`bitsAt`). */
  bits(out: Uint32Array, seed: U32, stream: U32, offset: number, step: U32): void;
  /** Uniforms in [0, 1) (`fillUniform`). */
  uniform(out: Float32Array | Float64Array, seed: U32, stream: U32, offset: number, step: U32): void;
  /** Standard normals (`fillNormal`). */
  normal(out: Float32Array | Float64Array, seed: U32, stream: U32, offset: number, step: U32): void;
}

type Kernel = (...args: number[]) => void;

let made: RngWasm | null | undefined;

/**
 * The WebAssembly fill functions, or undefined where WebAssembly SIMD is
 * missing, the module fails to compile, or `REPR_RNG_WASM=0` asks for the
 * JavaScript (read at every call, so a test can switch it).
 */
export function rngWasm(): RngWasm | undefined {
  if (nodeProcess()?.env?.["REPR_RNG_WASM"] === "0") return undefined;
  if (made === undefined) made = build();
  return made ?? undefined;
}

/** The module's bytes: philoxBlocks, then the uniform and normal conversions to float32 and float64; it imports Math.log, sin and cos. */
export function rngWasmModule(): Uint8Array {
  const imports = { log: 0, sin: 1, cos: 2 };
  const f64Function = { params: [F64], results: [F64] } as const;
  return wasmModule(
    [
      { name: "philoxBlocks", code: philoxBlocksCode() },
      { name: "uniforms32", code: uniformsCode(false) },
      { name: "uniforms64", code: uniformsCode(true) },
      { name: "normals32", code: normalsCode(false, imports) },
      { name: "normals64", code: normalsCode(true, imports) },
    ],
    {},
    [
      { name: "log", ...f64Function },
      { name: "sin", ...f64Function },
      { name: "cos", ...f64Function },
    ],
  );
}

function build(): RngWasm | null {
  const api: WasmApi | undefined = wasmApi();
  if (api === undefined || !simdAvailable()) return null;
  let exports: Record<string, unknown>;
  let buffer: ArrayBuffer;
  try {
    const memory = new api.Memory({ initial: 1, maximum: 1 });
    exports = new api.Instance(new api.Module(rngWasmModule()), { env: { memory, log: Math.log, sin: Math.sin, cos: Math.cos } }).exports;
    buffer = memory.buffer;
  } catch {
    // An engine that will not compile synchronously here (or at all): the JavaScript fills stay.
    return null;
  }
  const blocks = exports["philoxBlocks"] as Kernel;
  const kernels = {
    uniforms32: exports["uniforms32"] as Kernel,
    uniforms64: exports["uniforms64"] as Kernel,
    normals32: exports["normals32"] as Kernel,
    normals64: exports["normals64"] as Kernel,
  };
  const words = new Uint32Array(buffer, WORDS, CHUNK + 64);
  const f32 = new Float32Array(buffer, VALUES, CHUNK + 64);
  const f64 = new Float64Array(buffer, VALUES, CHUNK + 64);

  /**
   * Calls `each(lane, count, from, vectors)` per chunk after drawing its blocks' words:
   * elements `from ‥ from + count − 1` of `out` are words `lane ‥ lane + count − 1`,
   * and `vectors` four-word vectors cover them from word 0.
   */
  const chunks = (n: number, seed: U32, stream: U32, offset: number, step: U32, each: (lane: number, count: number, from: number, vectors: number) => void): void => {
    for (let from = 0; from < n; ) {
      const index = offset + from;
      const block = Math.floor(index / 4);
      const lane = index - 4 * block;
      const count = Math.min(n - from, CHUNK - lane);
      const blockCount = Math.ceil((lane + count) / 4);
      blocks(WORDS, Math.ceil(blockCount / 4), block >>> 0, Math.floor(block / 0x1_0000_0000), step, seed, stream);
      each(lane, count, from, blockCount);
      from += count;
    }
  };
  return {
    bits(out, seed, stream, offset, step) {
      chunks(out.length, seed, stream, offset, step, (lane, count, from) => out.set(words.subarray(lane, lane + count), from));
    },
    uniform(out, seed, stream, offset, step) {
      const wide = out instanceof Float64Array;
      const convert = wide ? kernels.uniforms64 : kernels.uniforms32;
      const values = wide ? f64 : f32;
      chunks(out.length, seed, stream, offset, step, (lane, count, from, vectors) => {
        convert(WORDS, VALUES, vectors);
        out.set(values.subarray(lane, lane + count), from);
      });
    },
    normal(out, seed, stream, offset, step) {
      const wide = out instanceof Float64Array;
      const convert = wide ? kernels.normals64 : kernels.normals32;
      const values = wide ? f64 : f32;
      chunks(out.length, seed, stream, offset, step, (lane, count, from) => {
        // Whole pairs only: from the pair the first element is in to the one the last is in.
        const first = lane & ~1;
        const pairs = (lane + count - first + 1) >> 1;
        convert(WORDS + 4 * first, VALUES + values.BYTES_PER_ELEMENT * first, pairs);
        out.set(values.subarray(lane, lane + count), from);
      });
    },
  };
}
