/**
 * Elementary functions on four float32 lanes, as WebAssembly SIMD code: exp,
 * log, tanh, sigmoid, erf, and sin and cos. Each pushes its result on the
 * stack, from an operand held in a local, using fresh locals of the function
 * for its intermediates.
 *
 * Each keeps the special values of the reference's float64 functions (NaN in,
 * NaN out; exp(+∞) = +∞, exp(−∞) = 0; log(0) = −∞, log of a negative number
 * NaN; tanh(±∞) = ±1; erf(±∞) = ±1) and is accurate to a few float32 units
 * in the last place elsewhere: polynomials of the kind every vector math
 * library uses (exp: a Taylor series on [−ln2/2, ln2/2] and a scale by a
 * power of two in two steps, so that results past 2^127 overflow and those
 * below 2^−126 underflow gradually; log: e·ln2 + 2·atanh((m − 1)/(m + 1));
 * sin and cos: a reduction by π/2 in three parts, then Taylor series on
 * [−π/4, π/4]). Lanes whose sin or cos argument exceeds 8192 in magnitude,
 * where a three-part reduction loses bits, are computed by the engine's
 * Math.sin and Math.cos through imports, as the reference does.
 */
import { Code, V128 } from "../wasm.js";

/** What the math emitters need of the function they write into. */
export interface MathContext {
  readonly f: Code;
  /** The function indices of the imported float64 functions of one argument (and `pow` of two). */
  readonly imports: { readonly sin: number; readonly cos: number; readonly pow: number };
}

const splat = (f: Code, v: number): Code => f.v128_const_f32([v, v, v, v]);
const splatI = (f: Code, v: number): Code => f.v128_const_i32([v, v, v, v]);

/** Pushes a + b·x + c·x² + … (Horner) for the f32x4 in local `x`, coefficients lowest first. */
function horner(f: Code, x: number, coefs: readonly number[]): void {
  splat(f, coefs[coefs.length - 1]!);
  for (let i = coefs.length - 2; i >= 0; i--) {
    f.local_get(x).f32x4_mul();
    splat(f, coefs[i]!).f32x4_add();
  }
}

/** Pushes exp of the f32x4 in local `x`. */
export function emitExp(cx: MathContext, x: number): void {
  const f = cx.f;
  const [c, n, r] = [f.local(V128), f.local(V128), f.local(V128)];
  const ni = f.local(V128);
  // Clamped: exp(88.8) overflows and exp(−104) underflows to 0 as they should; NaN passes through min and max.
  f.local_get(x);
  splat(f, 88.8).f32x4_min();
  splat(f, -104).f32x4_max().local_set(c);
  f.local_get(c);
  splat(f, Math.LOG2E).f32x4_mul().f32x4_nearest().local_set(n);
  // r = c − n·ln2, ln2 in two parts so that n·ln2hi is exact.
  f.local_get(c).local_get(n);
  splat(f, 0.693359375).f32x4_mul().f32x4_sub();
  f.local_get(n);
  splat(f, -2.12194440e-4).f32x4_mul().f32x4_sub().local_set(r);
  horner(f, r, [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040]);
  // · 2^n as 2^⌊n/2⌋ · 2^(n − ⌊n/2⌋): both factors normal floats for every n the clamp allows.
  f.local_get(n).i32x4_trunc_sat_f32x4_s().local_set(ni);
  f.local_get(ni).i32_const(1).i32x4_shr_s();
  splatI(f, 127).i32x4_add().i32_const(23).i32x4_shl().f32x4_mul();
  f.local_get(ni).local_get(ni).i32_const(1).i32x4_shr_s().i32x4_sub();
  splatI(f, 127).i32x4_add().i32_const(23).i32x4_shl().f32x4_mul();
}

