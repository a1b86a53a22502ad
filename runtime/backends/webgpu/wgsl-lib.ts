/**
 * The pieces of WGSL that kernels share: how numbers are spelled, and the
 * helper functions (NaN-aware max, the error function, Philox-4x32-10) that a
 * kernel's source includes when it uses them.
 *
 * Nothing from a kernel graph reaches WGSL as text except through `f32Lit`,
 * `i32Lit` and `u32Lit`, which accept numbers only and spell non-finite values
 * and −0 by their bits, so a graph can never inject code.
 */
import type { DType } from "../../ir/ops.js";
import { PHILOX_M0, PHILOX_M1, PHILOX_W0, PHILOX_W1, PHILOX_ROUNDS } from "../../rng/philox.js";

const bits = new DataView(new ArrayBuffer(4));

/**
 * The storage bindings of a shader that reads `inputs` and writes `outputs`
 * (their element types, in binding order): `in0`, `in1`, … read-only, then
 * `out`, `out1`, … read-write. The types are DTypes, never graph text.
 */
export function storageBindings(inputs: readonly DType[], outputs: readonly DType[]): string[] {
  return [
    ...inputs.map((t, j) => `@group(0) @binding(${j}) var<storage, read> in${j}: array<${t}>;`),
    ...outputs.map((t, j) => `@group(0) @binding(${inputs.length + j}) var<storage, read_write> out${j === 0 ? "" : j}: array<${t}>;`),
  ];
}

/** A u32 literal; throws unless `value` is an integer in [0, 2^32). */
export function u32Lit(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`webgpu: ${value} is not a u32`);
  return `${value}u`;
}

/** An f32 literal: the nearest float32, in decimal when finite, else (and for −0) by its bits. */
export function f32Lit(value: number): string {
  if (typeof value !== "number") throw new Error(`webgpu: ${String(value)} is not a number`);
  const f = Math.fround(value);
  if (Number.isFinite(f) && !Object.is(f, -0)) {
    const text = String(f);
    return /[.e]/.test(text) ? `${text}f` : `${text}.0f`;
  }
  bits.setFloat32(0, f);
  // Through a function: WGSL rejects NaN and ±∞ in constant expressions.
  return `f32_bits(0x${bits.getUint32(0).toString(16).padStart(8, "0")}u)`;
}

/** An i32 literal; throws unless `value` is an integer in the i32 range. */
export function i32Lit(value: number): string {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) throw new Error(`webgpu: ${value} is not an i32`);
  // −2^31 has no literal: its magnitude overflows before the minus applies.
  return value === -(2 ** 31) ? "bitcast<i32>(0x80000000u)" : `${value}i`;
}

/** A literal of a dtype. */
export function lit(value: number, dtype: DType): string {
  return dtype === "f32" ? f32Lit(value) : i32Lit(value);
}

/**
 * Helper functions by name. Compilers may assume there are no NaNs, so NaN
 * tests look at the bits rather than comparing a value with itself.
 */
