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

/** The i32 value type (spec 5.3.1). */
export const I32 = 0x7f;
/** The f32 value type. */
export const F32 = 0x7d;
/** The v128 value type (SIMD). */
export const V128 = 0x7b;

/** A value type byte. */
export type ValType = typeof I32 | typeof F32 | typeof V128;

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

/** Unsigned LEB128 (spec 5.2.2). */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128, for i32 constants. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** A length-prefixed vector of byte strings or a name. */
function vec(items: readonly number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/**
 * One function body under construction. Locals are declared up front by
 * `local`; instructions append bytes. Structured control takes a callback
 * for the body, so blocks always close.
 */
export class Code {
  readonly bytes: number[] = [];
  private readonly locals: ValType[] = [];

  /** @param params the parameter types (they are locals 0 ‥ params.length − 1). */
  constructor(readonly params: readonly ValType[]) {}

  /** Declares a local of type `t` and returns its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.params.length + this.locals.length - 1;
  }

  /** The body as it goes into the code section: local declarations, instructions, `end`. */
  body(): number[] {
    // Consecutive locals of one type are declared as one run, as the text format's assembler does,
    // so the module's disassembly (`repr compile --emit cpu`) assembles back to these very bytes.
    const runs: { count: number; type: ValType }[] = [];
    for (const t of this.locals) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last.type === t) last.count++;
      else runs.push({ count: 1, type: t });
    }
    const groups = runs.map((r) => [...uleb(r.count), r.type]);
    const code = [...vec(groups), ...this.bytes, 0x0b];
    return [...uleb(code.length), ...code];
  }

  private op(...bytes: number[]): this {
    this.bytes.push(...bytes);
    return this;
  }

  private simd(opcode: number, ...rest: number[]): this {
    return this.op(0xfd, ...uleb(opcode), ...rest);
  }

  /** `block … end`; `br` depth 0 inside it jumps past its end. */
  block(body: () => void): this {
    this.op(0x02, 0x40);
    body();
    return this.op(0x0b);
  }

  /** `loop … end`; `br` depth 0 inside it jumps back to its start. */
  loop(body: () => void): this {
    this.op(0x03, 0x40);
    body();
    return this.op(0x0b);
  }

  /** `if … end` on the i32 on the stack. */
  if(body: () => void): this {
    this.op(0x04, 0x40);
    body();
    return this.op(0x0b);
  }

  // Plain instructions, one method each, named after the text format's mnemonic.
  br(depth: number): this {
    return this.op(0x0c, ...uleb(depth));
  }
  br_if(depth: number): this {
    return this.op(0x0d, ...uleb(depth));
  }
  local_get(i: number): this {
    return this.op(0x20, ...uleb(i));
  }
  local_set(i: number): this {
    return this.op(0x21, ...uleb(i));
  }
  local_tee(i: number): this {
    return this.op(0x22, ...uleb(i));
  }
  i32_const(v: number): this {
    return this.op(0x41, ...sleb(v | 0));
  }
  i32_gt_u(): this {
    return this.op(0x4b);
  }
  i32_ge_u(): this {
    return this.op(0x4f);
  }
  i32_shl(): this {
    return this.op(0x74);
  }
  i32_shr_u(): this {
    return this.op(0x76);
  }
  i32_add(): this {
    return this.op(0x6a);
  }
  i32_sub(): this {
    return this.op(0x6b);
  }
  i32_div_u(): this {
    return this.op(0x6e);
  }
  i32_mul(): this {
    return this.op(0x6c);
  }
  f32_const(v: number): this {
    return this.op(0x43, ...new Uint8Array(new Float32Array([v]).buffer));
  }
  /** Loads and stores carry an alignment hint (log2 bytes) and a constant byte offset. */
  f32_load(offset = 0): this {
    return this.op(0x2a, 2, ...uleb(offset));
  }
  f32_store(offset = 0): this {
    return this.op(0x38, 2, ...uleb(offset));
  }
  f32_neg(): this {
    return this.op(0x8c);
  }
  f32_sqrt(): this {
    return this.op(0x91);
  }
  f32_add(): this {
    return this.op(0x92);
  }
  f32_sub(): this {
    return this.op(0x93);
  }
  f32_mul(): this {
    return this.op(0x94);
  }
  f32_div(): this {
    return this.op(0x95);
  }
  v128_load(offset = 0): this {
    return this.simd(0x00, 4, ...uleb(offset));
  }
  v128_store(offset = 0): this {
    return this.simd(0x0b, 4, ...uleb(offset));
  }
  /** Loads one f32 and splats it to all four lanes. */
  v128_load32_splat(offset = 0): this {
    return this.simd(0x09, 2, ...uleb(offset));
  }
  /** A v128 of four float32 zeros. */
  v128_zero(): this {
    return this.simd(0x0c, ...new Array<number>(16).fill(0));
  }
  f32x4_neg(): this {
    return this.simd(0xe1);
  }
  f32x4_sqrt(): this {
    return this.simd(0xe3);
  }
  f32x4_add(): this {
    return this.simd(0xe4);
  }
  f32x4_sub(): this {
    return this.simd(0xe5);
  }
  f32x4_mul(): this {
    return this.simd(0xe6);
  }
  f32x4_div(): this {
    return this.simd(0xe7);
  }
  /** a·b + c of the three f32x4 on the stack (a, b, c in push order), fused or not as the engine likes: the relaxed-SIMD proposal. */
  f32x4_relaxed_madd(): this {
    return this.simd(0x105);
  }
}

/** A function to export: its name and body; all return nothing. */
export interface WasmFunction {
  readonly name: string;
  readonly code: Code;
}

/** How a module imports its memory: unshared with no limits, or shared (threads) up to `maximum` pages. */
export interface MemoryImport {
  readonly shared?: { readonly maximum: number };
}

/** The bytes of a module that imports `env.memory` and exports `functions` (spec 5.5). */
export function wasmModule(functions: readonly WasmFunction[], memory: MemoryImport = {}): Uint8Array {
  const types = section(1, vec(functions.map((f) => [0x60, ...vec(f.code.params.map((p) => [p])), 0])));
  // Limits (spec 5.3.7): flag 0 is a minimum only; flag 3 a shared memory with minimum and maximum (the threads proposal).
  const limits = memory.shared === undefined ? [0x00, 0x00] : [0x03, 0x00, ...uleb(memory.shared.maximum)];
  const imports = section(2, vec([[...name("env"), ...name("memory"), 0x02, ...limits]]));
  const funcs = section(3, vec(functions.map((_, i) => uleb(i))));
  const exports = section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])));
  const code = section(10, vec(functions.map((f) => f.code.body())));
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imports, ...funcs, ...exports, ...code]);
}
