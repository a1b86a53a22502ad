/**
 * A 4×4 transpose in registers: four vectors, each four neighbours along k
 * of one row (or column) of a packed strip, turned into four vectors, each
 * the four rows at one k, as the packed layout wants them. Two rounds of
 * shuffles; the packers (`matmul-kernel.ts`, `window-pack.ts`) load the rows
 * where k is consecutive in memory and store what this gives.
 */
import type { Code } from "../wasm.js";

/**
 * Transposes rows r0‥r3 (v128 locals) through the scratch locals a0‥a3:
 * calls `use(q, push)` for q = 0‥3, where `push()` leaves
 * (r0[q], r1[q], r2[q], r3[q]) on the stack.
 */
export function transpose4(f: Code, rows: readonly number[], scratch: readonly number[], use: (q: number, push: () => void) => void): void {
  const [r0, r1, r2, r3] = rows as [number, number, number, number];
  const [a0, a1, a2, a3] = scratch as [number, number, number, number];
  const shuffle = (u: number, v: number, lanes: [number, number, number, number], to: number) => f.local_get(u).local_get(v).i32x4_shuffle(lanes).local_set(to);
  // a0 = (r0[0], r1[0], r0[1], r1[1]), a1 = (r0[2], r1[2], r0[3], r1[3]); a2, a3 likewise of r2, r3.
  shuffle(r0, r1, [0, 4, 1, 5], a0);
  shuffle(r0, r1, [2, 6, 3, 7], a1);
  shuffle(r2, r3, [0, 4, 1, 5], a2);
  shuffle(r2, r3, [2, 6, 3, 7], a3);
  // k + q's vector: (r0[q], r1[q], r2[q], r3[q]).
  const ks: [number, number, [number, number, number, number]][] = [
    [a0, a2, [0, 1, 4, 5]],
    [a0, a2, [2, 3, 6, 7]],
    [a1, a3, [0, 1, 4, 5]],
    [a1, a3, [2, 3, 6, 7]],
  ];
  ks.forEach(([u, v, lanes], q) => use(q, () => f.local_get(u).local_get(v).i32x4_shuffle(lanes)));
}
