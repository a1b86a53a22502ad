/**
 * One WebAssembly SIMD function for a `map` or `reduce` kernel (`anatomy.ts`):
 * its loops over the domain (`loop-axes.ts`), four neighbouring elements of
 * the innermost loop per step (the lanes), every computed op of the kernel in
 * order on those four elements in registers, reads through views as strided
 * or gathered loads (`reads.ts`), and stores of the values the kernel writes.
 *
 * The function is `(start, end, in₀ … inₙ, out₀ … outₘ)`, byte addresses of
 * the kernel's inputs and outputs, and computes positions start ‥ end − 1 of
 * its `range`: rows of the domain's outer loops, or (a domain of one loop)
 * elements, split only at multiples of `unit`. Threads run disjoint ranges.
 *
 * A reduce kernel runs in passes over each row's reduced elements: pass p
 * accumulates the reductions whose operand needs p earlier reductions (a
 * softmax: the maximum, then the sum of exponentials, then the quotients),
 * and ops that use a reduction's result follow it. Where the innermost loop
 * is reduced (a row: softmax, layer norm, a loss), four lanes accumulate
 * apart and are combined in a fixed order at the end of the pass; where it
 * is kept (a column: a bias's gradient), each lane is a row of its own.
 * Either way every row is reduced by one thread in a fixed order, so results
 * do not depend on how many threads run.
 *
 * The writer stands on two layers of its own: the loops (`kernel-loops.ts`)
 * and the reads and stores of four lanes (`vector-access.ts`). What is here
 * is the kernel's analysis (where each op lives, what it reads, its level,
 * the passes) and the emission of its ops and reductions.
 */
import type { DType, OpAttrs, Shape } from "../../../ir/ops.js";
import { sizeOf } from "../../../ir/shape.js";
import { INDEXED, isProperReduction, reducedShape, VIEWS, type Anatomy } from "../../../kernel/anatomy.js";
import type { Kernel } from "../../../kernel/graph.js";
import { constant, flatten, type Bounds, type Expr } from "../../../kernel/index-expr.js";
import { alignedCoords, readAt, zeros, type Read } from "../../../kernel/reads.js";
import { Code, I32, V128 } from "../wasm.js";
import { KernelLoops } from "./kernel-loops.js";
import { loopNest } from "./loop-axes.js";
import { emitPointwise } from "./pointwise.js";
import type { MathContext } from "./simd-math.js";

export { readKey } from "./vector-access.js";

/** Functions of the module a kernel function calls. */
export interface ModuleRefs {
  readonly imports: MathContext["imports"];
  /** `uniform(index, step, seed, stream) → f32` and `normal(…) → f32` (`philox.ts`). */
  readonly uniform: number;
  readonly normal: number;
}

/** A kernel's function and how to run it. */
export interface KernelFunction {
  readonly code: Code;
  /** The positions the function runs over: [0, range). */
  readonly range: number;
  /** Splits of the range fall on multiples of `unit`. */
  readonly unit: number;
  /** Elements computed per position, to judge whether splitting pays. */
  readonly work: number;
  /** What the function does, in words. */
  readonly account: string;
}

/** The shape and dtype of a kernel input. */
export interface Typed {
  readonly shape: Shape;
  readonly dtype: DType;
}

type Space = Anatomy["spaces"][number];

interface OpPlan {
  /** Per operand, what it reads. */
  readonly args: readonly Read[];
  /** A random draw's flat index in its own shape. */
  readonly flat?: Expr;
}

interface Analysis {
  readonly ops: readonly (OpPlan | undefined)[];
  /** Per output (the root, then extra outputs): its element offset. */
  readonly outputs: readonly Expr[];
}

/** Every expression a read computes. */
function readExprs(r: Read, into: Expr[]): void {
  if (r.kind === "load") into.push(r.offset);
  else if (r.kind === "index") into.push(r.expr);
  else if (r.kind === "select") {
    for (const c of r.when) into.push(c.expr);
    readExprs(r.then, into);
    readExprs(r.otherwise, into);
  }
}

/** The kernel's ops that are computed (not followed as views, constants or iotas). */
export function computedOps(k: Kernel, anatomy: Anatomy): boolean[] {
  return k.ops.map((o, j) => anatomy.spaces[j] !== "leaf" && !VIEWS.has(o.op) && !INDEXED.has(o.op));
}

