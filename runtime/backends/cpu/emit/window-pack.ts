/**
 * The packer of a matmul operand that reads an image's windows in place
 * (an implicit GEMM; the plan and its table are `window-plan.ts`). It has
 * the signature of the matmul kernel's other packers (`matmul-kernel.ts`):
 * `packA(b, i0, mc, p0, kc, dst, in…)` writes strips of 4 rows of A, each
 * [kc][4]; `packB(b, p0, kc, j0, nc, dst, in…)` strips of 8 columns of B,
 * each [kc][8]; lanes past the matrix's edge are zero. No window is ever
 * written to memory: each element is loaded from the image where it lies.
 *
 * Four lanes at a time: the table's row (per k where the table runs over k,
 * per lane where it runs over the strip's rows) gives each lane its offset
 * and guard bounds, T's digits give the rest; the guards make a lane mask,
 * masked lanes load the image's first element (always in bounds) and are
 * replaced by the fill. Where the four lanes are neighbours in the image and
 * all inside, they are one vector load. Where the table runs over k, a strip
 * whose lanes are neighbours and lie within the bounds every guard of the
 * slice holds (`SliceBounds`: most strips, away from the image's border)
 * skips the guards altogether: per k one table offset and one vector load.
 * Where the table runs over the strip's rows, each lane's next four k are
 * often four neighbours in memory (a row of the image): where every guard
 * admits them, they are one vector load per lane and a 4×4 transpose
 * (`transpose4.ts`) instead of sixteen scalar loads (`Quads`).
 */
import { Code, I32, V128 } from "../wasm.js";
import { MR, NR } from "./macro-kernel.js";
import { transpose4 } from "./transpose4.js";
import type { WindowPlan } from "./window-plan.js";

/**
 * Where the table runs over k: the slices of k the driver packs (`sliceK`
 * each) and, per slice, the bounds every one of its k's guards holds within
 * (a row of [L, U] per guard at byte address `at`: L the largest lo, U the
 * smallest lo + wide). A strip of neighbours whose lanes all lie within them
 * needs no guard for any k of the slice: one vector load per k.
 */
export interface SliceBounds {
  readonly sliceK: number;
  readonly at: number;
}

/** The per-slice guard bounds of a table over k (`SliceBounds`), as i32 rows [L₀, U₀, L₁, U₁, …]. */
export function sliceBoundsTable(plan: WindowPlan, kk: number, sliceK: number): Int32Array {
  const guards = plan.guards.length;
  const rowWords = 1 + 2 * guards;
  const slices = Math.ceil(kk / sliceK);
  const out = new Int32Array(slices * 2 * guards);
  const clamp = (v: number) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, v));
  for (let j = 0; j < slices; j++) {
    for (let g = 0; g < guards; g++) {
      let [lo, hi] = [-Infinity, Infinity];
      for (let p = j * sliceK; p < Math.min(kk, (j + 1) * sliceK); p++) {
        // The guard holds where fg − lo < wide, unsigned: lo ≤ fg < lo + wide.
        const [l, wide] = [plan.table[p * rowWords + 1 + 2 * g]!, plan.table[p * rowWords + 2 + 2 * g]! >>> 0];
        lo = Math.max(lo, l);
        hi = Math.min(hi, l + wide);
      }
      out[(j * guards + g) * 2] = clamp(lo);
      out[(j * guards + g) * 2 + 1] = clamp(hi);
    }
  }
  return out;
}

/**
 * Where the table runs over the strip's rows, how four k at once are read:
 * T's last digit steps by one with k (stride 1, every other digit's stride a
 * multiple of its size) and moves the offset by one element, so while it does
 * not wrap (below `lastDim` − 3) four k are four neighbours in memory; each
 * guard moves by `guardStep` per k.
 */
interface Quads {
  readonly lastDim: number;
  readonly guardStep: readonly number[];
}

function quadsOf(plan: WindowPlan): Quads | undefined {
  const n = plan.digits.length;
  if (n === 0) return undefined;
  const last = plan.digits[n - 1]!;
  if (last.stride !== 1 || plan.offset[n - 1] !== 1 || (n > 1 && last.dim < 4) || plan.digits.some((d, i) => i < n - 1 && d.stride % last.dim !== 0)) return undefined;
  return { lastDim: n > 1 ? last.dim : Infinity, guardStep: plan.guards.map((g) => g[n - 1]!) };
}

