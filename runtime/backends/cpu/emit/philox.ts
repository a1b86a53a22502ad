/**
 * The shared counter-based generator (`runtime/rng`) in WebAssembly, so that
 * random draws (dropout masks, noise) are computed where a fused kernel reads
 * them instead of being filled into memory first. `philoxWord` is
 * Philox-4x32-10 of the counter [block, 0, step, 0] under the key
 * [seed, stream], its 64-bit products from i64 multiplies; a uniform is the top
 * 24 bits of a word times 2^−24 (`uniformAt`), and a normal the Box–Muller
 * pair of `rng/normal.ts`, its logarithm, sine and cosine in float64 through
 * imports, as the reference computes them. Element i of a stream is word
 * i mod 4 of block ⌊i / 4⌋, so every draw is bit for bit the reference's
 * (a normal to float64 rounding, then float32).
 */
import { PHILOX_M0, PHILOX_M1, PHILOX_ROUNDS, PHILOX_W0, PHILOX_W1 } from "../../../rng/philox.js";
import { Code, F64, I32, I64 } from "../wasm.js";

/** `philoxWord(block, step, seed, stream, lane) → i32`: word `lane` of the block's four. */
export function philoxWordCode(): Code {
  const f = new Code([I32, I32, I32, I32, I32]);
  const [block, step, seed, stream, lane] = [0, 1, 2, 3, 4];
  const [c0, c1, c2, c3, k0, k1, n0, n2] = Array.from({ length: 8 }, () => f.local(I32));
  const [p0, p1] = [f.local(I64), f.local(I64)];
  f.local_get(block).local_set(c0);
  f.i32_const(0).local_set(c1);
  f.local_get(step).local_set(c2);
  f.i32_const(0).local_set(c3);
  f.local_get(seed).local_set(k0);
  f.local_get(stream).local_set(k1);
  for (let r = 0; r < PHILOX_ROUNDS; r++) {
    if (r > 0) {
      f.local_get(k0).i32_const(PHILOX_W0).i32_add().local_set(k0);
      f.local_get(k1).i32_const(PHILOX_W1).i32_add().local_set(k1);
    }
    f.local_get(c0).i64_extend_i32_u().i32_const(PHILOX_M0).i64_extend_i32_u().i64_mul().local_set(p0);
    f.local_get(c2).i64_extend_i32_u().i32_const(PHILOX_M1).i64_extend_i32_u().i64_mul().local_set(p1);
    // c0 = hi1 ^ c1 ^ k0; c1 = lo1; c2 = hi0 ^ c3 ^ k1; c3 = lo0.
    f.local_get(p1).i64_const(32).i64_shr_u().i32_wrap_i64().local_get(c1).i32_xor().local_get(k0).i32_xor().local_set(n0);
    f.local_get(p0).i64_const(32).i64_shr_u().i32_wrap_i64().local_get(c3).i32_xor().local_get(k1).i32_xor().local_set(n2);
    f.local_get(p1).i32_wrap_i64().local_set(c1);
    f.local_get(p0).i32_wrap_i64().local_set(c3);
    f.local_get(n0).local_set(c0);
    f.local_get(n2).local_set(c2);
  }
  f.local_get(c0).local_get(c1).local_get(lane).i32_eqz().select();
  f.local_get(c2).local_get(c3).local_get(lane).i32_const(2).i32_eq().select();
  f.local_get(lane).i32_const(2).i32_lt_u().select();
  return f;
}

/** `uniform(index, step, seed, stream) → f32`, calling `philoxWord` (function index `word`). */
export function uniformCode(word: number): Code {
  const f = new Code([I32, I32, I32, I32]);
  const [index, step, seed, stream] = [0, 1, 2, 3];
  f.local_get(index).i32_const(2).i32_shr_u().local_get(step).local_get(seed).local_get(stream).local_get(index).i32_const(3).i32_and().call(word);
  f.i32_const(8).i32_shr_u().f32_convert_i32_s().f32_const(2 ** -24).f32_mul();
  return f;
}

/**
 * `normal(index, step, seed, stream) → f32`: the even lane of a pair is
 * r·cos θ, the odd r·sin θ, r = √(0 − 2·ln u1), θ = π(2·u2 − 1), in float64
 * (`log`, `sin`, `cos`: imported function indices).
 */
export function normalCode(word: number, imports: { readonly log: number; readonly sin: number; readonly cos: number }): Code {
  const f = new Code([I32, I32, I32, I32]);
  const [index, step, seed, stream] = [0, 1, 2, 3];
  const [first, r, theta] = [f.local(I32), f.local(F64), f.local(F64)];
  f.local_get(index).i32_const(2).i32_and().local_set(first);
  const wordAt = (plus: number) => {
    f.local_get(index).i32_const(2).i32_shr_u().local_get(step).local_get(seed).local_get(stream).local_get(first);
    if (plus > 0) f.i32_const(plus).i32_add();
    f.call(word).i32_const(8).i32_shr_u();
  };
  // u1 = ((w0 >>> 8) + 1)·2^−24 in (0, 1]; r = √(0 − 2·ln u1).
  f.f64_const(0).f64_const(2);
  wordAt(0);
  f.f64_convert_i32_u().f64_const(1).f64_add().f64_const(2 ** -24).f64_mul().call(imports.log).f64_mul().f64_sub().f64_sqrt().local_set(r);
  // θ = π·(2·u2 − 1).
  f.f64_const(Math.PI).f64_const(2);
  wordAt(1);
  f.f64_convert_i32_u().f64_const(2 ** -24).f64_mul().f64_mul().f64_const(1).f64_sub().f64_mul().local_set(theta);
  f.local_get(r).local_get(theta).call(imports.cos).f64_mul();
  f.local_get(r).local_get(theta).call(imports.sin).f64_mul();
  f.local_get(index).i32_const(1).i32_and().i32_eqz().select_f64();
  f.f32_demote_f64();
  return f;
}


