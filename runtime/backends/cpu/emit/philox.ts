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
import { Code, F64, I32, I64, V128 } from "../wasm.js";

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



/**
 * `philoxBlocks(dst, groups, lo, hi, step, seed, stream)`: the words of
 * consecutive blocks of the stream (seed, stream, step), starting at block
 * hi·2^32 + lo, written at `dst` in element order (block b's four words, then
 * block b + 1's, …), 16 words a group of four blocks, for `groups` groups
 * rounded up to a multiple of `ways` (so up to `ways` − 1 groups more than
 * asked are written). One v128 holds one counter word of four blocks, so each
 * round is four blocks' Philox at once: the 64-bit products from
 * i64x2.extmul of the low and high lane pairs, their high and low halves
 * gathered by shuffles; `ways` groups go through each round side by side,
 * their chains independent (4 measured fastest in V8 on x86-64, about twice
 * the words a second of Philox on scalar i64 products; bench/RESULTS.md). The block's high word carries where
 * the low one wraps, lane by lane. A 4×4 transpose of the four words puts
 * each block's words together before the stores.
 */
export function philoxBlocksCode(ways: number = 4): Code {
  const f = new Code([I32, I32, I32, I32, I32, I32, I32]);
  const [dst, groups, lo, hi, step, seed, stream] = [0, 1, 2, 3, 4, 5, 6];
  const v = () => f.local(V128);
  const [k0, k1] = [v(), v()];
  const sets = Array.from({ length: ways }, () => ({ c0: v(), c1: v(), c2: v(), c3: v(), p: v(), q: v(), hi0: v(), lo0: v() }));
  const [t0, t1, t2, t3] = [v(), v(), v(), v()];
  const round = f.local(I32);
  const splat = (x: number) => f.v128_const_i32([x, x, x, x]);
  f.block(() =>
    f.loop(() => {
      f.local_get(groups).i32_const(1).i32_lt_s().br_if(1);
      sets.forEach(({ c0, c1, c2, c3 }, w) => {
        // Counter [block lo, block hi, step, 0] of blocks lo + 4w + 0‥3, the high word plus one in a lane whose low word wrapped.
        f.local_get(lo).i32x4_splat().v128_const_i32([4 * w, 4 * w + 1, 4 * w + 2, 4 * w + 3]).i32x4_add().local_set(c0);
        f.local_get(hi).i32x4_splat().local_get(c0).local_get(lo).i32x4_splat().i32x4_lt_u().i32x4_sub().local_set(c1);
        f.local_get(step).i32x4_splat().local_set(c2);
        f.v128_zero().local_set(c3);
      });
      f.local_get(seed).i32x4_splat().local_set(k0);
      f.local_get(stream).i32x4_splat().local_set(k1);
      // The rounds as a loop, not unrolled, to keep the module under the 4 KiB a browser's main thread compiles; the key is bumped after each round (after the last, harmlessly).
      f.i32_const(PHILOX_ROUNDS).local_set(round);
      f.loop(() => {
        for (const { c0, c1, c2, c3, p, q, hi0, lo0 } of sets) {
          // hi0, lo0: the halves of M0·c0; then M1·c2's 64-bit products, left in p (lanes 0, 1) and q (lanes 2, 3).
          f.local_get(c0);
          splat(PHILOX_M0).i64x2_extmul_low_i32x4_u().local_set(p);
          f.local_get(c0);
          splat(PHILOX_M0).i64x2_extmul_high_i32x4_u().local_set(q);
          f.local_get(p).local_get(q).i32x4_shuffle([1, 3, 5, 7]).local_set(hi0);
          f.local_get(p).local_get(q).i32x4_shuffle([0, 2, 4, 6]).local_set(lo0);
          f.local_get(c2);
          splat(PHILOX_M1).i64x2_extmul_low_i32x4_u().local_set(p);
          f.local_get(c2);
          splat(PHILOX_M1).i64x2_extmul_high_i32x4_u().local_set(q);
          // c0 = hi1 ^ c1 ^ k0; c1 = lo1; c2 = hi0 ^ c3 ^ k1; c3 = lo0.
          f.local_get(p).local_get(q).i32x4_shuffle([1, 3, 5, 7]).local_get(c1).v128_xor().local_get(k0).v128_xor().local_set(c0);
          f.local_get(p).local_get(q).i32x4_shuffle([0, 2, 4, 6]).local_set(c1);
          f.local_get(hi0).local_get(c3).v128_xor().local_get(k1).v128_xor().local_set(c2);
          f.local_get(lo0).local_set(c3);
        }
        f.local_get(k0);
        splat(PHILOX_W0).i32x4_add().local_set(k0);
        f.local_get(k1);
        splat(PHILOX_W1).i32x4_add().local_set(k1);
        f.local_get(round).i32_const(1).i32_sub().local_tee(round).br_if(0);
      });
      sets.forEach(({ c0, c1, c2, c3 }, w) => {
        // Transpose: t0 = [b0w0 b0w1 b1w0 b1w1], t1 = [b0w2 b0w3 b1w2 b1w3], t2, t3 the same of blocks 2 and 3.
        f.local_get(c0).local_get(c1).i32x4_shuffle([0, 4, 1, 5]).local_set(t0);
        f.local_get(c2).local_get(c3).i32x4_shuffle([0, 4, 1, 5]).local_set(t1);
        f.local_get(c0).local_get(c1).i32x4_shuffle([2, 6, 3, 7]).local_set(t2);
        f.local_get(c2).local_get(c3).i32x4_shuffle([2, 6, 3, 7]).local_set(t3);
        f.local_get(dst).local_get(t0).local_get(t1).i32x4_shuffle([0, 1, 4, 5]).v128_store(64 * w);
        f.local_get(dst).local_get(t0).local_get(t1).i32x4_shuffle([2, 3, 6, 7]).v128_store(64 * w + 16);
        f.local_get(dst).local_get(t2).local_get(t3).i32x4_shuffle([0, 1, 4, 5]).v128_store(64 * w + 32);
        f.local_get(dst).local_get(t2).local_get(t3).i32x4_shuffle([2, 3, 6, 7]).v128_store(64 * w + 48);
      });
      f.local_get(dst).i32_const(64 * ways).i32_add().local_set(dst);
      f.local_get(lo).i32_const(4 * ways).i32_add().local_tee(lo).i32_const(4 * ways).i32_lt_u().local_get(hi).i32_add().local_set(hi);
      f.local_get(groups).i32_const(ways).i32_sub().local_set(groups);
      f.br(0);
    }),
  );
  return f;
}

