/**
 * Where the CPU backend's buffers live. With the WebAssembly SIMD kernels, all
 * buffers of the memory plan are carved out of one WebAssembly memory, so the
 * kernels read their operands and write their results in place (typed-array views
 * into that memory are as fast as views of plain ArrayBuffers); otherwise each
 * buffer is an ArrayBuffer of its own.
 */
import { PACK_BYTES, simdAvailable, simdKernels, type SimdKernels } from "./simd.js";
import { wasmApi } from "./wasm.js";

/** Buffers start on 64-byte boundaries (a cache line; f32x4 loads want 16). */
const ALIGN = 64;
/** The WebAssembly page size. */
const PAGE = 65536;
/** The largest arena: 2 GiB, what every engine grants a 32-bit memory. */
const MAX_BYTES = 2 ** 31;

/** The storage of every planned buffer, and the SIMD matmul when they share a WebAssembly memory. */
export interface Arena {
  /** For buffer b: the ArrayBuffer holding it and its byte offset there. */
  readonly buffers: readonly { readonly buffer: ArrayBuffer; readonly offset: number }[];
  /** The SIMD kernels on this arena's memory; undefined on the JavaScript fallback. */
  readonly simd: SimdKernels | undefined;
}

/**
 * Allocates buffers of the given byte sizes: in one WebAssembly memory when
 * `simd` is asked for, the engine supports it and the total fits; otherwise
 * one ArrayBuffer each.
 */
export function allocateArena(sizes: readonly number[], simd: boolean): Arena {
  const offsets: number[] = [];
  let total = 0;
  for (const bytes of sizes) {
    offsets.push(total);
    total += Math.ceil(bytes / ALIGN) * ALIGN;
  }
  const api = wasmApi();
  // The SIMD kernels' scratch follows the buffers.
  const scratch = total;
  if (simd && api !== undefined && total + PACK_BYTES <= MAX_BYTES && simdAvailable()) {
    const pages = Math.ceil((total + PACK_BYTES) / PAGE);
    let memory: { readonly buffer: ArrayBuffer } | undefined;
    try {
      memory = new api.Memory({ initial: pages, maximum: pages });
    } catch {
      // Out of address space: the separate ArrayBuffers below may still fit.
    }
    const kernels = memory && simdKernels(memory, scratch);
    if (memory !== undefined && kernels !== undefined) {
      const buffer = memory.buffer;
      return { buffers: offsets.map((offset) => ({ buffer, offset })), simd: kernels };
    }
  }
  return { buffers: sizes.map((bytes) => ({ buffer: new ArrayBuffer(bytes), offset: 0 })), simd: undefined };
}