/** The packer of `plan` for operand `which`, its table at byte address `tableAt`, in a kernel of `inputs` inputs; `bounds` where the table runs over k. */
export function windowPacker(plan: WindowPlan, which: "A" | "B", tableAt: number, inputs: number, bounds?: SliceBounds): Code {
  const f = new Code(new Array(6 + inputs).fill(I32));
  const [outer0, outerCount, p0, kc, dst] = which === "A" ? [1, 2, 3, 4, 5] : [3, 4, 1, 2, 5];
  const inAddr = 6 + plan.input;
  const width = which === "A" ? MR : NR;
  const vectors = width / 4;
  const guards = plan.guards.length;
  const rowBytes = 4 * (1 + 2 * guards);
  const [s, p, at, t, row] = Array.from({ length: 5 }, () => f.local(I32));
  const digit = plan.digits.map(() => f.local(I32));
  const vec = () => Array.from({ length: vectors }, () => f.local(V128));
  const edge = vec();
  const contiguous = Array.from({ length: vectors }, () => f.local(I32));
  const [mask, addr, v, base] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const quads = plan.side === "outer" ? quadsOf(plan) : undefined;
  // The four rows of a quad and the transpose's scratch.
  const vec4 = () => Array.from({ length: 4 }, () => f.local(V128));
  const [rows, scratch] = quads === undefined ? [[], []] : [vec4(), vec4()];

  /** digit_d = ⌊t / stride_d⌋ mod dim_d (no mod for the first). */
  const digitsOfT = () => {
    plan.digits.forEach((d, i) => {
      f.local_get(t);
      if (d.stride > 1) f.i32_const(d.stride).i32_div_u();
      if (i > 0) f.i32_const(d.dim).i32_rem_u();
      f.local_set(digit[i]!);
    });
  };
  /** Pushes Σ coefs_d · digit_d. */
  const affine = (coefs: readonly number[]) => {
    let first = true;
    coefs.forEach((c, d) => {
      if (c === 0) return;
      f.local_get(digit[d]!);
      if (c !== 1) f.i32_const(c).i32_mul();
      if (!first) f.i32_add();
      first = false;
    });
    if (first) f.i32_const(0);
  };
  /** t = outer0 + min(s + w, count − 1): lane w's row (column), clamped inside the matrix. */
  const laneOuter = (w: number) => {
    f.local_get(outer0);
    f.local_get(s).i32_const(w).i32_add();
    f.local_get(outerCount).i32_const(1).i32_sub();
    f.local_get(s).i32_const(w).i32_add().local_get(outerCount).i32_lt_u().select();
    f.i32_add();
  };
  /** Where the lanes of vector `x` (byte offsets) are 0, 4, 8, 12 apart from its first: contiguous = 1. */
  const consecutive = (x: number, c: number, step: number) => {
    f.local_get(x).local_get(x).i32x4_extract_lane(0).i32x4_splat().i32x4_sub();
    f.v128_const_i32([0, step, 2 * step, 3 * step]).i32x4_eq().v128_not().v128_any_true().i32_eqz().local_set(c);
  };
  /** Stores vector `k` of the strip's row: offsets (elements) in `offsets`, mask already in `mask`. */
  const storeVector = (k: number) => {
    f.local_get(offsets[k]!);
    addOffsets(k);
    f.i32_const(2).i32x4_shl().local_get(base).i32x4_add().local_set(addr);
    f.local_get(contiguous[k]!).local_get(mask).v128_not().v128_any_true().i32_eqz().i32_and();
    f.ifElseValue(
      V128,
      () => f.local_get(addr).i32x4_extract_lane(0).v128_load(),
      () => {
        f.local_get(addr).local_get(base).local_get(mask).v128_bitselect().local_set(addr);
        f.v128_zero();
        for (let lane = 0; lane < 4; lane++) f.local_get(addr).i32x4_extract_lane(lane).f32_load().f32x4_replace_lane(lane);
        f.local_set(v);
        if (plan.fill === 0) f.local_get(v).local_get(mask).v128_and();
        else f.local_get(v).f32_const(plan.fill).f32x4_splat().local_get(mask).v128_bitselect();
      },
    );
    f.local_set(v);
    f.local_get(at).local_get(v).v128_store(16 * k);
  };

  // Per side: the vectors of offsets the lanes start from, and how a row's part is added.
  const offsets = vec();
  let addOffsets: (k: number) => void;
  f.local_get(inAddr).i32x4_splat().local_set(base);
  f.local_get(dst).local_set(at);
  f.i32_const(0).local_set(s);
  if (plan.side === "p") {
    // Lanes are rows (columns) of T: their digits once per strip; the table row per k.
    const fg = Array.from({ length: guards }, vec);
    const [offS, ...guardBounds] = [f.local(V128), ...Array.from({ length: 2 * guards }, () => f.local(V128))];
    const [sliceAt, step] = [f.local(I32), f.local(I32)];
    const starts = Array.from({ length: vectors }, () => f.local(I32));
    addOffsets = () => f.local_get(offS).i32x4_add();
    f.block(() =>
      f.loop(() => {
        f.local_get(s).local_get(outerCount).i32_ge_u().br_if(1);
        for (let k = 0; k < vectors; k++) {
          for (const x of [offsets[k]!, ...fg.map((g) => g[k]!)]) f.v128_zero().local_set(x);
          for (let lane = 0; lane < 4; lane++) {
            laneOuter(4 * k + lane);
            f.local_set(t);
            digitsOfT();
            f.local_get(offsets[k]!);
            affine(plan.offset);
            f.i32x4_replace_lane(lane).local_set(offsets[k]!);
            plan.guards.forEach((g, i) => {
              f.local_get(fg[i]![k]!);
              affine(g);
              f.i32x4_replace_lane(lane).local_set(fg[i]![k]!);
            });
          }
          edgeMask(k);
          consecutive(offsets[k]!, contiguous[k]!, 1);
        }
        f.local_get(p0).i32_const(rowBytes).i32_mul().i32_const(tableAt).i32_add().local_set(row);
        f.i32_const(0).local_set(p);
        if (bounds !== undefined) cleanStrip(bounds, fg, starts, sliceAt, step);
        f.block(() =>
          f.loop(() => {
            f.local_get(p).local_get(kc).i32_ge_u().br_if(1);
            f.local_get(row).i32_load().i32x4_splat().local_set(offS);
            guardBounds.forEach((b, i) => f.local_get(row).i32_const(4 * (1 + i)).i32_add().i32_load().i32x4_splat().local_set(b));
            for (let k = 0; k < vectors; k++) {
              f.local_get(edge[k]!);
              for (let g = 0; g < guards; g++) admitted(() => f.local_get(fg[g]![k]!), guardBounds[2 * g]!, guardBounds[2 * g + 1]!);
              f.local_set(mask);
              storeVector(k);
            }
            f.local_get(at).i32_const(width * 4).i32_add().local_set(at);
            f.local_get(row).i32_const(rowBytes).i32_add().local_set(row);
            f.local_get(p).i32_const(1).i32_add().local_set(p);
            f.br(0);
          }),
        );
        f.local_get(s).i32_const(width).i32_add().local_set(s);
        f.br(0);
      }),
    );
  } else {
    // Lanes are rows (columns) of S: their table rows once per strip; T's digits per k.
    const lo = Array.from({ length: guards }, vec);
    const wide = Array.from({ length: guards }, vec);
    const [offT, ...fg] = [f.local(V128), ...Array.from({ length: guards }, () => f.local(V128))];
    addOffsets = () => f.local_get(offT).i32x4_add();
    f.block(() =>
      f.loop(() => {
        f.local_get(s).local_get(outerCount).i32_ge_u().br_if(1);
        for (let k = 0; k < vectors; k++) {
          for (const x of [offsets[k]!, ...lo.map((g) => g[k]!), ...wide.map((g) => g[k]!)]) f.v128_zero().local_set(x);
          for (let lane = 0; lane < 4; lane++) {
            laneOuter(4 * k + lane);
            f.i32_const(rowBytes).i32_mul().i32_const(tableAt).i32_add().local_set(row);
            const fromRow = (x: number, word: number) => f.local_get(x).local_get(row).i32_load(4 * word).i32x4_replace_lane(lane).local_set(x);
            fromRow(offsets[k]!, 0);
            for (let g = 0; g < guards; g++) {
              fromRow(lo[g]![k]!, 1 + 2 * g);
              fromRow(wide[g]![k]!, 2 + 2 * g);
            }
          }
          edgeMask(k);
          consecutive(offsets[k]!, contiguous[k]!, 1);
        }
        f.i32_const(0).local_set(p);
        f.block(() =>
          f.loop(() => {
            f.local_get(p).local_get(kc).i32_ge_u().br_if(1);
            f.local_get(p0).local_get(p).i32_add().local_set(t);
            digitsOfT();
            affine(plan.offset);
            f.i32x4_splat().local_set(offT);
            plan.guards.forEach((g, i) => {
              affine(g);
              f.i32x4_splat().local_set(fg[i]!);
            });
            const one = () => {
              for (let k = 0; k < vectors; k++) {
                f.local_get(edge[k]!);
                for (let g = 0; g < guards; g++) admitted(() => f.local_get(fg[g]!), lo[g]![k]!, wide[g]![k]!);
                f.local_set(mask);
                storeVector(k);
              }
              f.local_get(at).i32_const(width * 4).i32_add().local_set(at);
              f.local_get(p).i32_const(1).i32_add().local_set(p);
            };
            if (quads === undefined) one();
            else {
              // Four k at once where each lane's four elements are neighbours in memory and inside every guard.
              quadClean(quads, fg, lo, wide);
              f.ifElse(() => quadLoad(offT), one);
            }
            f.br(0);
          }),
        );
        f.local_get(s).i32_const(width).i32_add().local_set(s);
        f.br(0);
      }),
    );
  }
  return f;

  /**
   * Where every vector of the strip is neighbours inside the matrix and every
   * lane within the slice's guard bounds: the whole slice as one vector load
   * per vector and k, leaving p = kc (so the general loop after it does nothing).
   */
  function cleanStrip(b: SliceBounds, fg: readonly number[][], starts: readonly number[], sliceAt: number, step: number): void {
    f.local_get(p0).i32_const(b.sliceK).i32_div_u().i32_const(8 * guards).i32_mul().i32_const(b.at).i32_add().local_set(sliceAt);
    f.i32_const(1);
    for (let k = 0; k < vectors; k++) {
      f.local_get(contiguous[k]!).i32_and();
      f.local_get(edge[k]!).i32x4_all_true().i32_and();
      for (let g = 0; g < guards; g++) {
        f.local_get(fg[g]![k]!).local_get(sliceAt).i32_load(8 * g).i32x4_splat().i32x4_ge_s();
        f.local_get(fg[g]![k]!).local_get(sliceAt).i32_load(8 * g + 4).i32x4_splat().i32x4_lt_s().v128_and().i32x4_all_true().i32_and();
      }
    }
    f.if(() => {
      for (let k = 0; k < vectors; k++) f.local_get(offsets[k]!).i32x4_extract_lane(0).i32_const(4).i32_mul().local_get(inAddr).i32_add().local_set(starts[k]!);
      f.block(() =>
        f.loop(() => {
          f.local_get(p).local_get(kc).i32_ge_u().br_if(1);
          f.local_get(row).i32_load().i32_const(4).i32_mul().local_set(step);
          for (let k = 0; k < vectors; k++) f.local_get(at).local_get(starts[k]!).local_get(step).i32_add().v128_load().v128_store(16 * k);
          f.local_get(at).i32_const(width * 4).i32_add().local_set(at);
          f.local_get(row).i32_const(rowBytes).i32_add().local_set(row);
          f.local_get(p).i32_const(1).i32_add().local_set(p);
          f.br(0);
        }),
      );
    });
  }

  /**
   * Pushes 1 where the next four k (p ‥ p + 3, T's last digit not wrapping)
   * read, for every lane, four neighbours in memory that every guard admits
   * (checked at the first and the last of them: guards are affine in k there).
   */
  function quadClean(q: Quads, fg: readonly number[], lo: readonly number[][], wide: readonly number[][]): void {
    f.local_get(p).i32_const(4).i32_add().local_get(kc).i32_le_u();
    if (plan.digits.length > 1) f.local_get(digit[plan.digits.length - 1]!).i32_const(q.lastDim - 3).i32_lt_u().i32_and();
    for (let k = 0; k < vectors; k++) {
      f.local_get(edge[k]!);
      for (let g = 0; g < guards; g++) {
        for (const shift of [0, 3 * q.guardStep[g]!]) {
          admitted(() => (shift === 0 ? f.local_get(fg[g]!) : f.local_get(fg[g]!).i32_const(shift).i32x4_splat().i32x4_add()), lo[g]![k]!, wide[g]![k]!);
        }
      }
      f.i32x4_all_true().i32_and();
    }
  }

  /** Packs k = p ‥ p + 3: per lane one vector of its four k, transposed into a vector per k; p and `at` move past them. */
  function quadLoad(offT: number): void {
    for (let k = 0; k < vectors; k++) {
      f.local_get(offsets[k]!).local_get(offT).i32x4_add().i32_const(2).i32x4_shl().local_get(base).i32x4_add().local_set(addr);
      rows.forEach((r, lane) => f.local_get(addr).i32x4_extract_lane(lane).v128_load().local_set(r));
      transpose4(f, rows, scratch, (q, push) => {
        f.local_get(at);
        push();
        f.v128_store(q * width * 4 + 16 * k);
      });
    }
    f.local_get(at).i32_const(4 * width * 4).i32_add().local_set(at);
    f.local_get(p).i32_const(4).i32_add().local_set(p);
  }

  /** ANDs into the mask on the stack the lanes whose guard value (pushed by `value`) lies in [lo, lo + wide): lo and wide are v128 locals. */
  function admitted(value: () => void, lo: number, wide: number): void {
    value();
    f.local_get(lo).i32x4_sub().local_get(wide).i32x4_lt_u().v128_and();
  }

  /** Lanes of vector k inside the matrix: all ones. */
  function edgeMask(k: number): void {
    f.v128_const_i32([0, 1, 2, 3].map((l) => k * 4 + l) as [number, number, number, number]);
    f.local_get(outerCount).local_get(s).i32_sub().i32x4_splat().i32x4_lt_s().local_set(edge[k]!);
  }
}