/** Pushes the natural logarithm of the f32x4 in local `x`. */
export function emitLog(cx: MathContext, x: number): void {
  const f = cx.f;
  const [y, e, m, s, z, big, result] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  // Subnormals scaled by 2^24 first (exactly), their exponent corrected after.
  f.local_get(x);
  splat(f, 2 ** 24).f32x4_mul();
  f.local_get(x);
  f.local_get(x).f32x4_abs();
  splat(f, 2 ** -126).f32x4_lt().v128_bitselect().local_set(y);
  // e = biased exponent − 127 (− 24 for the scaled), m = mantissa in [1, 2).
  f.local_get(y).i32_const(23).i32x4_shr_u();
  splatI(f, 0xff).v128_and();
  splatI(f, 127).i32x4_sub();
  splatI(f, 24);
  splatI(f, 0);
  f.local_get(x).f32x4_abs();
  splat(f, 2 ** -126).f32x4_lt().v128_bitselect().i32x4_sub().f32x4_convert_i32x4_s().local_set(e);
  f.local_get(y);
  splatI(f, 0x7fffff).v128_and();
  splatI(f, 0x3f800000).v128_or().local_set(m);
  // m in [√½, √2): halve those above √2 and count them in e.
  f.local_get(m);
  splat(f, Math.SQRT2).f32x4_gt().local_set(big);
  f.local_get(m);
  splat(f, 0.5).f32x4_mul().local_get(m).local_get(big).v128_bitselect().local_set(m);
  f.local_get(e);
  splat(f, 1);
  splat(f, 0).local_get(big).v128_bitselect().f32x4_add().local_set(e);
  // log m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.1716.
  f.local_get(m);
  splat(f, 1).f32x4_sub().local_get(m);
  splat(f, 1).f32x4_add().f32x4_div().local_set(s);
  f.local_get(s).local_get(s).f32x4_mul().local_set(z);
  horner(f, z, [2, 2 / 3, 2 / 5, 2 / 7, 2 / 9, 2 / 11]);
  f.local_get(s).f32x4_mul();
  // + e·ln2 in two parts.
  f.local_get(e);
  splat(f, -2.12194440e-4).f32x4_mul().f32x4_add();
  f.local_get(e);
  splat(f, 0.693359375).f32x4_mul().f32x4_add().local_set(result);
  // Special values: 0 → −∞, negative → NaN, +∞ → +∞, NaN → NaN.
  splat(f, -Infinity).local_get(result).local_get(x);
  splat(f, 0).f32x4_eq().v128_bitselect().local_set(result);
  splat(f, NaN).local_get(result).local_get(x);
  splat(f, 0).f32x4_lt().local_get(x).local_get(x).f32x4_ne().v128_or().v128_bitselect().local_set(result);
  splat(f, Infinity).local_get(result).local_get(x);
  splat(f, Infinity).f32x4_eq().v128_bitselect();
}

/** Pushes tanh of the f32x4 in local `x`. */
export function emitTanh(cx: MathContext, x: number): void {
  const f = cx.f;
  const [a, t, x2, small] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  f.local_get(x).f32x4_abs().local_set(a);
  // Large: (1 − e^(−2a)) / (1 + e^(−2a)) with x's sign; small (a < 0.3): its odd Taylor series, exact near 0.
  f.local_get(a);
  splat(f, -2).f32x4_mul().local_set(t);
  emitExp(cx, t);
  f.local_set(t);
  splat(f, 1).local_get(t).f32x4_sub();
  splat(f, 1).local_get(t).f32x4_add().f32x4_div();
  // copysign: the sign bit of x onto the positive result.
  f.local_get(x);
  splatI(f, -0x80000000).v128_and().v128_or().local_set(t);
  f.local_get(x).local_get(x).f32x4_mul().local_set(x2);
  horner(f, x2, [1, -1 / 3, 2 / 15, -17 / 315, 62 / 2835]);
  f.local_get(x).f32x4_mul();
  f.local_get(t);
  f.local_get(a);
  splat(f, 0.3).f32x4_lt().local_tee(small).v128_bitselect();
}

/** Pushes 1 / (1 + e^(−x)) of the f32x4 in local `x`. */
export function emitSigmoid(cx: MathContext, x: number): void {
  const f = cx.f;
  const t = f.local(V128);
  f.local_get(x).f32x4_neg().local_set(t);
  splat(f, 1);
  splat(f, 1);
  emitExp(cx, t);
  f.f32x4_add().f32x4_div();
}