/** The function of a map or reduce kernel `k` with inputs `inputs`. */
export function emitSpaceKernel(k: Kernel, anatomy: Anatomy, inputs: readonly Typed[], refs: ModuleRefs): KernelFunction {
  return new SpaceKernelWriter(k, anatomy, inputs, refs, false).write();
}

/**
 * The epilogue of a matmul kernel: `(b, i0, i1, j0, j1, c, in₀ …, out₀ …)`
 * runs the kernel's elementwise ops on rows i0 ‥ i1 − 1 and columns
 * j0 ‥ j1 − 1 of matrix b of the product, which it reads at byte address c
 * (laid out as the domain), and stores what the kernel writes.
 */
export function emitEpilogue(k: Kernel, anatomy: Anatomy, inputs: readonly Typed[], refs: ModuleRefs): Code {
  return new SpaceKernelWriter(k, anatomy, inputs, refs, true).writeEpilogue();
}

/** Writes one kernel's function: its analysis, then its ops and reductions inside the loops of `KernelLoops`. */
class SpaceKernelWriter extends KernelLoops {
  private readonly spaces: readonly Space[];
  private readonly domain: Shape;
  private readonly reducedAxes: ReadonlySet<number>;
  private readonly computed: boolean[];
  private readonly cx: MathContext;
  private plan!: Analysis;
  private readonly acc: number[] = [];
  private readonly level: number[] = [];

  constructor(
    private readonly k: Kernel,
    private readonly anatomy: Anatomy,
    private readonly inputs: readonly Typed[],
    private readonly refs: ModuleRefs,
    /** An epilogue of a matmul kernel: its product is read from memory. */
    private readonly epilogue: boolean,
  ) {
    const outputOps = [k.ops.length - 1, ...(k.extraOutputs ?? []).map((e) => e.op)];
    const first = epilogue ? 6 : 2;
    const f = new Code(new Array(first + inputs.length + outputOps.length).fill(I32));
    const inAddr = inputs.map((_, i) => first + i);
    const outAddr = outputOps.map((_, i) => first + inputs.length + i);
    super(f, inputs.map((i) => i.dtype), inAddr, k.ops, outputOps, outAddr);
    this.spaces = anatomy.spaces;
    this.domain = anatomy.domain;
    this.reducedAxes = new Set(anatomy.axes);
    this.computed = computedOps(k, anatomy);
    this.cx = { f: this.f, imports: refs.imports };
  }

  /** The coordinates, in an op's own shape, of the element the loops are at, for an op living in `space`. */
  private spaceCoords(space: Space, coords: readonly Expr[], bounds: Bounds, shape: Shape): Expr[] {
    if (space === "scalar") return zeros(shape);
    if (space === "reduced") {
      const kept = coords.map((c, a) => (this.reducedAxes.has(a) ? constant(0) : c));
      return alignedCoords(kept, reducedShape(this.domain, this.anatomy.axes), shape, bounds);
    }
    return alignedCoords(coords, this.domain, shape, bounds);
  }

  private analyse(coords: readonly Expr[], bounds: Bounds): Analysis {
    const k = this.k;
    const follow = (p: number): boolean => VIEWS.has(this.ops[p]!.op);
    const inShapes = this.inputs.map((i) => i.shape);
    const ops = this.ops.map((o, j): OpPlan | undefined => {
      if (!this.computed[j]) return undefined;
      // The product, read from memory at the position.
      if (j === this.anatomy.matmul) return { args: [], flat: flatten([...coords], this.domain) };
      const s = this.spaces[j]!;
      if (this.isReduction(j)) return { args: [readAt(k, o.args[0]!, [...coords], bounds, inShapes, follow)] };
      const at = this.spaceCoords(s, coords, bounds, o.shape);
      const args = o.args.map((a) => readAt(k, a, at, bounds, inShapes, follow));
      if (o.op === "uniform" || o.op === "normal") return { args, flat: flatten(at, o.shape) };
      return { args };
    });
    const outputs = this.outputOps.map((j) => {
      const o = this.ops[j]!;
      return flatten(this.spaceCoords(this.spaces[j]!, coords, bounds, o.shape), o.shape);
    });
    return { ops, outputs };
  }

