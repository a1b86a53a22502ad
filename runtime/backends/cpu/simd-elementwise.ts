/**
 * WebAssembly SIMD kernels for the float32 elementwise ops that dominate an
 * optimizer update (add, sub, mul, div, neg, sqrt): `op(o, x, y, n)` with
 * byte addresses computes n elements four at a time, then the last n mod 4
 * one at a time.
 *
 * Each of these ops is correctly rounded in float32 exactly as the JavaScript
 * path's float64 result rounded to float32 is (float64 carries more than
 * twice float32's precision), so both paths give the same bits.
 */
import { Code, I32 } from "./wasm.js";

/** The binary ops with a SIMD kernel, and their vector and scalar instructions. */
export const SIMD_BINARY = {
  add: (f: Code, vector: boolean) => (vector ? f.f32x4_add() : f.f32_add()),
  sub: (f: Code, vector: boolean) => (vector ? f.f32x4_sub() : f.f32_sub()),
  mul: (f: Code, vector: boolean) => (vector ? f.f32x4_mul() : f.f32_mul()),
  div: (f: Code, vector: boolean) => (vector ? f.f32x4_div() : f.f32_div()),
} as const;

/** The unary ops with a SIMD kernel. */
export const SIMD_UNARY = {
  neg: (f: Code, vector: boolean) => (vector ? f.f32x4_neg() : f.f32_neg()),
  sqrt: (f: Code, vector: boolean) => (vector ? f.f32x4_sqrt() : f.f32_sqrt()),
} as const;

/** An op with a SIMD kernel. */
export type SimdElementwiseOp = keyof typeof SIMD_BINARY | keyof typeof SIMD_UNARY;

/** The kernel of a binary (`arity` 2: `(o, x, y, n)`) or unary (`arity` 1: `(o, x, n)`) op. */
export function elementwiseCode(arity: 1 | 2, emit: (f: Code, vector: boolean) => unknown): Code {
  const f = new Code(new Array(arity + 2).fill(I32));
  const [o, x, y, n] = arity === 2 ? [0, 1, 2, 3] : [0, 1, -1, 2];
  const [at, end] = [f.local(I32), f.local(I32)];
  /** `while (at < end) { o[at] = op(x[at], y[at]); at += width }`, addresses in bytes. */
  const sweep = (vector: boolean) =>
    f.block(() =>
      f.loop(() => {
        f.local_get(at).local_get(end).i32_ge_u().br_if(1);
        f.local_get(o).local_get(at).i32_add();
        for (const operand of arity === 2 ? [x, y] : [x]) {
          f.local_get(operand).local_get(at).i32_add();
          if (vector) f.v128_load();
          else f.f32_load();
        }
        emit(f, vector);
        if (vector) f.v128_store();
        else f.f32_store();
        f.local_get(at).i32_const(vector ? 16 : 4).i32_add().local_set(at);
        f.br(0);
      }),
    );
  // Whole vectors up to byte (n − n mod 4)·4, then single elements up to n·4.
  f.local_get(n).i32_const(2).i32_shr_u().i32_const(4).i32_shl().local_set(end);
  sweep(true);
  f.local_get(n).i32_const(2).i32_shl().local_set(end);
  sweep(false);
  return f;
}
