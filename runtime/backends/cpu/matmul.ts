/**
 * The CPU backend's matrix product: C = A · B for row-major float32 matrices
 * A [m, k], B [k, n], cache-blocked.
 *
 * The k loop is cut into blocks of KC and the n loop into blocks of NC. For
 * each (k block, n block), the piece of B is packed into panels of four columns
 * (`pack[panel][p][4]`, zero-padded past n) so the inner loop reads it
 * sequentially; then each group of four rows of A is multiplied into a 4×4
 * tile of C held in sixteen local variables (registers), summed in float64
 * over the k block and added to C once per block. The packing buffer is
 * allocated once, at compile time (`matmulScratch`).
 */

/** The depth of a k block: a 4-row strip of A (4·KC floats) and a panel of B (KC·4 floats) stay in L1. */
export const KC = 256;
/** The width of an n block: KC·NC floats of packed B (256 KiB) stay in L2. */
export const NC = 256;

/** A 4×4 tile at the right edge of C, where fewer than four columns remain. */
const edge = new Float64Array(16);

/** A packed 4-row strip of A (KC·4 floats); products never call out while using it. */
const strip = new Float32Array(KC * 4);

/** The packing buffer a product of inner size k and width n needs. */
export function matmulScratch(k: number, n: number): Float32Array {
  return new Float32Array(Math.min(KC, Math.max(k, 1)) * (Math.ceil(Math.min(NC, Math.max(n, 1)) / 4) * 4));
}

/** The account of `count` products [m, k] · [k, n] on `matmulInto`. */
export function matmulAccount(count: number, m: number, k: number, n: number): string {
  return (
    `JavaScript matmul${count > 1 ? `, ${count} products (batch)` : ""}: m=${m} k=${k} n=${n}; ` +
    `B packed in panels of 4 columns, 4×4 tiles summed in float64; k in blocks of ${KC}, n in blocks of ${NC}`
  );
}

/**
 * C[co ..] = A[ao ..] · B[bo ..], with A [m, k], B [k, n] and C [m, n] row-major
 * at the given offsets; C is overwritten.
 */
export function matmulInto(
  a: Float32Array,
  ao: number,
  b: Float32Array,
  bo: number,
  c: Float32Array,
  co: number,
  m: number,
  k: number,
  n: number,
  pack: Float32Array,
): void {
  c.fill(0, co, co + m * n);
  if (k === 0) return;
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    for (let j0 = 0; j0 < n; j0 += NC) {
      const nc = Math.min(NC, n - j0);
      const panels = Math.ceil(nc / 4);
      // Pack B[p0 : p0+kc, j0 : j0+nc] as panels of 4 columns.
      for (let q = 0; q < panels; q++) {
        const base = q * kc * 4;
        const j = j0 + q * 4;
        const width = Math.min(4, n - j);
        for (let p = 0; p < kc; p++) {
          const src = bo + (p0 + p) * n + j;
          const dst = base + p * 4;
          if (width === 4) {
            pack[dst] = b[src]!;
            pack[dst + 1] = b[src + 1]!;
            pack[dst + 2] = b[src + 2]!;
            pack[dst + 3] = b[src + 3]!;
          } else {
            for (let t = 0; t < 4; t++) pack[dst + t] = t < width ? b[src + t]! : 0;
          }
        }
      }
      let i = 0;
      for (; i + 4 <= m; i += 4) {
        // Pack the 4-row strip of A interleaved (`strip[p][4]`), so the inner loop reads 8 consecutive floats.
        const a0 = ao + i * k + p0;
        for (let p = 0; p < kc; p++) {
          const d = p * 4;
          strip[d] = a[a0 + p]!;
          strip[d + 1] = a[a0 + k + p]!;
          strip[d + 2] = a[a0 + 2 * k + p]!;
          strip[d + 3] = a[a0 + 3 * k + p]!;
        }
        for (let q = 0; q < panels; q++) {
          const base = q * kc * 4;
          let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
          let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
          let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
          let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
          for (let p = 0, bp = base, sp = 0; p < kc; p++, bp += 4, sp += 4) {
            const b0 = pack[bp]!, b1 = pack[bp + 1]!, b2 = pack[bp + 2]!, b3 = pack[bp + 3]!;
            const x0 = strip[sp]!, x1 = strip[sp + 1]!, x2 = strip[sp + 2]!, x3 = strip[sp + 3]!;
            c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
            c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
            c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
            c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3;
          }
          const j = j0 + q * 4;
          const r0 = co + i * n + j;
          if (j + 4 <= n) {
            c[r0] += c00; c[r0 + 1] += c01; c[r0 + 2] += c02; c[r0 + 3] += c03;
            const r1 = r0 + n;
            c[r1] += c10; c[r1 + 1] += c11; c[r1 + 2] += c12; c[r1 + 3] += c13;
            const r2 = r1 + n;
            c[r2] += c20; c[r2 + 1] += c21; c[r2 + 2] += c22; c[r2 + 3] += c23;
            const r3 = r2 + n;
            c[r3] += c30; c[r3 + 1] += c31; c[r3 + 2] += c32; c[r3 + 3] += c33;
          } else {
            const w = n - j;
            const e = edge;
            e[0] = c00; e[1] = c01; e[2] = c02; e[3] = c03; e[4] = c10; e[5] = c11; e[6] = c12; e[7] = c13;
            e[8] = c20; e[9] = c21; e[10] = c22; e[11] = c23; e[12] = c30; e[13] = c31; e[14] = c32; e[15] = c33;
            for (let r = 0; r < 4; r++) for (let t = 0; t < w; t++) c[r0 + r * n + t] += e[r * 4 + t]!;
          }
        }
      }
      // The last m mod 4 rows, one at a time.
      for (; i < m; i++) {
        const a0 = ao + i * k + p0;
        for (let q = 0; q < panels; q++) {
          const base = q * kc * 4;
          let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
          for (let p = 0; p < kc; p++) {
            const bp = base + p * 4;
            const x = a[a0 + p]!;
            c0 += x * pack[bp]!; c1 += x * pack[bp + 1]!; c2 += x * pack[bp + 2]!; c3 += x * pack[bp + 3]!;
          }
          const j = j0 + q * 4;
          const r0 = co + i * n + j;
          const w = Math.min(4, n - j);
          c[r0] += c0;
          if (w > 1) c[r0 + 1] += c1;
          if (w > 2) c[r0 + 2] += c2;
          if (w > 3) c[r0 + 3] += c3;
        }
      }
    }
  }
}
