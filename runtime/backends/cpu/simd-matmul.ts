/**
 * The CPU backend's WebAssembly SIMD matrix product: C = A · B for row-major
 * float32 matrices that live in one WebAssembly memory (see `arena.ts`).
 *
 * The kernel (`matmulCode`, about 2 KiB of WebAssembly) walks C in tiles of
 * 4 rows × 8 columns held in eight f32x4 accumulators: for each p it loads
 * two vectors of B's row p, load-splats A[i + r, p] for each of the four rows
 * and multiplies-adds, so each element of A and B loaded serves 8 or 4 products.
 * Edges fall back to 4 × 4 tiles, then 4 × 1 scalar tiles, then single rows.
 * Sums run in float32, like every BLAS sgemm.
 *
 * `blockedMatmul` adds cache blocking around it in JavaScript: k in blocks of KC
 * and n in blocks of NC, so the KC × NC block of B the kernel reads over and
 * over (256 KiB) stays in L2; later k blocks add into C. Either operand may be
 * stored transposed: A through the kernel's strides (a transposed A's four
 * rows at one p are neighbours), B by packing each block transposed first.
 */
import { Code, F32, I32, V128 } from "./wasm.js";

/** The depth of a k block. */
const KC = 256;
/** The width of an n block. */
const NC = 256;

/** The rows of the main tile (its columns are two f32x4 vectors). 4 × 8 measured faster than 5 × 8 and 6 × 8 here. */
const TILE_ROWS = 4;

/**
 * The kernel: `matmul(a, b, c, m, k, n, ars, aps, ldb, ldc, accumulate)` with
 * byte addresses a, b, c; A[i, p] is at element i·ars + p·aps of a (so A may
 * be stored transposed: ars = 1, aps = its row length), B and C have row
 * strides ldb and ldc elements; C[m, n] = (C if accumulate) + A · B.
 * Requires k ≥ 1.
 */
export function matmulCode(): Code {
  const f = new Code(new Array(11).fill(I32));
  const [a, b, c, m, k, n, ars, aps, ldb, ldc, accumulate] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [i, j, q, pa, pb, pc] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  // Byte strides: A's rows 1, 2, 3 below the current one, one step of p in A, one row of B, one row of C.
  const aRow = [-1, ...Array.from({ length: TILE_ROWS - 1 }, () => f.local(I32))];
  const [ap, lb, lc] = [f.local(I32), f.local(I32), f.local(I32)];
  const vacc = Array.from({ length: TILE_ROWS }, () => [f.local(V128), f.local(V128)]);
  const vb = [f.local(V128), f.local(V128)];
  const splat = f.local(V128);
  const sacc = Array.from({ length: TILE_ROWS }, () => f.local(F32));
  const sb = f.local(F32);

  const bytes = (from: number, to: number) => f.local_get(from).i32_const(4).i32_mul().local_set(to);
  bytes(ars, aRow[1]!);
  bytes(aps, ap);
  for (let r = 2; r < TILE_ROWS; r++) f.local_get(aRow[r - 1]!).local_get(aRow[1]!).i32_add().local_set(aRow[r]!);
  bytes(ldb, lb);
  bytes(ldc, lc);

  /** One tile of `rows` rows and `width` columns (8 or 4: vectors; 1: scalar) at (i, j). */
  const tile = (rows: number, width: number) => {
    const vectors = width / 4;
    const scalar = width === 1;
    // pa = a + i·ars·4, pb = b + j·4, pc = c + i·ldc·4 + j·4.
    f.local_get(i).local_get(aRow[1]!).i32_mul().local_get(a).i32_add().local_set(pa);
    f.local_get(j).i32_const(4).i32_mul().local_tee(q).local_get(b).i32_add().local_set(pb);
    f.local_get(i).local_get(lc).i32_mul().local_get(c).i32_add().local_get(q).i32_add().local_set(pc);
    for (let r = 0; r < rows; r++) {
      if (scalar) f.f32_const(0).local_set(sacc[r]!);
      else for (let v = 0; v < vectors; v++) f.v128_zero().local_set(vacc[r]![v]!);
    }
    f.local_get(k).local_set(q);
    f.loop(() => {
      if (scalar) f.local_get(pb).f32_load().local_set(sb);
      else for (let v = 0; v < vectors; v++) f.local_get(pb).v128_load(16 * v).local_set(vb[v]!);
      for (let r = 0; r < rows; r++) {
        f.local_get(pa);
        if (r > 0) f.local_get(aRow[r]!).i32_add();
        if (scalar) {
          f.f32_load().local_get(sb).f32_mul().local_get(sacc[r]!).f32_add().local_set(sacc[r]!);
          continue;
        }
        f.v128_load32_splat().local_set(splat);
        for (let v = 0; v < vectors; v++) {
          f.local_get(vacc[r]![v]!).local_get(splat).local_get(vb[v]!).f32x4_mul().f32x4_add().local_set(vacc[r]![v]!);
        }
      }
      f.local_get(pa).local_get(ap).i32_add().local_set(pa);
      f.local_get(pb).local_get(lb).i32_add().local_set(pb);
      f.local_get(q).i32_const(1).i32_sub().local_tee(q).br_if(0);
    });
    // Store the tile row by row, adding what C held when accumulating.
    for (let r = 0; r < rows; r++) {
      if (scalar) {
        f.local_get(accumulate).if(() => f.local_get(sacc[r]!).local_get(pc).f32_load().f32_add().local_set(sacc[r]!));
        f.local_get(pc).local_get(sacc[r]!).f32_store();
      } else {
        for (let v = 0; v < vectors; v++) {
          const acc = vacc[r]![v]!;
          f.local_get(accumulate).if(() => f.local_get(acc).local_get(pc).v128_load(16 * v).f32x4_add().local_set(acc));
          f.local_get(pc).local_get(acc).v128_store(16 * v);
        }
      }
      if (r + 1 < rows) f.local_get(pc).local_get(lc).i32_add().local_set(pc);
    }
  };

  /** `while (x + step <= bound) { body; x += step }`. */
  const strip = (x: number, step: number, bound: number, body: () => void) =>
    f.block(() =>
      f.loop(() => {
        f.local_get(x).i32_const(step).i32_add().local_get(bound).i32_gt_u().br_if(1);
        body();
        f.local_get(x).i32_const(step).i32_add().local_set(x);
        f.br(0);
      }),
    );

  // Rows in fours, then one at a time; within them, columns in eights, fours, ones.
  for (const rows of [TILE_ROWS, 1]) {
    strip(i, rows, m, () => {
      f.i32_const(0).local_set(j);
      for (const width of [8, 4, 1]) strip(j, width, n, () => tile(rows, width));
    });
  }
  return f;
}

