/**
 * The elementwise ops of the IR on four lanes at once: for each op, the
 * WebAssembly SIMD code that computes it from operands held in v128 locals
 * (four float32 or four int32 lanes, by dtype) and pushes the result.
 *
 * Every op means what the reference backend defines (`reference/elementwise.ts`)
 * rounded to float32: add, sub, mul, div and sqrt are correctly rounded in
 * float32, which is the reference's float64 result rounded once (float64 holds
 * more than twice float32's bits); maximum and minimum propagate NaN and order
 * −0 below +0 as Math.max and Math.min do; comparisons give i32 1 or 0; a cast
 * to i32 truncates toward zero and saturates, NaN to 0; i32 arithmetic wraps,
 * and i32 division truncates with x / 0 = x, lane by lane. The transcendental
 * functions come from `simd-math.ts`.
 */
import type { DType, Op } from "../../../ir/ops.js";
import { V128 } from "../wasm.js";
import { emitErf, emitExp, emitLog, emitPow, emitSigmoid, emitSinCos, emitTanh, type MathContext } from "./simd-math.js";

const splat = (cx: MathContext, v: number, dtype: DType): void => {
  if (dtype === "f32") cx.f.v128_const_f32([v, v, v, v]);
  else cx.f.v128_const_i32([v, v, v, v]);
};

/** The ops `emitPointwise` computes (every unary, binary and ternary op, cast and detach). */
export function isLaneOp(op: Op): boolean {
  return op === "cast" || Object.prototype.hasOwnProperty.call(LANE_OPS, op);
}

type Emit = (cx: MathContext, x: readonly number[], dtype: DType) => void;

/** Comparison masks (all ones or zeros per lane) as i32 1 or 0. */
const bool = (cx: MathContext): void => {
  splat(cx, 1, "i32");
  cx.f.v128_and();
};

/** i32 division per lane: truncating, x / 0 = x, and −2^31 / −1 wrapping to −2^31 (the reference's rules; WebAssembly would trap). */
const divI32: Emit = (cx, [a, b]) => {
  const f = cx.f;
  const out = f.local(V128);
  const [x, y, d] = [f.local(0x7f), f.local(0x7f), f.local(0x7f)];
  f.local_get(a!).local_set(out);
  for (let lane = 0; lane < 4; lane++) {
    f.local_get(a!).i32x4_extract_lane(lane).local_set(x);
    f.local_get(b!).i32x4_extract_lane(lane).local_tee(y).local_set(d);
    // Divide by 1 where y is 0 (x / 0 = x) or −1 (taken from 0 − x below), so that nothing traps.
    f.local_get(y).i32_eqz().local_get(y).i32_const(-1).i32_eq().i32_or();
    f.if(() => f.i32_const(1).local_set(d));
    f.local_get(out);
    f.i32_const(0).local_get(x).i32_sub();
    f.local_get(x).local_get(d).i32_div_s();
    f.local_get(y).i32_const(-1).i32_eq().select();
    f.i32x4_replace_lane(lane).local_set(out);
  }
  f.local_get(out);
};

