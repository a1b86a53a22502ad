/**
 * The CPU backend's WebAssembly SIMD kernels as one module: the matmul
 * (`simd-matmul.ts`) and the float32 elementwise ops (`simd-elementwise.ts`).
 *
 * The module's bytes are generated at run time by `wasm.ts`, so there is no
 * build step, native dependency or fetch. It stays under 4 KiB because
 * browsers refuse synchronous compiles of bigger modules on their main
 * thread (a test checks the size). It is compiled once per process and
 * instantiated once per executable, on the WebAssembly memory that holds all
 * of that executable's buffers (`arena.ts`).
 */
import { blockedMatmul, matmulCode, PACK_BYTES, type SimdMatmul } from "./simd-matmul.js";

export { PACK_BYTES } from "./simd-matmul.js";
import { elementwiseCode, SIMD_BINARY, SIMD_UNARY, type SimdElementwiseOp } from "./simd-elementwise.js";
import { wasmApi, wasmModule } from "./wasm.js";

/** An elementwise kernel: `(o, x, y, n)` for binary ops, `(o, x, n)` for unary ones, byte addresses. */
export type SimdElementwise = (...args: number[]) => void;

/** The SIMD kernels bound to one memory. */
export interface SimdKernels {
  /** The memory's buffer: kernels apply only to typed arrays on it. */
  readonly buffer: ArrayBuffer;
  /** The bytes of the module these kernels were instantiated from (what `repr compile --emit cpu` disassembles). */
  readonly bytes: Uint8Array;
  readonly matmul: SimdMatmul;
  readonly elementwise: Readonly<Record<SimdElementwiseOp, SimdElementwise>>;
}

/** The module's bytes (exported for tests: its size and validity). */
export function simdModuleBytes(): Uint8Array {
  return wasmModule([
    { name: "matmul", code: matmulCode() },
    ...Object.entries(SIMD_BINARY).map(([name, emit]) => ({ name, code: elementwiseCode(2, emit) })),
    ...Object.entries(SIMD_UNARY).map(([name, emit]) => ({ name, code: elementwiseCode(1, emit) })),
  ]);
}

/** The compiled module and its bytes: undefined until first asked for, null where WebAssembly SIMD is unavailable. */
let compiled: { readonly module: object; readonly bytes: Uint8Array } | null | undefined;

function simdModule(): { readonly module: object; readonly bytes: Uint8Array } | null {
  if (compiled !== undefined) return compiled;
  const api = wasmApi();
  const bytes = simdModuleBytes();
  compiled = null;
  try {
    if (api !== undefined && api.validate(bytes)) compiled = { module: new api.Module(bytes), bytes };
  } catch {
    // An engine that validates but will not compile is treated as one without SIMD.
  }
  return compiled;
}

/** Whether this engine runs the WebAssembly SIMD kernels. */
export function simdAvailable(): boolean {
  return simdModule() !== null;
}

/**
 * The kernels on `memory`, or undefined where WebAssembly SIMD is unavailable;
 * `scratch` is the byte offset of PACK_BYTES of the memory reserved for them.
 */
export function simdKernels(memory: { readonly buffer: ArrayBuffer }, scratch: number): SimdKernels | undefined {
  const module = simdModule();
  const api = wasmApi();
  if (module === null || api === undefined) return undefined;
  const { exports } = new api.Instance(module.module, { env: { memory } });
  const fn = (name: string) => exports[name] as (...args: number[]) => void;
  const ops = [...Object.keys(SIMD_BINARY), ...Object.keys(SIMD_UNARY)] as SimdElementwiseOp[];
  return {
    buffer: memory.buffer,
    bytes: module.bytes,
    matmul: blockedMatmul(fn("matmul"), new Float32Array(memory.buffer), scratch),
    elementwise: Object.fromEntries(ops.map((op) => [op, fn(op)])) as Record<SimdElementwiseOp, SimdElementwise>,
  };
}