  private isReduction(j: number): boolean {
    const o = this.ops[j]!;
    return (o.op === "sum" || o.op === "max") && this.spaces[j] === "reduced" && this.anatomy.kind === "reduce" && isProperReduction(this.k, j, this.inputs.map((i) => i.shape));
  }

  private allExprs(a: Analysis): Expr[] {
    const out: Expr[] = [...a.outputs];
    for (const p of a.ops) {
      if (p === undefined) continue;
      for (const r of p.args) readExprs(r, out);
      if (p.flat !== undefined) out.push(p.flat);
    }
    return out;
  }

  /** Analyses the kernel at the loops' coordinates `coords`: what its ops read and where its outputs go. */
  private planAt(coords: readonly Expr[]): void {
    this.plan = this.analyse(coords, this.axes.map((x) => x.dim));
    this.outputOffsets = this.plan.outputs;
  }

  write(): KernelFunction {
    const nest = loopNest(this.domain, this.reducedAxes, (coords, bounds) => this.allExprs(this.analyse(coords, bounds)));
    this.setLoops(nest.axes.length > 0 ? nest.axes : [{ dim: 1, reduced: false }]);
    this.planAt(nest.coords);
    const f = this.f;
    this.ops.forEach((_, j) => {
      this.val[j] = this.computed[j] ? f.local(V128) : -1;
      this.acc[j] = this.isReduction(j) ? f.local(V128) : -1;
    });
    this.computeLevels();
    const rowMode = this.axes[this.lane]!.reduced;
    const perRow = sizeOf(this.domain) / Math.max(this.positions(this.outerLoops()), 1);
    // Scalars: once, before any loop.
    this.emitSpaceOps("scalar", -1);
    const { range, unit } = this.rangeLoops(() => this.rowBody(), (tail) => this.columnBody(tail));
    // Scalar outputs are written by whichever thread runs position 0.
    this.outputOps.forEach((j, o) => {
      if (this.spaces[j] !== "scalar") return;
      f.local_get(0).i32_eqz();
      f.if(() => this.storeLane(o, j, 0, () => this.f.i32_const(0)));
    });
    const kind = this.anatomy.kind === "reduce" ? `reduce over axes [${this.anatomy.axes.join(", ")}] in ${this.passes()} pass(es), ${rowMode ? "lanes along a reduced row" : "a row per lane"}` : "map";
    const account = `${kind}: loops [${this.axes.map((x) => `${x.dim}${x.reduced ? "r" : ""}`).join(", ")}], four lanes along the last`;
    return { code: f, range, unit, work: perRow * Math.max(1, this.passes()), account };
  }

  writeEpilogue(): Code {
    const nb = this.domain.length - 2;
    const pinned = new Set([nb, nb + 1]);
    const nest = loopNest(this.domain, new Set(), (coords, bounds) => this.allExprs(this.analyse(coords, bounds)), pinned);
    this.setLoops(nest.axes);
    this.planAt(nest.coords);
    const f = this.f;
    this.ops.forEach((_, j) => {
      this.val[j] = this.computed[j] ? f.local(V128) : -1;
      this.acc[j] = -1;
    });
    this.computeLevels();
    this.emitSpaceOps("scalar", -1);
    this.epilogueLoops((tail) => this.columnBody(tail));
    return f;
  }

  // ---- levels and passes ----

  private argOps(j: number): number[] {
    const out: number[] = [];
    const visit = (r: Read): void => {
      if (r.kind === "op") out.push(r.op);
      else if (r.kind === "select") {
        visit(r.then);
        visit(r.otherwise);
      }
    };
    for (const r of this.plan.ops[j]!.args) visit(r);
    return out;
  }

  private computeLevels(): void {
    this.ops.forEach((_, j) => {
      if (!this.computed[j]) return;
      if (j === this.anatomy.matmul) {
        this.level[j] = 0;
        return;
      }
      const from = Math.max(0, ...this.argOps(j).map((p) => this.level[p]!));
      this.level[j] = this.isReduction(j) ? from + 1 : from;
    });
  }

  private passes(): number {
    let p = 0;
    this.ops.forEach((_, j) => {
      if (!this.computed[j]) return;
      if (this.spaces[j] === "full") p = Math.max(p, this.level[j]! + 1);
      if (this.isReduction(j)) p = Math.max(p, this.level[j]!);
    });
    return p;
  }