/**
 * `uniforms(src, dst, vectors)`: the uniform (w >>> 8)·2^−24 of each of
 * 4·`vectors` words at `src`, as float32 at `dst` (`f64` false) or float64
 * (`f64` true). The top 24 bits convert exactly either way.
 */
export function uniformsCode(f64: boolean): Code {
  const f = new Code([I32, I32, I32]);
  const [src, dst, vectors] = [0, 1, 2];
  const t = f.local(V128);
  f.block(() =>
    f.loop(() => {
      f.local_get(vectors).i32_eqz().br_if(1);
      f.local_get(src).v128_load(0).i32_const(8).i32x4_shr_u().local_set(t);
      if (f64) {
        f.local_get(dst).local_get(t).f64x2_convert_low_i32x4_s().f64_const(2 ** -24).f64x2_splat().f64x2_mul().v128_store(0);
        f.local_get(dst).local_get(t).local_get(t).i32x4_shuffle([2, 3, 0, 1]).f64x2_convert_low_i32x4_s().f64_const(2 ** -24).f64x2_splat().f64x2_mul().v128_store(16);
        f.local_get(dst).i32_const(32).i32_add().local_set(dst);
      } else {
        f.local_get(dst).local_get(t).f32x4_convert_i32x4_s().v128_const_f32([2 ** -24, 2 ** -24, 2 ** -24, 2 ** -24]).f32x4_mul().v128_store(0);
        f.local_get(dst).i32_const(16).i32_add().local_set(dst);
      }
      f.local_get(src).i32_const(16).i32_add().local_set(src);
      f.local_get(vectors).i32_const(1).i32_sub().local_set(vectors);
      f.br(0);
    }),
  );
  return f;
}

/**
 * `normals(src, dst, pairs)`: the Box–Muller pair of each two words (w, v) at
 * `src`, as in `rng/normal.ts` and `normalCode`: r = √(0 − 2·ln u1) with
 * u1 = ((w >>> 8) + 1)·2^−24, θ = π(2·u2 − 1) with u2 = (v >>> 8)·2^−24,
 * then r·cos θ and r·sin θ, in float64 (`log`, `sin`, `cos`: imported
 * function indices), stored as float32 (`f64` false) or float64 at `dst`.
 */
export function normalsCode(f64: boolean, imports: { readonly log: number; readonly sin: number; readonly cos: number }): Code {
  const f = new Code([I32, I32, I32]);
  const [src, dst, pairs] = [0, 1, 2];
  const [r, theta] = [f.local(F64), f.local(F64)];
  const size = f64 ? 8 : 4;
  const store = (offset: number) => (f64 ? f.f64_store(offset) : f.f32_demote_f64().f32_store(offset));
  f.block(() =>
    f.loop(() => {
      f.local_get(pairs).i32_eqz().br_if(1);
      f.f64_const(0).f64_const(2);
      f.local_get(src).i32_load(0).i32_const(8).i32_shr_u().i32_const(1).i32_add();
      f.f64_convert_i32_u().f64_const(2 ** -24).f64_mul().call(imports.log).f64_mul().f64_sub().f64_sqrt().local_set(r);
      f.f64_const(Math.PI).f64_const(2);
      f.local_get(src).i32_load(4).i32_const(8).i32_shr_u();
      f.f64_convert_i32_u().f64_const(2 ** -24).f64_mul().f64_mul().f64_const(1).f64_sub().f64_mul().local_set(theta);
      f.local_get(dst).local_get(r).local_get(theta).call(imports.cos).f64_mul();
      store(0);
      f.local_get(dst).local_get(r).local_get(theta).call(imports.sin).f64_mul();
      store(size);
      f.local_get(src).i32_const(8).i32_add().local_set(src);
      f.local_get(dst).i32_const(2 * size).i32_add().local_set(dst);
      f.local_get(pairs).i32_const(1).i32_sub().local_set(pairs);
      f.br(0);
    }),
  );
  return f;
}
