/**
 * The definition of every elementwise op, one scalar function each.
 *
 * f32 values are computed in float64 (the reference backend never rounds to
 * float32). i32 values are exact integers held in float64; arithmetic on them
 * wraps to 32 bits like WGSL and C: `(a + b) | 0`, `Math.imul`, and division
 * truncates toward zero, with x / 0 = x (WGSL's rule, so no backend traps).
 */
import type { BinaryOp, DType, UnaryOp } from "../../ir/ops.js";

/** A scalar function of an elementwise unary op. */
export type UnaryFn = (x: number, dtype: DType) => number;

/** A scalar function of an elementwise binary op. */
export type BinaryFn = (a: number, b: number, dtype: DType) => number;

const wrap = (x: number): number => x | 0;

/** Unary ops. Float-only ops (see `OPS`) never see i32 values. */
export const UNARY: { readonly [O in UnaryOp]: UnaryFn } = {
  neg: (x, t) => (t === "i32" ? wrap(-x) : -x),
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  recip: (x) => 1 / x,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  erf: (x) => erf(x),
  abs: (x, t) => (t === "i32" ? wrap(Math.abs(x)) : Math.abs(x)),
  sign: (x) => Math.sign(x),
  relu: (x) => Math.max(x, 0),
  sin: Math.sin,
  cos: Math.cos,
  detach: (x) => x,
};

/** Binary ops; comparisons give 1 or 0. */
export const BINARY: { readonly [O in BinaryOp]: BinaryFn } = {
  add: (a, b, t) => (t === "i32" ? wrap(a + b) : a + b),
  sub: (a, b, t) => (t === "i32" ? wrap(a - b) : a - b),
  mul: (a, b, t) => (t === "i32" ? Math.imul(a, b) : a * b),
  div: (a, b, t) => (t === "i32" ? (b === 0 ? a : wrap(Math.trunc(a / b))) : a / b),
  maximum: (a, b) => Math.max(a, b),
  minimum: (a, b) => Math.min(a, b),
  pow: Math.pow,
  cmplt: (a, b) => (a < b ? 1 : 0),
  cmpeq: (a, b) => (a === b ? 1 : 0),
};

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * The error function to float64 accuracy (JavaScript has none). For |x| < 2.5,
 * the series erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)), whose
 * terms are all positive (no cancellation); beyond, 1 − erfc(x) with erfc from
 * its continued fraction, which converges fast there.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  if (a >= 6) return Math.sign(x);
  if (a < 2.5) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
    }
    return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  }
  return Math.sign(x) * (1 - erfcContinuedFraction(a));
}

/** erfc(x) for x ≥ 2.5: e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated bottom-up. */
function erfcContinuedFraction(x: number): number {
  let f = x;
  for (let n = 60; n >= 1; n--) f = x + n / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}