  /** Full ops pass p computes: those its reductions and full outputs need, in order. */
  private passOps(p: number): number[] {
    const need = new Set<number>();
    const want = (j: number): void => {
      if (need.has(j) || this.spaces[j] !== "full" || !this.computed[j]) return;
      need.add(j);
      for (const q of this.argOps(j)) want(q);
    };
    this.ops.forEach((_, j) => {
      if (!this.computed[j]) return;
      if (this.isReduction(j) && this.level[j] === p + 1) for (const q of this.argOps(j)) want(q);
      if (this.spaces[j] === "full" && this.level[j] === p && this.outputOps.includes(j)) want(j);
    });
    return [...need].sort((a, b) => a - b);
  }

  // ---- bodies ----

  /** A row of a reduce kernel whose lanes run along the reduced row: its passes. */
  private rowBody(): void {
    const f = this.f;
    this.emitSpaceOps("reduced", 0);
    const passes = this.passes();
    for (let p = 0; p < passes; p++) {
      const reductions = this.reductionsOf(p);
      for (const j of reductions) this.initAccumulator(j);
      const ops = this.passOps(p);
      this.rowLoops((tail) => {
        this.emitOps(ops, tail);
        for (const j of reductions) this.accumulate(j, tail, true);
        this.storeFull(p, tail);
      });
      // Lanes combined in a fixed order: (0 ⊕ 1) ⊕ (2 ⊕ 3).
      for (const j of reductions) this.combineLanes(j);
      this.emitSpaceOps("reduced", p + 1);
    }
    this.outputOps.forEach((j, o) => {
      if (this.spaces[j] === "reduced") this.storeLane(o, j, 0, () => f.i32_const(0));
    });
  }

  /** Four lanes of kept positions (a map, or a reduce kernel's rows side by side): passes over the reduced axes for each. */
  private columnBody(tail: number): void {
    this.emitSpaceOps("reduced", 0, tail);
    const passes = Math.max(1, this.passes());
    for (let p = 0; p < passes; p++) {
      const reductions = this.reductionsOf(p);
      for (const j of reductions) this.initAccumulator(j);
      const ops = this.anatomy.kind === "reduce" ? this.passOps(p) : this.ops.map((_, j) => j).filter((j) => this.computed[j] && this.spaces[j] === "full");
      this.columnLoops(() => {
        this.emitOps(ops, tail);
        for (const j of reductions) this.accumulate(j, tail, false);
        this.storeFull(p, tail);
      });
      for (const j of reductions) this.f.local_get(this.acc[j]!).local_set(this.val[j]!);
      this.emitSpaceOps("reduced", p + 1, tail);
    }
    this.storeOutputs(tail, (j) => this.spaces[j] === "reduced");
  }

  /** Stores the full outputs of level `p`. */
  private storeFull(p: number, tail: number): void {
    this.storeOutputs(tail, (j) => this.spaces[j] === "full" && this.level[j] === p);
  }

  private reductionsOf(p: number): number[] {
    return this.ops.map((_, j) => j).filter((j) => this.isReduction(j) && this.level[j] === p + 1);
  }

  // ---- ops ----

  /** Ops of `space` (scalar or reduced) whose level is `level` (scalars: all), in order. */
  private emitSpaceOps(space: "scalar" | "reduced", level: number, tail = 4): void {
    const ops = this.ops.map((_, j) => j).filter((j) => this.computed[j] && this.spaces[j] === space && !this.isReduction(j) && (space === "scalar" || this.level[j] === level));
    if (ops.length > 0) this.emitOps(ops, tail);
  }

  private emitOps(ops: readonly number[], tail: number): void {
    for (const j of ops) this.emitOp(j, tail);
  }