/** Pushes erf of the f32x4 in local `x`: a Maclaurin series below 0.5, 1 − erfc (the Chebyshev fit of Numerical Recipes) above. */
export function emitErf(cx: MathContext, x: number): void {
  const f = cx.f;
  const [a, x2, t, q, big] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  f.local_get(x).f32x4_abs().local_set(a);
  f.local_get(x).local_get(x).f32x4_mul().local_set(x2);
  // t = 1 / (1 + a/2); erfc = t · exp(−a² − 1.26551223 + t·P(t)).
  splat(f, 1);
  splat(f, 1).local_get(a);
  splat(f, 0.5).f32x4_mul().f32x4_add().f32x4_div().local_set(t);
  horner(f, t, [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277]);
  f.local_get(x2).f32x4_sub().local_set(q);
  emitExp(cx, q);
  f.local_get(t).f32x4_mul().local_set(q);
  // 1 − erfc with x's sign.
  splat(f, 1).local_get(q).f32x4_sub();
  f.local_get(x);
  splatI(f, -0x80000000).v128_and().v128_or().local_set(big);
  horner(f, x2, [1, -1 / 3, 1 / 10, -1 / 42, 1 / 216, -1 / 1320, 1 / 9360]);
  f.local_get(x).f32x4_mul();
  splat(f, 1.1283791670955126).f32x4_mul();
  f.local_get(big);
  f.local_get(a);
  splat(f, 0.5).f32x4_lt().v128_bitselect();
}

/** Pushes sin (or, with `cosine`, cos) of the f32x4 in local `x`. */
export function emitSinCos(cx: MathContext, x: number, cosine: boolean): void {
  const f = cx.f;
  const [n, r, r2, s, c, q, out] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  // n = nearest(x · 2/π); r = x − n·π/2 in three parts.
  f.local_get(x);
  splat(f, 2 / Math.PI).f32x4_mul().f32x4_nearest().local_set(n);
  f.local_get(x).local_get(n);
  splat(f, 1.5703125).f32x4_mul().f32x4_sub();
  f.local_get(n);
  splat(f, 4.837512969970703125e-4).f32x4_mul().f32x4_sub();
  f.local_get(n);
  splat(f, 7.54978995489188216e-8).f32x4_mul().f32x4_sub().local_set(r);
  f.local_get(r).local_get(r).f32x4_mul().local_set(r2);
  // sin r and cos r on [−π/4, π/4].
  horner(f, r2, [1, -1 / 6, 1 / 120, -1 / 5040, 1 / 362880]);
  f.local_get(r).f32x4_mul().local_set(s);
  horner(f, r2, [1, -1 / 2, 1 / 24, -1 / 720, 1 / 40320, -1 / 3628800]);
  f.local_set(c);
  // Quadrant q = n mod 4 (plus 1 for cos): 0 → s, 1 → c, 2 → −s, 3 → −c.
  f.local_get(n).i32x4_trunc_sat_f32x4_s();
  if (cosine) splatI(f, 1).i32x4_add();
  splatI(f, 3).v128_and().local_set(q);
  f.local_get(c).local_get(s);
  f.local_get(q);
  splatI(f, 1).v128_and();
  splatI(f, 0).i32x4_ne().v128_bitselect();
  // Negate where bit 1 of q is set.
  f.local_get(q);
  splatI(f, 2).v128_and();
  f.i32_const(30).i32x4_shl().v128_xor().local_set(out);
  // |x| > 8192 (and ±∞, NaN) per lane through the import, as the reference computes it.
  f.local_get(x).f32x4_abs();
  splat(f, 8192).f32x4_gt().v128_any_true();
  f.if(() => {
    for (let lane = 0; lane < 4; lane++) {
      f.local_get(x).f32x4_extract_lane(lane).f32_abs().f32_const(8192).f32_gt();
      f.if(() => {
        f.local_get(out);
        f.local_get(x).f32x4_extract_lane(lane).f64_promote_f32().call(cosine ? cx.imports.cos : cx.imports.sin).f32_demote_f64();
        f.f32x4_replace_lane(lane).local_set(out);
      });
    }
  });
  f.local_get(out);
}

/** Pushes a^b per lane of the f32x4 locals `a` and `b`, through the engine's Math.pow (as the reference computes it). */
export function emitPow(cx: MathContext, a: number, b: number): void {
  const f = cx.f;
  const out = f.local(V128);
  f.local_get(a).local_set(out);
  for (let lane = 0; lane < 4; lane++) {
    f.local_get(out);
    f.local_get(a).f32x4_extract_lane(lane).f64_promote_f32();
    f.local_get(b).f32x4_extract_lane(lane).f64_promote_f32();
    f.call(cx.imports.pow).f32_demote_f64().f32x4_replace_lane(lane).local_set(out);
  }
  f.local_get(out);
}
