/**
 * Emitting reads inside loops: the loop coordinates live in i32 locals, one
 * of them the lane coordinate (the first of four neighbouring positions);
 * index expressions become i32 arithmetic on them (`expr`), and a read
 * (`reads.ts`) becomes a load at the address its offset gives, a constant,
 * an index, or, through a pad or concat, a choice made lane by lane
 * (`scalar`). Kernel functions (`space-kernel.ts` through
 * `vector-access.ts`, `matmul-kernel.ts`) build on it.
 */
import type { DType } from "../../../ir/ops.js";
import type { Expr } from "../../../kernel/index-expr.js";
import type { Cond, Read } from "../../../kernel/reads.js";
import { Code, F32, I32 } from "../wasm.js";

/** A function's loop coordinates and input addresses, and the code that reads through them. */
export class LoopCode {
  constructor(
    readonly f: Code,
    /** The dtype of each input. */
    protected readonly inputDtypes: readonly DType[],
    /** The local holding each input's byte address. */
    protected readonly inAddr: readonly number[],
    /** The local holding each loop coordinate. */
    protected readonly coord: number[],
    /** The loop whose coordinate is the lane coordinate (−1: none). */
    protected lane: number,
  ) {}

  /** Pushes lane `lane` of a computed op's value (`read` of kind `op`); kernels with such reads override it. */
  protected opLane(op: number, lane: number): void {
    throw new Error(`cpu: op ${op} (lane ${lane}) is read where no op is computed`);
  }

  /** Pushes `base + 4·offset` with the lane coordinate at the lanes' first. */
  protected address(base: number, offset: Expr): void {
    this.f.local_get(base);
    this.expr(offset);
    this.f.i32_const(4).i32_mul().i32_add();
  }

  /** Pushes the i32 value of `e` at the loop coordinates; the lane coordinate from `laneAt` when given. */
  protected expr(e: Expr, laneAt?: () => void): void {
    const f = this.f;
    let first = true;
    const plus = () => {
      if (!first) f.i32_add();
      first = false;
    };
    for (const t of e.terms) {
      const a = t.atom;
      if (a.kind === "coord") {
        if (a.axis === this.lane && laneAt !== undefined) laneAt();
        else f.local_get(this.coord[a.axis]!);
      } else {
        this.expr(a.x, laneAt);
        f.i32_const(a.by);
        if (a.kind === "div") f.i32_div_u();
        else f.i32_rem_u();
      }
      if (t.coef !== 1) f.i32_const(t.coef).i32_mul();
      plus();
    }
    if (e.constant !== 0 || first) {
      f.i32_const(e.constant);
      plus();
    }
  }

  /** Pushes the lane coordinate of lane `lane`: the first lane's plus `lane`, clamped to the last valid lane in a tail. */
  protected laneCoord(lane: number, tail: number): void {
    this.f.local_get(this.coord[this.lane]!);
    const l = Math.min(lane, tail - 1);
    if (l > 0) this.f.i32_const(l).i32_add();
  }

  /** Pushes the scalar value of read `r` at lane `lane`. */
  protected scalar(r: Read, dtype: DType, lane: number, tail: number): void {
    const f = this.f;
    const at = () => this.laneCoord(lane, tail);
    switch (r.kind) {
      case "const":
        if (dtype === "f32") f.f32_const(r.value);
        else f.i32_const(r.value);
        return;
      case "op":
        this.opLane(r.op, lane);
        return;
      case "index":
        this.expr(r.expr, at);
        if (dtype === "f32") f.f32_convert_i32_s();
        return;
      case "load":
        f.local_get(this.inAddr[r.input]!);
        this.expr(r.offset, at);
        f.i32_const(4).i32_mul().i32_add();
        if (this.inputDtypes[r.input] === "f32") f.f32_load();
        else f.i32_load();
        return;
      case "select":
        this.condition(r.when, at);
        f.ifElseValue(dtype === "f32" ? F32 : I32, () => this.scalar(r.then, dtype, lane, tail), () => this.scalar(r.otherwise, dtype, lane, tail));
        return;
    }
  }

  /** Pushes 1 when every condition holds at the lane, else 0. */
  protected condition(when: readonly Cond[], at: () => void): void {
    const f = this.f;
    when.forEach((c, i) => {
      if (c.hi < c.lo) {
        // An empty range (a pad of an empty axis): never.
        f.i32_const(0);
        if (i > 0) f.i32_and();
        return;
      }
      // lo ≤ e ≤ hi as one unsigned comparison of e − lo with hi − lo.
      this.expr(c.expr, at);
      f.i32_const(c.lo).i32_sub();
      f.i32_const(c.hi - c.lo).i32_le_u();
      if (c.step > 1) {
        this.expr(c.expr, at);
        f.i32_const(c.lo).i32_sub().i32_const(c.step).i32_rem_u().i32_eqz().i32_and();
      }
      if (i > 0) f.i32_and();
    });
  }
}
