/**
 * A minimal WebAssembly binary writer: just enough of the format to emit the
 * CPU backend's SIMD kernels at run time, so that no build tool, native
 * dependency or network fetch is needed, in Node or in a browser.
 *
 * A `Code` collects one function body as bytes, with a method per
 * instruction used (named as in the text format: `local_get`, `f32x4_add`);
 * `wasmModule` wraps function bodies into a module that imports its memory
 * as `env.memory` and exports each function by name. The format is the
 * WebAssembly core specification, chapter 5 (binary format), plus the
 * fixed-width SIMD proposal (in every engine since 2021).
 */
import { append, Code, uleb, vec, type ValType } from "./wasm-code.js";

export { Code, F32, F64, I32, I64, V128, type ValType } from "./wasm-code.js";

/** The engine's WebAssembly API, where there is one (the project compiles without DOM types, so it is typed here). */
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number }) => { readonly buffer: ArrayBuffer };
}

/** The global `WebAssembly` object, or undefined where the engine has none. */
export function wasmApi(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}

/** A UTF-8 name, length first. */
function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

/** A section: its id, then its body's length and bytes. */
function section(id: number, body: number[]): number[] {
  return append([id, ...uleb(body.length)], body);
}

/** A function of a module: its name, body and results; exported unless `exported` is false. */
export interface WasmFunction {
  readonly name: string;
  readonly code: Code;
  readonly results?: readonly ValType[];
  readonly exported?: boolean;
}

/** A function a module imports from `env`: its name and signature. */
export interface ImportedFunction {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

/** How a module imports its memory: unshared with no limits, or shared (threads) up to `maximum` pages. */
export interface MemoryImport {
  readonly shared?: { readonly maximum: number };
}

/**
 * The bytes of a module that imports `env.memory` (and `imports`, which take
 * function indices 0 ‥ imports.length − 1; `functions` follow) and exports
 * its exported `functions` by name (spec 5.5).
 */
export function wasmModule(functions: readonly WasmFunction[], memory: MemoryImport = {}, imported: readonly ImportedFunction[] = []): Uint8Array {
  const signatures: string[] = [];
  const typeBytes: number[][] = [];
  const typeOf = (params: readonly ValType[], results: readonly ValType[]): number => {
    const key = `${params.join(",")}:${results.join(",")}`;
    let at = signatures.indexOf(key);
    if (at < 0) {
      at = signatures.push(key) - 1;
      typeBytes.push([0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))]);
    }
    return at;
  };
  const importTypes = imported.map((f) => typeOf(f.params, f.results));
  const functionTypes = functions.map((f) => typeOf(f.code.params, f.results ?? []));
  const types = section(1, vec(typeBytes));
  // Limits (spec 5.3.7): flag 0 is a minimum only; flag 3 a shared memory with minimum and maximum (the threads proposal).
  const limits = memory.shared === undefined ? [0x00, 0x00] : [0x03, 0x00, ...uleb(memory.shared.maximum)];
  const imports = section(
    2,
    vec([[...name("env"), ...name("memory"), 0x02, ...limits], ...imported.map((f, i) => [...name("env"), ...name(f.name), 0x00, ...uleb(importTypes[i]!)])]),
  );
  const funcs = section(3, vec(functionTypes.map((t) => uleb(t))));
  const exported = functions.flatMap((f, i) => (f.exported === false ? [] : [[...name(f.name), 0x00, ...uleb(imported.length + i)]]));
  const exports = section(7, vec(exported));
  const code = section(10, vec(functions.map((f) => f.code.body())));
  const parts = [[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], types, imports, funcs, exports, code];
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return bytes;
}
