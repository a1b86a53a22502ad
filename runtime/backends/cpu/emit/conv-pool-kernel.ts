/**
 * The epilogue of a convolution run with its pool (`conv-pool-plan.ts`):
 * `(b, i0, i1, j0, j1, c, in…, out…)`, as the matmul driver calls an
 * epilogue, for rows i0 ‥ i1 − 1 of the product at byte address c (whole
 * bands of s image rows) and columns j0 ‥ j1 − 1 (filters, four at a time).
 * For each window of the band and four filters, each of the window's s²
 * pixels is read from the product as one vector, the map's ops run on it in
 * registers (its other inputs read once per window and filters, where they do
 * not depend on the pixel), the map's results that something else reads are
 * stored at Y's element, and the pool's fold (max, or sum from 0, in the
 * pool's order of the window) takes the pooled result; the folded window is
 * stored at the pool's element. Each pixel belongs to one window and each
 * window to one block, so threads taking blocks write disjoint elements.
 *
 * `in…` are the conv kernel's inputs, then the map's other inputs
 * (`mapInputAt`); `out…` the product, the map's written results, then the
 * pool's result and its other written values.
 */
import type { DType } from "../../../ir/ops.js";
import { VIEWS } from "../../../kernel/anatomy.js";
import { mentions, type Expr } from "../../../kernel/index-expr.js";
import { readAt, type Read } from "../../../kernel/reads.js";
import { Code, I32, V128 } from "../wasm.js";
import { isComputed, mapCoords, readAfterFold, type ConvPoolPlan } from "./conv-pool-plan.js";
import { emitPointwise } from "./pointwise.js";
import type { MathContext } from "./simd-math.js";
import type { ModuleRefs, Typed } from "./space-kernel.js";
import { VectorAccess } from "./vector-access.js";

/** The epilogue's code; `inputs` are every input of the fused kernel, `mapInputAt` the position among them of each of the map's inputs (−1 for the product). */
export function convPoolEpilogue(plan: ConvPoolPlan, inputs: readonly Typed[], mapInputAt: readonly number[], refs: ModuleRefs): Code {
  return new ConvPoolWriter(plan, inputs, mapInputAt, refs).write();
}

/** Parameters before the inputs: b, i0, i1, j0, j1, c. */
const FIRST = 6;

class ConvPoolWriter extends VectorAccess {
  private readonly cx: MathContext;
  /** The first output's parameter: the product's, then the map's written results and the pool's. */
  private readonly outputs: number;
  /** The product's vector at the pixel the window loop is at. */
  private readonly x: number;

  constructor(
    private readonly plan: ConvPoolPlan,
    inputs: readonly Typed[],
    mapInputAt: readonly number[],
    refs: ModuleRefs,
  ) {
    const outputs = 1 + plan.writes.length + plan.poolWrites.length;
    const f = new Code(new Array(FIRST + inputs.length + outputs).fill(I32));
    const dtypes = plan.map.inputs.map((_, i) => (mapInputAt[i]! < 0 ? "f32" : inputs[mapInputAt[i]!]!.dtype));
    // The product is never read through an address (its vector is `x`): its slot names any parameter. The
    // writes go through `storeLanes`, not the base class's outputs.
    super(f, dtypes, mapInputAt.map((at) => FIRST + Math.max(0, at)), plan.map.ops, [], []);
    // Coordinates of Y: image, filter (the lane coordinate), row, column.
    for (let a = 0; a < 4; a++) this.coord.push(f.local(I32));
    this.lane = 1;
    this.cx = { f, imports: refs.imports };
    this.outputs = FIRST + inputs.length;
    this.x = f.local(V128);
  }