const LANE_OPS: { readonly [op: string]: Emit } = {
  neg: (cx, [x], t) => void (t === "f32" ? cx.f.local_get(x!).f32x4_neg() : cx.f.local_get(x!).i32x4_neg()),
  exp: (cx, [x]) => emitExp(cx, x!),
  log: (cx, [x]) => emitLog(cx, x!),
  sqrt: (cx, [x]) => void cx.f.local_get(x!).f32x4_sqrt(),
  recip: (cx, [x]) => {
    splat(cx, 1, "f32");
    cx.f.local_get(x!).f32x4_div();
  },
  tanh: (cx, [x]) => emitTanh(cx, x!),
  sigmoid: (cx, [x]) => emitSigmoid(cx, x!),
  erf: (cx, [x]) => emitErf(cx, x!),
  abs: (cx, [x], t) => void (t === "f32" ? cx.f.local_get(x!).f32x4_abs() : cx.f.local_get(x!).i32x4_abs()),
  sign: (cx, [x], t) => {
    const f = cx.f;
    // 1 where x > 0, −1 where x < 0, x itself elsewhere (±0, and NaN for floats).
    if (t === "f32") {
      splat(cx, -1, "f32");
      splat(cx, 1, "f32");
      f.local_get(x!);
      f.local_get(x!);
      splat(cx, 0, "f32");
      f.f32x4_gt().v128_bitselect();
      f.local_get(x!);
      splat(cx, 0, "f32");
      f.f32x4_lt().v128_bitselect();
    } else {
      splat(cx, -1, "i32");
      splat(cx, 1, "i32");
      f.local_get(x!);
      f.local_get(x!);
      splat(cx, 0, "i32");
      f.i32x4_gt_s().v128_bitselect();
      f.local_get(x!);
      splat(cx, 0, "i32");
      f.i32x4_lt_s().v128_bitselect();
    }
  },
  relu: (cx, [x], t) => {
    cx.f.local_get(x!);
    splat(cx, 0, t);
    if (t === "f32") cx.f.f32x4_max();
    else cx.f.i32x4_max_s();
  },
  sin: (cx, [x]) => emitSinCos(cx, x!, false),
  cos: (cx, [x]) => emitSinCos(cx, x!, true),
  detach: (cx, [x]) => void cx.f.local_get(x!),

  add: (cx, [a, b], t) => void (t === "f32" ? cx.f.local_get(a!).local_get(b!).f32x4_add() : cx.f.local_get(a!).local_get(b!).i32x4_add()),
  sub: (cx, [a, b], t) => void (t === "f32" ? cx.f.local_get(a!).local_get(b!).f32x4_sub() : cx.f.local_get(a!).local_get(b!).i32x4_sub()),
  mul: (cx, [a, b], t) => void (t === "f32" ? cx.f.local_get(a!).local_get(b!).f32x4_mul() : cx.f.local_get(a!).local_get(b!).i32x4_mul()),
  div: (cx, x, t) => (t === "f32" ? void cx.f.local_get(x[0]!).local_get(x[1]!).f32x4_div() : divI32(cx, x, t)),
  maximum: (cx, [a, b], t) => void (t === "f32" ? cx.f.local_get(a!).local_get(b!).f32x4_max() : cx.f.local_get(a!).local_get(b!).i32x4_max_s()),
  minimum: (cx, [a, b], t) => void (t === "f32" ? cx.f.local_get(a!).local_get(b!).f32x4_min() : cx.f.local_get(a!).local_get(b!).i32x4_min_s()),
  pow: (cx, [a, b]) => emitPow(cx, a!, b!),
  cmplt: (cx, [a, b], t) => {
    cx.f.local_get(a!).local_get(b!);
    if (t === "f32") cx.f.f32x4_lt();
    else cx.f.i32x4_lt_s();
    bool(cx);
  },
  cmpeq: (cx, [a, b], t) => {
    cx.f.local_get(a!).local_get(b!);
    if (t === "f32") cx.f.f32x4_eq();
    else cx.f.i32x4_eq();
    bool(cx);
  },
  where: (cx, [c, a, b]) => {
    cx.f.local_get(a!).local_get(b!).local_get(c!);
    splat(cx, 0, "i32");
    cx.f.i32x4_ne().v128_bitselect();
  },
};

/**
 * Pushes op `op` applied to the v128 locals `operands`, whose dtype is
 * `dtype` (`where`: that of its two values); `cast` converts to `out`.
 */
export function emitPointwise(cx: MathContext, op: Op, operands: readonly number[], dtype: DType, out: DType): void {
  if (op === "cast") {
    cx.f.local_get(operands[0]!);
    if (dtype === out) return;
    if (out === "i32") cx.f.i32x4_trunc_sat_f32x4_s();
    else cx.f.f32x4_convert_i32x4_s();
    return;
  }
  const emit = LANE_OPS[op];
  if (emit === undefined) throw new Error(`cpu: op ${op} has no WebAssembly SIMD code`);
  emit(cx, operands, dtype);
}