export const HELPERS = {
  f32_bits: `fn f32_bits(b: u32) -> f32 {
  return bitcast<f32>(b);
}`,
  is_nan: `fn is_nan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}`,
  fmax: `fn fmax(a: f32, b: f32) -> f32 {
  if (is_nan(a) || is_nan(b)) { return f32_bits(0x7fc00000u); }
  if (a == b) { return select(a, b, bitcast<u32>(a) == 0x80000000u); }
  return select(b, a, a > b);
}`,
  fmin: `fn fmin(a: f32, b: f32) -> f32 {
  if (is_nan(a) || is_nan(b)) { return f32_bits(0x7fc00000u); }
  if (a == b) { return select(b, a, bitcast<u32>(a) == 0x80000000u); }
  return select(b, a, a < b);
}`,
  // tanh from one exponential of a non-positive number: never overflows.
  ftanh: `fn ftanh(x: f32) -> f32 {
  let t = exp(-2.0f * abs(x));
  return sign(x) * (1.0f - t) / (1.0f + t);
}`,
  // Abramowitz and Stegun 7.1.26: absolute error below 1.5e-7.
  ferf: `fn ferf(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0f / (1.0f + 0.3275911f * a);
  let p = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  return sign(x) * (1.0f - p * exp(-a * a));
}`,
  // sin and cos to float32 accuracy at any size (WGSL only bounds its own on [−π, π], to 2^-11):
  // Cody–Waite reduction by π/2 in three parts, then Cephes' sinf / cosf polynomials on [−π/4, π/4].
  sin_quadrant: `fn sin_quadrant(x: f32, shift: u32) -> f32 {
  let k = round(x * 0.636619772f);
  let r = ((x - k * 1.5703125f) - k * 4.837512969970703125e-4f) - k * 7.54978995489188216e-8f;
  let q = (u32(i32(k) & 3i) + shift) & 3u;
  let r2 = r * r;
  let s = r + r * r2 * (-1.6666654611e-1f + r2 * (8.3321608736e-3f + r2 * -1.9515295891e-4f));
  let c = 1.0f - 0.5f * r2 + r2 * r2 * (4.166664568298827e-2f + r2 * (-1.388731625493765e-3f + r2 * 2.443315711809948e-5f));
  let v = select(s, c, (q & 1u) == 1u);
  return select(v, -v, q >= 2u);
}`,
  fsin: `fn fsin(x: f32) -> f32 {
  return sin_quadrant(x, 0u);
}`,
  fcos: `fn fcos(x: f32) -> f32 {
  return sin_quadrant(x, 1u);
}`,
  // a^b as Math.pow: WGSL's pow is undefined for a < 0 and for b = 0 at a = 0.
  fpow: `fn fpow(a: f32, b: f32) -> f32 {
  if (b == 0.0f) { return 1.0f; }
  let r = pow(abs(a), b);
  if (a >= 0.0f || is_nan(a)) { return r; }
  if (floor(b) != b) { return f32_bits(0x7fc00000u); }
  let odd = abs(b) < 16777216.0f && (i32(abs(b)) & 1i) == 1i;
  return select(r, -r, odd);
}`,
  // f32 → i32 as the IR defines it: toward zero, saturating, NaN to 0.
  to_i32: `fn to_i32(x: f32) -> i32 {
  if (is_nan(x)) { return 0i; }
  if (x >= 2147483648.0f) { return 2147483647i; }
  if (x <= -2147483648.0f) { return bitcast<i32>(0x80000000u); }
  return i32(x);
}`,
  // The high word of a u32 product from 16-bit halves (runtime/rng/philox.ts, mulhi32).
  mulhi32: `fn mulhi32(a: u32, b: u32) -> u32 {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let p11 = a1 * b1;
  let middle = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return p11 + (p01 >> 16u) + (p10 >> 16u) + (middle >> 16u);
}`,
  // Philox-4x32-10 of one counter under one key (runtime/rng/philox.ts, philoxInto).
  philox: `fn philox(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var r = 0u; r < ${u32Lit(PHILOX_ROUNDS)}; r++) {
    if (r > 0u) { k = k + vec2<u32>(${u32Lit(PHILOX_W0)}, ${u32Lit(PHILOX_W1)}); }
    let hi0 = mulhi32(${u32Lit(PHILOX_M0)}, c.x);
    let lo0 = ${u32Lit(PHILOX_M0)} * c.x;
    let hi1 = mulhi32(${u32Lit(PHILOX_M1)}, c.z);
    let lo1 = ${u32Lit(PHILOX_M1)} * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
  }
  return c;
}`,
} as const;

/** A helper's name. */
export type Helper = keyof typeof HELPERS;

/** Helpers that others call, which must come first. */
const NEEDS: Partial<Record<Helper, readonly Helper[]>> = {
  fmax: ["is_nan", "f32_bits"],
  fmin: ["is_nan", "f32_bits"],
  to_i32: ["is_nan"],
  fpow: ["is_nan", "f32_bits"],
  fsin: ["sin_quadrant"],
  fcos: ["sin_quadrant"],
  philox: ["mulhi32"],
};

/** The source of the helpers used, with what they call, in table order. */
export function helperSource(used: ReadonlySet<Helper>): string {
  const all = new Set<Helper>();
  for (const h of used) {
    for (const d of NEEDS[h] ?? []) all.add(d);
    all.add(h);
  }
  return (Object.keys(HELPERS) as Helper[])
    .filter((h) => all.has(h))
    .map((h) => HELPERS[h] + "\n")
    .join("\n");
}