  write(): Code {
    const f = this.f;
    const { h, w, s, filters, window, fold } = this.plan;
    const [ph, pw] = [h / s, w / s];
    const [img, filter, yRow, yCol] = this.coord as [number, number, number, number];
    const [row, h0, pRow, pCol, at] = Array.from({ length: 5 }, () => f.local(I32));
    const acc = f.local(V128);
    const loop = (done: () => void, body: () => void) =>
      f.block(() =>
        f.loop(() => {
          done();
          f.br_if(1);
          body();
          f.br(0);
        }),
      );
    f.local_get(1).local_set(row);
    loop(
      () => f.local_get(row).local_get(2).i32_ge_u(),
      () => {
        // The band's image, its first image row and its row of windows.
        f.local_get(row).i32_const(h * w).i32_div_u().local_set(img);
        f.local_get(row).i32_const(h * w).i32_rem_u().i32_const(w).i32_div_u().local_tee(h0).i32_const(s).i32_div_u().local_set(pRow);
        f.i32_const(0).local_set(pCol);
        loop(
          () => f.local_get(pCol).i32_const(pw).i32_ge_u(),
          () => {
            f.local_get(3).local_set(filter);
            loop(
              () => f.local_get(filter).local_get(4).i32_ge_u(),
              () => {
                // Reads the same at every pixel of the window, loaded once; each pixel starts from them.
                this.hoisted = new Map();
                this.hoistWindowReads();
                const windowReads = this.hoisted;
                const init = fold === "max" ? -Infinity : 0;
                f.v128_const_f32([init, init, init, init]).local_set(acc);
                for (const [dy, dx] of window) {
                  this.hoisted = new Map(windowReads);
                  f.local_get(h0).i32_const(dy).i32_add().local_set(yRow);
                  f.local_get(pCol).i32_const(s).i32_mul().i32_const(dx).i32_add().local_set(yCol);
                  // The product's row: the band's first plus the pixel's place in it.
                  f.local_get(5);
                  f.local_get(row).i32_const(dy * w + dx).i32_add().local_get(pCol).i32_const(s).i32_mul().i32_add();
                  f.i32_const(filters).i32_mul().local_get(filter).i32_add().i32_const(4).i32_mul().i32_add();
                  f.v128_load().local_set(this.x);
                  this.evaluate();
                  this.plan.writes.forEach(({ op }, n) => {
                    // Y's element (img, filter + l, yRow, yCol): lanes h·w apart.
                    f.local_get(this.outputs + 1 + n);
                    f.local_get(img).i32_const(filters).i32_mul().local_get(filter).i32_add().i32_const(h).i32_mul().local_get(yRow).i32_add();
                    f.i32_const(w).i32_mul().local_get(yCol).i32_add().i32_const(4).i32_mul().i32_add().local_set(at);
                    this.storeLanes(at, this.val[op]!, this.plan.map.ops[op]!.dtype, h * w);
                  });
                  f.local_get(acc).local_get(this.val[this.plan.pooled]!);
                  if (fold === "max") f.f32x4_max();
                  else f.f32x4_add();
                  f.local_set(acc);
                }
                // The pool's ops after its fold (a mean's division), then what it writes at the pooled element
                // (img, filter + l, pRow, pCol): lanes ph·pw apart.
                const pooled = this.afterFold(acc);
                f.local_get(img).i32_const(filters).i32_mul().local_get(filter).i32_add().i32_const(ph).i32_mul().local_get(pRow).i32_add();
                f.i32_const(pw).i32_mul().local_get(pCol).i32_add().i32_const(4).i32_mul().local_set(at);
                this.plan.poolWrites.forEach(({ op }, n) => {
                  const to = f.local(I32);
                  f.local_get(this.outputs + 1 + this.plan.writes.length + n).local_get(at).i32_add().local_set(to);
                  this.storeLanes(to, pooled.get(op)!, "f32", ph * pw);
                });
                f.local_get(filter).i32_const(4).i32_add().local_set(filter);
              },
            );
            f.local_get(pCol).i32_const(1).i32_add().local_set(pCol);
          },
        );
        f.local_get(row).i32_const(s * w).i32_add().local_set(row);
      },
    );
    return f;
  }

