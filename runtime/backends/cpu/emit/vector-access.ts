/**
 * The four lanes a kernel function computes at a time, in and out of
 * memory: a read (`reads.ts`) becomes a local holding its four lanes
 * (`vector`: one vector load where the lanes are neighbours, a splat where
 * they share an element, lane by lane otherwise), kept by key so that a read
 * repeated in the same loop body is loaded once; an op's value is stored to
 * an output the same ways. Split from `space-kernel.ts`, whose writer
 * builds on it, so that what an element costs to move is apart from what
 * the kernel computes and from the loops around it (`kernel-loops.ts`).
 */
import type { DType } from "../../../ir/ops.js";
import type { Kernel } from "../../../kernel/graph.js";
import { coefficientOf, exprKey, isAffine, mentions, type Expr } from "../../../kernel/index-expr.js";
import type { Read } from "../../../kernel/reads.js";
import { V128, type Code } from "../wasm.js";
import { LoopCode } from "./loop-code.js";

/** A text key of a read: equal reads have equal keys. */
export function readKey(r: Read): string {
  switch (r.kind) {
    case "load":
      return `L${r.input}[${exprKey(r.offset)}]`;
    case "const":
      return `C${Object.is(r.value, -0) ? "-0" : r.value}`;
    case "index":
      return `I[${exprKey(r.expr)}]`;
    case "op":
      return `O${r.op}`;
    case "select":
      return `S(${r.when.map((c) => `${exprKey(c.expr)}∈${c.lo}..${c.hi}/${c.step}`).join("&")}?${readKey(r.then)}:${readKey(r.otherwise)})`;
  }
}

/** A kernel's ops' values as locals of four lanes, the reads that feed them and the stores of its outputs. */
export class VectorAccess extends LoopCode {
  /** Per op: the local holding its four lanes (−1: not computed). */
  protected readonly val: number[] = [];
  /** Per output: its element offset at the loop coordinates, set once the kernel is analysed. */
  protected outputOffsets: readonly Expr[] = [];
  /** Reads already in a local in the code being emitted, by key (reset where a loop's body begins). */
  protected hoisted = new Map<string, number>();

  constructor(
    f: Code,
    inputDtypes: readonly DType[],
    inAddr: readonly number[],
    /** The kernel's ops (their dtypes say how lanes are stored). */
    protected readonly ops: Kernel["ops"],
    /** Per output (the root, then extra outputs): the op it stores. */
    protected readonly outputOps: readonly number[],
    /** Per output: the local holding its byte address. */
    protected readonly outAddr: readonly number[],
  ) {
    super(f, inputDtypes, inAddr, [], 0);
  }

  /** Stores the lanes of every output whose op passes `which`, in output order. */
  protected storeOutputs(tail: number, which: (j: number) => boolean): void {
    this.outputOps.forEach((j, o) => {
      if (which(j)) this.storeVector(o, j, tail);
    });
  }

  /** Stores the lanes of op j's value to output o: a vector store where the lanes are neighbours, else lane by lane. */
  protected storeVector(o: number, j: number, tail: number): void {
    const f = this.f;
    const offset = this.outputOffsets[o]!;
    const c = coefficientOf(offset, this.lane);
    if (tail === 4 && isAffine(offset) && c === 1) {
      this.address(this.outAddr[o]!, offset);
      f.local_get(this.val[j]!).v128_store();
      return;
    }
    for (let lane = 0; lane < tail; lane++) this.storeLane(o, j, lane, () => this.laneCoord(lane, tail));
  }

  protected override opLane(op: number, lane: number): void {
    this.f.local_get(this.val[op]!);
    if (this.ops[op]!.dtype === "f32") this.f.f32x4_extract_lane(lane);
    else this.f.i32x4_extract_lane(lane);
  }

  /** Stores lane `lane` of op j's value to output o, the lane coordinate pushed by `laneAt`. */
  protected storeLane(o: number, j: number, lane: number, laneAt: () => void): void {
    const f = this.f;
    f.local_get(this.outAddr[o]!);
    this.expr(this.outputOffsets[o]!, laneAt);
    f.i32_const(4).i32_mul().i32_add();
    f.local_get(this.val[j]!);
    if (this.ops[j]!.dtype === "f32") f.f32x4_extract_lane(lane).f32_store();
    else f.i32x4_extract_lane(lane).i32_store();
  }

  /** A local holding the four lanes of read `r` (dtype `dtype`) at the current position. */
  protected vector(r: Read, dtype: DType, tail: number): number {
    const f = this.f;
    if (r.kind === "op") return this.val[r.op]!;
    const key = `${dtype}:${readKey(r)}:${tail}`;
    const known = this.hoisted.get(key);
    if (known !== undefined) return known;
    const out = f.local(V128);
    const lane = this.lane;
    if (r.kind === "const") {
      const v = r.value;
      if (dtype === "f32") f.v128_const_f32([v, v, v, v]);
      else f.v128_const_i32([v, v, v, v]);
    } else if (r.kind === "load" && !mentions(r.offset, lane)) {
      this.address(this.inAddr[r.input]!, r.offset);
      f.v128_load32_splat();
    } else if (r.kind === "load" && isAffine(r.offset) && coefficientOf(r.offset, lane) === 1 && tail === 4) {
      this.address(this.inAddr[r.input]!, r.offset);
      f.v128_load();
    } else if (r.kind === "index" && isAffine(r.expr)) {
      const c = coefficientOf(r.expr, lane);
      this.expr(r.expr);
      f.i32x4_splat();
      f.v128_const_i32([0, 1, 2, 3].map((l) => c * Math.min(l, tail - 1)) as [number, number, number, number]).i32x4_add();
      if (dtype === "f32") f.f32x4_convert_i32x4_s();
    } else {
      // Lane by lane.
      f.v128_zero().local_set(out);
      for (let l = 0; l < 4; l++) {
        f.local_get(out);
        this.scalar(r, dtype, l, tail);
        if (dtype === "f32") f.f32x4_replace_lane(l);
        else f.i32x4_replace_lane(l);
        f.local_set(out);
      }
      this.hoisted.set(key, out);
      return out;
    }
    f.local_set(out);
    this.hoisted.set(key, out);
    return out;
  }

  /** Pushes the four lanes of a matmul's product at `r`'s offset (param 5 is its address). */
  protected productLoad(r: Read & { kind: "load" }, tail: number): void {
    const f = this.f;
    const lane = this.lane;
    if (isAffine(r.offset) && coefficientOf(r.offset, lane) === 1 && tail === 4) {
      this.address(5, r.offset);
      f.v128_load();
      return;
    }
    const out = f.local(V128);
    f.v128_zero().local_set(out);
    for (let l = 0; l < 4; l++) {
      f.local_get(out).local_get(5);
      this.expr(r.offset, () => this.laneCoord(l, tail));
      f.i32_const(4).i32_mul().i32_add().f32_load().f32x4_replace_lane(l).local_set(out);
    }
    f.local_get(out);
  }
}
