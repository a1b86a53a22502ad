/**
 * The matrix product's inner kernel, shared by every matmul of a module:
 * `macro(a, b, c, mc, nc, kc, ldc, accumulate, tile)` adds (or, without
 * `accumulate`, writes) the product of a packed block of A (mc × kc, in
 * strips of 4 rows, each k-major: [kc][4]) and a packed block of B
 * (kc × nc, in strips of 8 columns: [kc][8]) into C at byte address c with
 * row stride ldc elements.
 *
 * It walks C in tiles of 4 rows × 8 columns held in eight f32x4 accumulators:
 * for each k it loads the strip's two vectors of B and splats each of A's
 * four values, a multiply-add for each of the eight (so each element loaded
 * serves four or eight products). 4 × 8 keeps every value in the 16 vector
 * registers V8 allocates (tiles of 12 accumulators measured at a third of
 * the speed here: spills). Columns of B's strip stay in L1 while A's strips
 * pass (B strips outer, A strips inner). Packing pads strips with zeros, so
 * every tile computes whole; a tile past C's edge goes to `tile` (32 floats
 * of scratch) and only its valid part is added to C.
 *
 * With `fused`, the multiply-add is relaxed SIMD's `f32x4.relaxed_madd`
 * (one fused instruction where the engine has it); otherwise `f32x4.mul`
 * then `f32x4.add`. Sums run in float32 in order of k, like every sgemm.
 */
import { Code, F32, I32, V128 } from "../wasm.js";

/** Rows of a tile (and of a strip of packed A). */
export const MR = 4;
/** Columns of a tile (and of a strip of packed B). */
export const NR = 8;

/** The macro kernel's code; `fused` chooses relaxed SIMD's multiply-add. */
export function macroKernelCode(fused: boolean): Code {
  const f = new Code(new Array(9).fill(I32));
  const [a, b, c, mc, nc, kc, ldc, accumulate, tile] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [ir, jr, pa, pb, pc, q, aStrip, bStrip, dst, ld, rows, cols, r, col] = Array.from({ length: 14 }, () => f.local(I32));
  const V = NR / 4;
  const acc = Array.from({ length: MR * V }, () => f.local(V128));
  const bv = Array.from({ length: V }, () => f.local(V128));
  const av = f.local(V128);
  const tv = f.local(F32);
  f.local_get(kc).i32_const(NR * 4).i32_mul().local_set(bStrip);
  f.local_get(kc).i32_const(MR * 4).i32_mul().local_set(aStrip);
  f.i32_const(0).local_set(jr);
  f.local_get(kc).i32_eqz();
  f.if(() => f.return_());
  f.block(() =>
    f.loop(() => {
      f.local_get(jr).local_get(nc).i32_ge_u().br_if(1);
      f.i32_const(0).local_set(ir);
      f.block(() =>
        f.loop(() => {
          f.local_get(ir).local_get(mc).i32_ge_u().br_if(1);
          // pa = a + (ir / MR)·aStrip, pb = b + (jr / NR)·bStrip.
          f.local_get(ir).i32_const(2).i32_shr_u().local_get(aStrip).i32_mul().local_get(a).i32_add().local_set(pa);
          f.local_get(jr).i32_const(3).i32_shr_u().local_get(bStrip).i32_mul().local_get(b).i32_add().local_set(pb);
          for (const x of acc) f.v128_zero().local_set(x);
          f.local_get(kc).local_set(q);
          f.loop(() => {
            for (let v = 0; v < V; v++) f.local_get(pb).v128_load(16 * v).local_set(bv[v]!);
            for (let row = 0; row < MR; row++) {
              f.local_get(pa).v128_load32_splat(4 * row).local_set(av);
              for (let v = 0; v < V; v++) {
                const x = acc[row * V + v]!;
                if (fused) f.local_get(av).local_get(bv[v]!).local_get(x).f32x4_relaxed_madd().local_set(x);
                else f.local_get(x).local_get(av).local_get(bv[v]!).f32x4_mul().f32x4_add().local_set(x);
              }
            }
            f.local_get(pa).i32_const(MR * 4).i32_add().local_set(pa);
            f.local_get(pb).i32_const(NR * 4).i32_add().local_set(pb);
            f.local_get(q).i32_const(1).i32_sub().local_tee(q).br_if(0);
          });
          // A whole tile goes to C (row stride ldc), a tile over C's edge to `tile` (row stride NR) first.
          f.local_get(ir).i32_const(MR).i32_add().local_get(mc).i32_le_u();
          f.local_get(jr).i32_const(NR).i32_add().local_get(nc).i32_le_u();
          f.i32_and();
          f.ifElse(
            () => {
              f.local_get(ir).local_get(ldc).i32_mul().local_get(jr).i32_add().i32_const(4).i32_mul().local_get(c).i32_add().local_set(dst);
              f.local_get(ldc).i32_const(4).i32_mul().local_set(ld);
              for (let row = 0; row < MR; row++) {
                for (let v = 0; v < V; v++) {
                  const x = acc[row * V + v]!;
                  f.local_get(accumulate);
                  f.if(() => f.local_get(x).local_get(dst).v128_load(16 * v).f32x4_add().local_set(x));
                  f.local_get(dst).local_get(x).v128_store(16 * v);
                }
                if (row + 1 < MR) f.local_get(dst).local_get(ld).i32_add().local_set(dst);
              }
            },
            () => {
              for (let row = 0; row < MR; row++) for (let v = 0; v < V; v++) f.local_get(tile).local_get(acc[row * V + v]!).v128_store(16 * (row * V + v));
              // rows = min(MR, mc − ir), cols = min(NR, nc − jr).
              f.local_get(mc).local_get(ir).i32_sub().local_tee(rows).i32_const(MR).local_get(rows).i32_const(MR).i32_lt_u().select().local_set(rows);
              f.local_get(nc).local_get(jr).i32_sub().local_tee(cols).i32_const(NR).local_get(cols).i32_const(NR).i32_lt_u().select().local_set(cols);
              f.i32_const(0).local_set(r);
              f.loop(() => {
                f.i32_const(0).local_set(col);
                f.loop(() => {
                  // dst = c + ((ir + r)·ldc + jr + col)·4
                  f.local_get(ir).local_get(r).i32_add().local_get(ldc).i32_mul().local_get(jr).i32_add().local_get(col).i32_add().i32_const(4).i32_mul().local_get(c).i32_add().local_set(dst);
                  f.local_get(tile).local_get(r).i32_const(NR).i32_mul().local_get(col).i32_add().i32_const(4).i32_mul().i32_add().f32_load().local_set(tv);
                  f.local_get(accumulate);
                  f.if(() => f.local_get(tv).local_get(dst).f32_load().f32_add().local_set(tv));
                  f.local_get(dst).local_get(tv).f32_store();
                  f.local_get(col).i32_const(1).i32_add().local_tee(col).local_get(cols).i32_lt_u().br_if(0);
                });
                f.local_get(r).i32_const(1).i32_add().local_tee(r).local_get(rows).i32_lt_u().br_if(0);
              });
            },
          );
          f.local_get(ir).i32_const(MR).i32_add().local_set(ir);
          f.br(0);
        }),
      );
      f.local_get(jr).i32_const(NR).i32_add().local_set(jr);
      f.br(0);
    }),
  );
  return f;
}
