/**
 * One WebAssembly function body as bytes: the instruction encoder of
 * `wasm.ts`'s module writer, a method per instruction used (named as in the
 * text format: `local_get`, `f32x4_add`), and the value types and LEB128
 * integers the binary format (WebAssembly core specification, chapter 5, and
 * the fixed-width SIMD proposal) writes them with.
 */

/** The i32 value type (spec 5.3.1). */
export const I32 = 0x7f;
/** The f32 value type. */
export const F32 = 0x7d;
/** The i64 value type. */
export const I64 = 0x7e;
/** The f64 value type. */
export const F64 = 0x7c;
/** The v128 value type (SIMD). */
export const V128 = 0x7b;

/** A value type byte. */
export type ValType = typeof I32 | typeof I64 | typeof F32 | typeof F64 | typeof V128;

/** Unsigned LEB128 (spec 5.2.2). */
export function uleb(n: number): number[] {
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
export function vec(items: readonly number[][]): number[] {
  const out = uleb(items.length);
  for (const item of items) append(out, item);
  return out;
}

/** Appends `more` to `out` in place (a generated module's code runs to megabytes: no spread copies of it). */
export function append(out: number[], more: readonly number[]): number[] {
  for (let i = 0; i < more.length; i++) out.push(more[i]!);
  return out;
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
    const code = append(vec(groups), this.bytes);
    code.push(0x0b);
    return append(uleb(code.length), code);
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

  /** `if … else … end` on the i32 on the stack, each arm leaving one value of type `result`. */
  ifElseValue(result: ValType, then: () => void, otherwise: () => void): this {
    this.op(0x04, result);
    then();
    this.op(0x05);
    otherwise();
    return this.op(0x0b);
  }

  /** `if … else … end` on the i32 on the stack. */
  ifElse(then: () => void, otherwise: () => void): this {
    this.op(0x04, 0x40);
    then();
    this.op(0x05);
    otherwise();
    return this.op(0x0b);
  }

  // Plain instructions, one method each, named after the text format's mnemonic.
  br(depth: number): this {
    return this.op(0x0c, ...uleb(depth));
  }
  br_if(depth: number): this {
    return this.op(0x0d, ...uleb(depth));
  }
  return_(): this {
    return this.op(0x0f);
  }
  call(index: number): this {
    return this.op(0x10, ...uleb(index));
  }
  drop(): this {
    return this.op(0x1a);
  }
  /** `select`: the first of two values when the i32 on top is nonzero, else the second (numeric types). */
  select(): this {
    return this.op(0x1b);
  }
  /** `select` typed as f64. */
  select_f64(): this {
    return this.op(0x1c, 0x01, F64);
  }
  /** `select` typed as v128 (the typed form, which v128 operands need). */
  select_v128(): this {
    return this.op(0x1c, 0x01, V128);
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
  i32_eqz(): this {
    return this.op(0x45);
  }
  i32_eq(): this {
    return this.op(0x46);
  }
  i32_ne(): this {
    return this.op(0x47);
  }
  i32_lt_s(): this {
    return this.op(0x48);
  }
  i32_lt_u(): this {
    return this.op(0x49);
  }
  i32_gt_s(): this {
    return this.op(0x4a);
  }
  i32_gt_u(): this {
    return this.op(0x4b);
  }
  i32_le_s(): this {
    return this.op(0x4c);
  }
  i32_le_u(): this {
    return this.op(0x4d);
  }
  i32_ge_s(): this {
    return this.op(0x4e);
  }
  i32_ge_u(): this {
    return this.op(0x4f);
  }
  i32_add(): this {
    return this.op(0x6a);
  }
  i32_sub(): this {
    return this.op(0x6b);
  }
  i32_mul(): this {
    return this.op(0x6c);
  }
  i32_div_s(): this {
    return this.op(0x6d);
  }
  i32_div_u(): this {
    return this.op(0x6e);
  }
  i32_rem_s(): this {
    return this.op(0x6f);
  }
  i32_rem_u(): this {
    return this.op(0x70);
  }
  i32_and(): this {
    return this.op(0x71);
  }
  i32_or(): this {
    return this.op(0x72);
  }
  i32_xor(): this {
    return this.op(0x73);
  }
  i32_shl(): this {
    return this.op(0x74);
  }
  i32_shr_s(): this {
    return this.op(0x75);
  }
  i32_shr_u(): this {
    return this.op(0x76);
  }
  i64_mul(): this {
    return this.op(0x7e);
  }
  i64_shr_u(): this {
    return this.op(0x88);
  }
  i32_wrap_i64(): this {
    return this.op(0xa7);
  }
  i64_extend_i32_u(): this {
    return this.op(0xad);
  }
  f64_const(v: number): this {
    return this.op(0x44, ...new Uint8Array(new Float64Array([v]).buffer));
  }
  f64_add(): this {
    return this.op(0xa0);
  }
  f64_sub(): this {
    return this.op(0xa1);
  }
  f64_mul(): this {
    return this.op(0xa2);
  }
  f64_sqrt(): this {
    return this.op(0x9f);
  }
  f64_convert_i32_u(): this {
    return this.op(0xb8);
  }
  i64_const(v: number): this {
    return this.op(0x42, ...sleb(v | 0));
  }
  i32_reinterpret_f32(): this {
    return this.op(0xbc);
  }
  f64_div(): this {
    return this.op(0xa3);
  }

  f32_const(v: number): this {
    return this.op(0x43, ...new Uint8Array(new Float32Array([v]).buffer));
  }
  /** Loads and stores carry an alignment hint (log2 bytes) and a constant byte offset. */
  i32_load(offset = 0): this {
    return this.op(0x28, 2, ...uleb(offset));
  }
  i32_store(offset = 0): this {
    return this.op(0x36, 2, ...uleb(offset));
  }
  f32_load(offset = 0): this {
    return this.op(0x2a, 2, ...uleb(offset));
  }
  f32_store(offset = 0): this {
    return this.op(0x38, 2, ...uleb(offset));
  }
  f64_store(offset = 0): this {
    return this.op(0x39, 3, ...uleb(offset));
  }
  f32_eq(): this {
    return this.op(0x5b);
  }
  f32_ne(): this {
    return this.op(0x5c);
  }
  f32_lt(): this {
    return this.op(0x5d);
  }
  f32_gt(): this {
    return this.op(0x5e);
  }
  f32_abs(): this {
    return this.op(0x8b);
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
  f32_min(): this {
    return this.op(0x96);
  }
  f32_max(): this {
    return this.op(0x97);
  }
  f32_convert_i32_s(): this {
    return this.op(0xb2);
  }
  f64_promote_f32(): this {
    return this.op(0xbb);
  }
  f32_demote_f64(): this {
    return this.op(0xb6);
  }
  i32_trunc_sat_f32_s(): this {
    return this.op(0xfc, 0x00);
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
  /** A v128 constant of four i32 lanes. */
  v128_const_i32(lanes: readonly [number, number, number, number]): this {
    return this.simd(0x0c, ...new Uint8Array(Int32Array.from(lanes).buffer));
  }
  /** A v128 constant of four f32 lanes. */
  v128_const_f32(lanes: readonly [number, number, number, number]): this {
    return this.simd(0x0c, ...new Uint8Array(Float32Array.from(lanes).buffer));
  }
  /** A v128 of four float32 zeros. */
  v128_zero(): this {
    return this.simd(0x0c, ...new Array<number>(16).fill(0));
  }
  /** 1 when any bit of the v128 is set, else 0. */
  v128_any_true(): this {
    return this.simd(0x53);
  }
  /** 1 where every i32 lane is nonzero. */
  i32x4_all_true(): this {
    return this.simd(0xa3);
  }
  v128_not(): this {
    return this.simd(0x4d);
  }
  v128_and(): this {
    return this.simd(0x4e);
  }
  v128_andnot(): this {
    return this.simd(0x4f);
  }
  v128_or(): this {
    return this.simd(0x50);
  }
  v128_xor(): this {
    return this.simd(0x51);
  }
  /** bitselect(a, b, mask): bits of a where mask is 1, of b where it is 0. */
  v128_bitselect(): this {
    return this.simd(0x52);
  }
  i32x4_splat(): this {
    return this.simd(0x11);
  }
  f32x4_splat(): this {
    return this.simd(0x13);
  }
  i32x4_extract_lane(lane: number): this {
    return this.simd(0x1b, lane);
  }
  i32x4_replace_lane(lane: number): this {
    return this.simd(0x1c, lane);
  }
  f32x4_extract_lane(lane: number): this {
    return this.simd(0x1f, lane);
  }
  f32x4_replace_lane(lane: number): this {
    return this.simd(0x20, lane);
  }
  i32x4_eq(): this {
    return this.simd(0x37);
  }
  i32x4_ne(): this {
    return this.simd(0x38);
  }
  i32x4_lt_s(): this {
    return this.simd(0x39);
  }
  i32x4_gt_s(): this {
    return this.simd(0x3b);
  }
  i32x4_ge_s(): this {
    return this.simd(0x3f);
  }
  f32x4_eq(): this {
    return this.simd(0x41);
  }
  f32x4_ne(): this {
    return this.simd(0x42);
  }
  f32x4_lt(): this {
    return this.simd(0x43);
  }
  f32x4_gt(): this {
    return this.simd(0x44);
  }
  f32x4_le(): this {
    return this.simd(0x45);
  }
  f32x4_ge(): this {
    return this.simd(0x46);
  }
  f32x4_nearest(): this {
    return this.simd(0x6a);
  }
  f32x4_floor(): this {
    return this.simd(0x68);
  }
  i32x4_abs(): this {
    return this.simd(0xa0);
  }
  i32x4_neg(): this {
    return this.simd(0xa1);
  }
  i32x4_shl(): this {
    return this.simd(0xab);
  }
  i32x4_shr_s(): this {
    return this.simd(0xac);
  }
  i32x4_shr_u(): this {
    return this.simd(0xad);
  }
  i32x4_add(): this {
    return this.simd(0xae);
  }
  i32x4_sub(): this {
    return this.simd(0xb1);
  }
  i32x4_mul(): this {
    return this.simd(0xb5);
  }
  i32x4_min_s(): this {
    return this.simd(0xb6);
  }
  i32x4_max_s(): this {
    return this.simd(0xb8);
  }
  f32x4_abs(): this {
    return this.simd(0xe0);
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
  /** NaN-propagating minimum and maximum (−0 below +0), as JavaScript's Math.min and Math.max. */
  f32x4_min(): this {
    return this.simd(0xe8);
  }
  f32x4_max(): this {
    return this.simd(0xe9);
  }
  /** Toward zero, saturating, NaN to 0: the IR's f32 → i32 cast. */
  i32x4_trunc_sat_f32x4_s(): this {
    return this.simd(0xf8);
  }
  f32x4_convert_i32x4_s(): this {
    return this.simd(0xfa);
  }
  /** The bytes `lanes` (0‥15 from the first operand, 16‥31 from the second) of two v128 as one. */
  i8x16_shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16 || lanes.some((l) => !Number.isInteger(l) || l < 0 || l > 31)) throw new RangeError(`i8x16.shuffle takes 16 lane indices in 0..31, got [${lanes.join(", ")}]`);
    return this.simd(0x0d, ...lanes);
  }
  /** The i32 lanes `lanes` (0‥3 from the first operand, 4‥7 from the second) of two v128 as one: an i8x16.shuffle. */
  i32x4_shuffle(lanes: readonly [number, number, number, number]): this {
    return this.i8x16_shuffle(lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));
  }
  i32x4_lt_u(): this {
    return this.simd(0x3a);
  }
  /** The 64-bit products of the unsigned i32 lanes 0 and 1 of two v128. */
  i64x2_extmul_low_i32x4_u(): this {
    return this.simd(0xde);
  }
  /** The 64-bit products of the unsigned i32 lanes 2 and 3 of two v128. */
  i64x2_extmul_high_i32x4_u(): this {
    return this.simd(0xdf);
  }
  f64x2_splat(): this {
    return this.simd(0x14);
  }
  f64x2_mul(): this {
    return this.simd(0xf2);
  }
  /** i32 lanes 0 and 1, signed, as two f64. */
  f64x2_convert_low_i32x4_s(): this {
    return this.simd(0xfe);
  }
  /** a·b + c of the three f32x4 on the stack (a, b, c in push order), fused or not as the engine likes: the relaxed-SIMD proposal. */
  f32x4_relaxed_madd(): this {
    return this.simd(0x105);
  }
}
