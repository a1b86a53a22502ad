/**
 * The loops of a kernel function (`space-kernel.ts`): its range
 * [start, end) (params 0, 1) as rows of its outer loops or as elements of
 * its one loop, a row's reduced loops, and the lane loop, which steps over
 * four neighbouring positions at a time and ends in a tail of one to three;
 * or, for a matmul's epilogue, rows and columns of the product. A position
 * is decoded into loop coordinates row-major. Where a loop's body begins,
 * reads hoisted before it are forgotten, since they were read at other
 * coordinates. Split from `space-kernel.ts` so that the shape of the loops
 * reads apart from the ops and reductions inside them.
 */
import { I32 } from "../wasm.js";
import type { LoopAxis } from "./loop-axes.js";
import { VectorAccess } from "./vector-access.js";

/** A kernel function's loops around the code that computes four lanes. */
export class KernelLoops extends VectorAccess {
  /** The loops, outermost first; the last carries the lanes. */
  protected axes: readonly LoopAxis[] = [];

  /** Takes `axes` as the loops, each coordinate in a local of its own, the lanes along the last. */
  protected setLoops(axes: readonly LoopAxis[]): void {
    this.axes = axes;
    for (let a = 0; a < axes.length; a++) this.coord.push(this.f.local(I32));
    this.lane = axes.length - 1;
  }

  /** The kept loops other than the lane loop: a position of the function's range is one of their rows. */
  protected outerLoops(): number[] {
    return this.axes.map((_, a) => a).filter((a) => !this.axes[a]!.reduced && a !== this.lane);
  }

  /** How many positions loops `axes` run over together. */
  protected positions(axes: readonly number[]): number {
    return axes.reduce((n, a) => n * this.axes[a]!.dim, 1);
  }

  /**
   * The loops over the function's range [start, end), and that range with
   * the unit its splits fall on: rows of the outer loops where there are
   * any, else the lane loop's elements in whole vectors where it is kept,
   * else the one row. Where the lane loop is reduced `row` emits a row at
   * the coordinates, else `column(tail)` four lanes of the lane loop.
   */
  protected rangeLoops(row: () => void, column: (tail: number) => void): { range: number; unit: number } {
    const f = this.f;
    const laneAxis = this.axes[this.lane]!;
    const outer = this.outerLoops();
    if (outer.length > 0) {
      this.forRange(outer, () => (laneAxis.reduced ? row() : this.laneLoop(0, laneAxis.dim, column)));
      return { range: this.positions(outer), unit: 1 };
    }
    if (!laneAxis.reduced) {
      // The range's splits fall on multiples of 4, so only its end has a tail.
      this.laneLoopBetween(0, 1, column, true);
      return { range: laneAxis.dim, unit: 4 };
    }
    f.local_get(0).local_get(1).i32_lt_u();
    f.if(row);
    return { range: 1, unit: 1 };
  }

  /** The loops over a row's reduced elements: the reduced loops other than the lane loop, and the lane loop along the row. */
  protected rowLoops(body: (tail: number) => void): void {
    const reduced = this.axes.map((_, a) => a).filter((a) => this.axes[a]!.reduced && a !== this.lane);
    this.forAll(reduced, () => this.laneLoop(0, this.axes[this.lane]!.dim, body));
  }

  /** The loops over the reduced elements of four kept lanes (none in a map): the reduced loops. */
  protected columnLoops(body: () => void): void {
    const reduced = this.axes.map((_, a) => a).filter((a) => this.axes[a]!.reduced);
    this.forAll(reduced, () => {
      // Inside reduced loops, reads depend on their coordinates: nothing hoisted from before.
      const saved = this.hoisted;
      if (reduced.length > 0) this.hoisted = new Map();
      body();
      this.hoisted = saved;
    });
  }

  /**
   * The loops of a matmul's epilogue: matrix b (param 0) decoded into the
   * batch loops, rows i0 ‥ i1 − 1 (params 1, 2), and in each row columns
   * j0 ‥ j1 − 1 (params 3, 4) four lanes at a time by `column(tail)`.
   */
  protected epilogueLoops(column: (tail: number) => void): void {
    const f = this.f;
    const rows = this.axes.length - 2;
    const batch = this.axes.map((_, a) => a).slice(0, rows);
    this.decode(batch, () => f.local_get(0));
    const i = this.coord[rows]!;
    f.local_get(1).local_set(i);
    f.block(() =>
      f.loop(() => {
        f.local_get(i).local_get(2).i32_ge_u().br_if(1);
        this.laneLoopBetween(3, 4, column, false);
        f.local_get(i).i32_const(1).i32_add().local_set(i);
        f.br(0);
      }),
    );
  }