/** The account of `count` products [m, k] · [k, n] on `blockedMatmul`, each operand read as stored or transposed. */
export function simdMatmulAccount(count: number, m: number, k: number, n: number, aTransposed: boolean, bTransposed: boolean): string {
  const blocks = (size: number, block: number) => `${Math.ceil(size / block)} block(s) of ${block}`;
  return [
    `WebAssembly SIMD kernel "matmul"${count > 1 ? `, ${count} products (batch)` : ""}: m=${m} k=${k} n=${n}`,
    `A ${aTransposed ? "read transposed (stored [k, m], through its strides)" : "as stored [m, k]"}`,
    `B ${bTransposed ? "read transposed (stored [n, k], each block packed transposed first)" : "as stored [k, n]"}`,
    `${TILE_ROWS}×8 tiles in f32x4 accumulators (edges 4×4, 4×1, single rows)`,
    `k in ${blocks(k, KC)}, n in ${blocks(n, NC)}`,
  ].join("; ");
}

/** Bytes of packing space a product with a transposed B needs in the memory (one KC × NC block of B). */
export const PACK_BYTES = KC * NC * 4;

/**
 * A matmul on one memory: `(a, b, c, m, k, n, aTransposed, bTransposed)`
 * with byte offsets of row-major A [m, k] (or, when `aTransposed`, Aᵀ [k, m]),
 * B [k, n] (or Bᵀ [n, k]) and C [m, n] in the memory; C is overwritten.
 */
export type SimdMatmul = (a: number, b: number, c: number, m: number, k: number, n: number, aTransposed: boolean, bTransposed: boolean) => void;

/**
 * The matmul over `kernel` (the instantiated `matmulCode`), blocked for the
 * cache. `memory` views the whole memory; `pack` is the byte offset of
 * PACK_BYTES of it where a transposed B's blocks are packed (transposed) before
 * the kernel reads them: a transpose inside the cache instead of a separate
 * kernel streaming the whole matrix through memory.
 */
export function blockedMatmul(kernel: (...args: number[]) => void, memory: Float32Array, pack: number): SimdMatmul {
  return (a, b, c, m, k, n, aTransposed, bTransposed) => {
    if (m === 0 || n === 0) return;
    if (k === 0) {
      memory.fill(0, c >> 2, (c >> 2) + m * n);
      return;
    }
    // A's strides: along a row and from row to row, in elements.
    const [ars, aps] = aTransposed ? [1, m] : [k, 1];
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = Math.min(KC, k - p0);
      const ab = a + 4 * p0 * aps;
      for (let j0 = 0; j0 < n; j0 += NC) {
        const nc = Math.min(NC, n - j0);
        const accumulate = p0 > 0 ? 1 : 0;
        if (!bTransposed) {
          kernel(ab, b + 4 * (p0 * n + j0), c + 4 * j0, m, kc, nc, ars, aps, n, n, accumulate);
          continue;
        }
        // pack[p][j] = Bᵀ[j0 + j][p0 + p]: reads run along Bᵀ's rows; the kc written lines stay in L1.
        const dst = pack >> 2;
        for (let j = 0; j < nc; j++) {
          const src = (b >> 2) + (j0 + j) * k + p0;
          for (let p = 0; p < kc; p++) memory[dst + p * nc + j] = memory[src + p]!;
        }
        kernel(ab, pack, c + 4 * j0, m, kc, nc, ars, aps, nc, n, accumulate);
      }
    }
  };
}