  private emitOp(j: number, tail: number): void {
    const f = this.f;
    const o = this.ops[j]!;
    const plan = this.plan.ops[j]!;
    if (this.isReduction(j)) return;
    if (j === this.anatomy.matmul) {
      // The product at byte address `c` (param 5), laid out as the domain.
      const product: Read = { kind: "load", input: -1, offset: plan.flat! };
      this.productLoad(product, tail);
      f.local_set(this.val[j]!);
      return;
    }
    const argDtype = (a: number): DType => {
      const x = o.args[a]!;
      return "input" in x ? this.inputs[x.input]!.dtype : this.ops[x.op]!.dtype;
    };
    if (o.op === "uniform" || o.op === "normal") {
      this.emitDraw(j, plan, tail);
      return;
    }
    const operands = plan.args.map((r, a) => this.vector(r, argDtype(a), tail));
    const dtype = o.op === "where" ? argDtype(1) : argDtype(0);
    if (o.op === "sum" || o.op === "max") f.local_get(operands[0]!);
    else emitPointwise(this.cx, o.op, operands, dtype, o.dtype);
    f.local_set(this.val[j]!);
  }

  /** A uniform or normal draw per lane, at its flat index. */
  private emitDraw(j: number, plan: OpPlan, tail: number): void {
    const f = this.f;
    const o = this.ops[j]!;
    const stream = (o.attrs as OpAttrs["uniform"]).stream;
    const scalar = (r: Read): void => this.scalar(r, "i32", 0, tail);
    const out = this.val[j]!;
    f.v128_zero().local_set(out);
    for (let lane = 0; lane < 4; lane++) {
      f.local_get(out);
      this.expr(plan.flat!, () => this.laneCoord(lane, tail));
      scalar(plan.args[1]!);
      scalar(plan.args[0]!);
      f.i32_const(stream).call(o.op === "uniform" ? this.refs.uniform : this.refs.normal);
      f.f32x4_replace_lane(lane).local_set(out);
    }
  }

  private initAccumulator(j: number): void {
    const o = this.ops[j]!;
    const init = o.op === "sum" ? 0 : o.dtype === "i32" ? -(2 ** 31) : -Infinity;
    if (o.dtype === "f32") this.f.v128_const_f32([init, init, init, init]);
    else this.f.v128_const_i32([init, init, init, init]);
    this.f.local_set(this.acc[j]!);
  }

  /** acc ⊕= the reduction's operand; in a row's tail, lanes past the row add nothing (`masked`). */
  private accumulate(j: number, tail: number, masked: boolean): void {
    const f = this.f;
    const o = this.ops[j]!;
    const plan = this.plan.ops[j]!;
    const x = this.vector(plan.args[0]!, o.dtype, tail);
    const acc = this.acc[j]!;
    f.local_get(acc);
    if (masked && tail < 4) {
      f.local_get(x);
      const id = o.op === "sum" ? 0 : o.dtype === "i32" ? -(2 ** 31) : -Infinity;
      if (o.dtype === "f32") f.v128_const_f32([id, id, id, id]);
      else f.v128_const_i32([id, id, id, id]);
      f.v128_const_i32([0, 1, 2, 3].map((l) => (l < tail ? -1 : 0)) as [number, number, number, number]).v128_bitselect();
    } else f.local_get(x);
    if (o.op === "sum") {
      if (o.dtype === "f32") f.f32x4_add();
      else f.i32x4_add();
    } else if (o.dtype === "f32") f.f32x4_max();
    else f.i32x4_max_s();
    f.local_set(acc);
  }

  /** The four lanes of a row's accumulator folded, (0 ⊕ 1) ⊕ (2 ⊕ 3), into every lane of its value. */
  private combineLanes(j: number): void {
    const f = this.f;
    const o = this.ops[j]!;
    const acc = this.acc[j]!;
    const fl = o.dtype === "f32";
    const lane = (l: number) => (fl ? f.local_get(acc).f32x4_extract_lane(l) : f.local_get(acc).i32x4_extract_lane(l));
    const op = () => {
      if (o.op === "sum") {
        if (fl) f.f32_add();
        else f.i32_add();
      } else if (fl) f.f32_max();
      else {
        // i32 max of the two on the stack.
        const [a, b] = [f.local(I32), f.local(I32)];
        f.local_set(b).local_set(a);
        f.local_get(a).local_get(b).local_get(a).local_get(b).i32_gt_s().select();
      }
    };
    lane(0);
    lane(1);
    op();
    lane(2);
    lane(3);
    op();
    op();
    if (fl) f.f32x4_splat();
    else f.i32x4_splat();
    f.local_set(this.val[j]!);
  }
}