  /** Decodes position `pos` (an i32 pushed by `push`) into the coordinates of loop axes `axes` (row-major). */
  private decode(axes: readonly number[], push: () => void): void {
    const f = this.f;
    let stride = this.positions(axes);
    axes.forEach((a, i) => {
      const dim = this.axes[a]!.dim;
      stride /= dim;
      push();
      if (stride > 1) f.i32_const(stride).i32_div_u();
      if (i > 0 && dim !== 1) f.i32_const(dim).i32_rem_u();
      if (dim === 1) f.drop().i32_const(0);
      f.local_set(this.coord[a]!);
    });
  }

  /** for pos in [start, end): decode into `axes`, body. */
  private forRange(axes: readonly number[], body: () => void): void {
    const f = this.f;
    const pos = f.local(I32);
    f.local_get(0).local_set(pos);
    f.block(() =>
      f.loop(() => {
        f.local_get(pos).local_get(1).i32_ge_u().br_if(1);
        this.decode(axes, () => f.local_get(pos));
        body();
        f.local_get(pos).i32_const(1).i32_add().local_set(pos);
        f.br(0);
      }),
    );
  }

  /** for pos in [0, count): decode into `axes`, body (no loop when count is 1). */
  private forAll(axes: readonly number[], body: () => void): void {
    const count = this.positions(axes);
    if (axes.length === 0 || count === 1) {
      for (const a of axes) this.f.i32_const(0).local_set(this.coord[a]!);
      body();
      return;
    }
    const f = this.f;
    const pos = f.local(I32);
    f.i32_const(0).local_set(pos);
    f.loop(() => {
      this.decode(axes, () => f.local_get(pos));
      body();
      f.local_get(pos).i32_const(1).i32_add().local_tee(pos).i32_const(count).i32_lt_u().br_if(0);
    });
  }

  /**
   * The lane loop over [lo, hi) of the lane axis (constants): whole vectors,
   * then a tail of hi − lo mod 4 lanes. `body(tail)` computes the lanes at
   * the lane coordinate; values it hoists are computed once before.
   */
  private laneLoop(lo: number, hi: number, body: (tail: number) => void): void {
    const f = this.f;
    const c = this.coord[this.lane]!;
    const whole = lo + Math.floor((hi - lo) / 4) * 4;
    this.hoisted = new Map();
    if (whole > lo) {
      f.i32_const(lo).local_set(c);
      f.loop(() => {
        body(4);
        f.local_get(c).i32_const(4).i32_add().local_tee(c).i32_const(whole).i32_lt_u().br_if(0);
      });
    }
    if (hi > whole) {
      f.i32_const(whole).local_set(c);
      body(hi - whole);
    }
    this.hoisted = new Map();
  }

  /**
   * The lane loop from the value of local `lo` to that of local `hi`: whole
   * vectors while four lanes fit, then `body(tail)` for the tail of 1, 2 or
   * 3 lanes that is left, picked at run time (`guarded`: only after testing
   * that any is left).
   */
  private laneLoopBetween(lo: number, hi: number, body: (tail: number) => void, guarded: boolean): void {
    const f = this.f;
    const c = this.coord[this.lane]!;
    this.hoisted = new Map();
    f.local_get(lo).local_set(c);
    f.block(() =>
      f.loop(() => {
        f.local_get(c).i32_const(4).i32_add().local_get(hi).i32_gt_u().br_if(1);
        body(4);
        f.local_get(c).i32_const(4).i32_add().local_set(c);
        f.br(0);
      }),
    );
    const tails = (): void => {
      for (const t of [1, 2, 3]) {
        f.local_get(hi).local_get(c).i32_sub().i32_const(t).i32_eq();
        f.if(() => body(t));
      }
    };
    if (guarded) {
      f.local_get(c).local_get(hi).i32_lt_u();
      f.if(tails);
    } else tails();
    this.hoisted = new Map();
  }
}