  /** The computed ops of the map, in order, each into its vector local. */
  private evaluate(): void {
    const f = this.f;
    const map = this.plan.map;
    map.ops.forEach((o, j) => {
      if (!this.computed(j)) return;
      const operands = this.argReads(j).map((r, a) => this.vector(r, this.argDtype(j, a), 4));
      const dtype = o.op === "where" ? this.argDtype(j, 1) : this.argDtype(j, 0);
      emitPointwise(this.cx, o.op, operands, dtype, o.dtype);
      this.val[j] ??= f.local(V128);
      f.local_set(this.val[j]!);
    });
  }

  /** The pool kernel's lane ops after its fold, on the folded window `acc` and constants; returns the local of each (the fold's: acc). */
  private afterFold(acc: number): Map<number, number> {
    const f = this.f;
    const { pool, reduction, after } = this.plan;
    const vals = new Map<number, number>([[reduction, acc]]);
    for (const j of after) {
      const o = pool.ops[j]!;
      const operands = o.args.map((arg) => {
        const r = readAfterFold(pool, arg, o.shape, this.plan.poolInputShapes);
        if (r.kind === "op") return vals.get(r.op)!;
        const v = f.local(V128);
        f.v128_const_f32([0, 1, 2, 3].map(() => (r as { value: number }).value) as [number, number, number, number]).local_set(v);
        return v;
      });
      emitPointwise(this.cx, o.op, operands, "f32", "f32");
      const v = f.local(V128);
      f.local_set(v);
      vals.set(j, v);
    }
    return vals;
  }

  /** Reads of the map's other inputs that are the same at every pixel of the window, loaded before it. */
  private hoistWindowReads(): void {
    this.plan.map.ops.forEach((_, j) => {
      if (!this.computed(j)) return;
      this.argReads(j).forEach((r, a) => {
        if (r.kind !== "op" && !this.isProduct(r) && !mentionsPixel(r)) this.vector(r, this.argDtype(j, a), 4);
      });
    });
  }

  private computed(j: number): boolean {
    return isComputed(this.plan.map, j);
  }

  /** What op j's operands read at Y's element: a computed op directly, or through views to an input, a constant or an index. */
  private argReads(j: number): Read[] {
    const map = this.plan.map;
    const ys = map.shape;
    const { batch, filters, h, w } = this.plan;
    const y = [batch, filters, h, w];
    return map.ops[j]!.args.map((arg) =>
      "op" in arg && this.computed(arg.op)
        ? { kind: "op" as const, op: arg.op }
        : readAt(map, arg, mapCoords(ys, y), y, this.plan.inputShapes, (p) => VIEWS.has(map.ops[p]!.op)),
    );
  }

  private argDtype(j: number, a: number): DType {
    const arg = this.plan.map.ops[j]!.args[a]!;
    return "input" in arg ? this.inputDtypes[arg.input]! : this.plan.map.ops[arg.op]!.dtype;
  }

  private isProduct(r: Read): boolean {
    return r.kind === "load" && this.plan.productInputs.has(r.input);
  }

  /** A local holding read `r` for the four filters: the product's vector, else as every kernel reads. */
  protected override vector(r: Read, dtype: DType, tail: number): number {
    return this.isProduct(r) ? this.x : super.vector(r, dtype, tail);
  }

  /** Stores the four lanes of `v` at byte address `at` and `stride` elements apart. */
  private storeLanes(at: number, v: number, dtype: DType, stride: number): void {
    const f = this.f;
    for (let l = 0; l < 4; l++) {
      f.local_get(at).local_get(v);
      if (dtype === "f32") f.f32x4_extract_lane(l).f32_store(l * stride * 4);
      else f.i32x4_extract_lane(l).i32_store(l * stride * 4);
    }
  }
}

/** Whether a read depends on the pixel (Y's row or column coordinate). */
function mentionsPixel(r: Read): boolean {
  const pixel = (e: Expr) => mentions(e, 2) || mentions(e, 3);
  switch (r.kind) {
    case "const":
    case "op":
      return false;
    case "index":
      return pixel(r.expr);
    case "load":
      return pixel(r.offset);
    case "select":
      return r.when.some((c) => pixel(c.expr)) || mentionsPixel(r.then) || mentionsPixel(r.otherwise);
  }
}
