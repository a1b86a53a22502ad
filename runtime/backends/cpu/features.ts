/**
 * What this engine offers the CPU backend, found out once per process:
 * WebAssembly SIMD (the generated kernels need it), relaxed SIMD's fused
 * multiply-add (used in the matmul where present), and how many threads to
 * use (whether workers can run them is `threads.ts`'s `threadsAvailable`).
 *
 * Relaxed SIMD is off by default in Node 20: it is switched on from inside
 * the process with V8's `--experimental-wasm-relaxed-simd` before any module
 * that uses it is compiled (`process.getBuiltinModule("v8")`, so no import
 * chain from the runtime's entry reaches a Node module). Browsers ship it
 * (Chrome 114+). Either way it is only used after a module that uses it
 * validates; otherwise the matmul multiplies and adds.
 */
import { Code, wasmApi, wasmModule } from "./wasm.js";

/** A tiny module using f32x4.relaxed_madd: three zero vectors, their fused multiply-add, dropped. */
function relaxedProbe(): Uint8Array {
  const f = new Code([]);
  f.v128_zero().v128_zero().v128_zero().f32x4_relaxed_madd().drop();
  return wasmModule([{ name: "probe", code: f }]);
}

/** A tiny module using f32x4.add on two zero vectors. */
function simdProbe(): Uint8Array {
  const f = new Code([]);
  f.v128_zero().v128_zero().f32x4_add().drop();
  return wasmModule([{ name: "probe", code: f }]);
}

interface NodeProcess {
  readonly versions?: { readonly node?: string };
  getBuiltinModule?(name: string): unknown;
  readonly env?: Record<string, string | undefined>;
}

/** Node's `process`, where there is one. */
export function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node !== undefined ? p : undefined;
}

/** A Node builtin module by name, without an import (undefined outside Node or before 20.16). */
export function nodeBuiltin<T>(name: string): T | undefined {
  try {
    return nodeProcess()?.getBuiltinModule?.(name) as T | undefined;
  } catch {
    return undefined;
  }
}

let simd: boolean | undefined;
let relaxed: boolean | undefined;

/** Whether the engine runs WebAssembly SIMD. */
export function simdAvailable(): boolean {
  if (simd === undefined) {
    const api = wasmApi();
    simd = api !== undefined && api.validate(simdProbe());
  }
  return simd;
}

/** Whether relaxed SIMD's f32x4.relaxed_madd validates (switching it on in Node first). */
export function relaxedSimdAvailable(): boolean {
  if (relaxed !== undefined) return relaxed;
  const api = wasmApi();
  relaxed = false;
  if (api === undefined || !simdAvailable()) return relaxed;
  if (!api.validate(relaxedProbe())) {
    nodeBuiltin<{ setFlagsFromString(flags: string): void }>("v8")?.setFlagsFromString("--experimental-wasm-relaxed-simd");
  }
  relaxed = api.validate(relaxedProbe());
  return relaxed;
}

/** How many threads the engine offers: `os.availableParallelism()` in Node, `navigator.hardwareConcurrency` in a browser, at least 1. */
export function hardwareThreads(): number {
  const os = nodeBuiltin<{ availableParallelism?(): number; cpus(): unknown[] }>("os");
  if (os !== undefined) return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}
