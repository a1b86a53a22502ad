/**
 * The anatomy of a fused kernel: the index space it runs over (its domain),
 * and where each of its ops lives in that space — what a backend needs to
 * render a kernel of the planner (`fuse.ts`) as one loop nest. It is derived
 * from the kernel alone (a graph read from JSON may be anything), and a
 * kernel whose ops do not fit one of the shapes below is refused with a
 * message naming it.
 *
 * - `map`: the domain is the root's shape; every computed op is one value per
 *   domain element, at the same flat index (`full`), or one value for the
 *   whole kernel (`scalar`).
 * - `reduce`: the domain is the reductions' operand, `axes` the axes they
 *   reduce (the same for all); ops are `full`, `reduced` (one per row: the
 *   domain without its reduced axes) or `scalar`.
 * - `matmul`: the domain is the product's result; its operands are read
 *   through views, and the other ops are `full` (an epilogue) or `scalar`.
 * - `single`: one op a backend renders on its own (gather, scatter_add,
 *   argsort, literal, a draw of random numbers that nothing fused).
 *
 * Views, constants and iotas read at an index computed from their reader's
 * live in `leaf`: a backend follows them (`reads.ts`) down to a stored value.
 *
 * *Invariant*: every computed op of a `full` (or `reduced`) space holds the
 * value at its reader's flat index in that space, so a backend evaluates the
 * ops of a space in order at each position, each once.
 */
import { isOpOf, OPS, type Op, type OpAttrs, type Shape } from "../ir/ops.js";
import { sameShape, sizeOf } from "../ir/shape.js";
import type { Kernel } from "./graph.js";

/** Where an op of a fused kernel lives (see the file comment). */
export type Space = "full" | "reduced" | "scalar" | "leaf";

/** How a backend renders a kernel. */
export type Shape_ = "map" | "reduce" | "matmul" | "single";

/** The domain of a kernel and the space of each op. */
export interface Anatomy {
  readonly kind: Shape_;
  /** The shape the kernel's loops run over. */
  readonly domain: Shape;
  /** A reduce kernel's reduced axes of the domain (ascending); empty otherwise. */
  readonly axes: readonly number[];
  /** Per op, its space. */
  readonly spaces: readonly Space[];
  /** A matmul kernel's matmul op; −1 otherwise. */
  readonly matmul: number;
}

/** An error in the structure of a fused kernel. */
export class KernelShapeError extends Error {}

/** Ops a kernel evaluates elementwise. */
export function isPointwiseOp(op: Op): boolean {
  if (!Object.prototype.hasOwnProperty.call(OPS, op)) return false;
  return isOpOf(op, "unary") || isOpOf(op, "binary") || isOpOf(op, "ternary") || isOpOf(op, "cast");
}

/** Ops read at an index computed from their reader's. */
export const VIEWS: ReadonlySet<Op> = new Set<Op>(["reshape", "permute", "expand", "slice", "pad", "concat"]);

/** Ops whose value needs no operand. */
export const INDEXED: ReadonlySet<Op> = new Set<Op>(["const", "iota"]);

/** The shape of operand `a` of op `j` of kernel `k`. */
export function argShape(k: Kernel, j: number, a: number, inputShapes: readonly Shape[]): Shape {
  const arg = k.ops[j]!.args[a]!;
  return "input" in arg ? inputShapes[arg.input]! : k.ops[arg.op]!.shape;
}

/** Whether op j reduces more than one element into each output (a sum or max that is no copy). */
export function isProperReduction(k: Kernel, j: number, inputShapes: readonly Shape[]): boolean {
  const o = k.ops[j]!;
  if (o.op !== "sum" && o.op !== "max") return false;
  const out = sizeOf(o.shape);
  return out > 0 && sizeOf(argShape(k, j, 0, inputShapes)) > out;
}

/** The reduced shape of a domain: its reduced axes set to 1. */
export function reducedShape(domain: Shape, axes: readonly number[]): number[] {
  return domain.map((d, a) => (axes.includes(a) ? 1 : d));
}

/** The anatomy of `k`, whose inputs have `inputShapes`; throws `KernelShapeError` when the kernel fits no shape. */
export function anatomyOf(k: Kernel, inputShapes: readonly Shape[]): Anatomy {
  const ops = k.ops;
  const root = ops.length - 1;
  const fail = (why: string): never => {
    throw new KernelShapeError(`kernel k${k.id} (${k.kind ?? "single"}): ${why}`);
  };
  if (ops.length === 0) fail("it has no ops");
  const rootOp = ops[root]!.op;
  let kind: Shape_;
  let domain: Shape = ops[root]!.shape;
  let axes: readonly number[] = [];
  let matmul = -1;
  const reduction = ops.findIndex((_, j) => isProperReduction(k, j, inputShapes));
  const mm = ops.findIndex((o) => o.op === "matmul");
  if (mm >= 0) {
    if (ops.some((o, j) => o.op === "matmul" && j !== mm)) fail("it has two matmuls");
    if (reduction >= 0) fail("it has a matmul and a reduction");
    kind = "matmul";
    matmul = mm;
    domain = ops[mm]!.shape;
  } else if (reduction >= 0) {
    kind = "reduce";
    domain = argShape(k, reduction, 0, inputShapes);
    axes = [...(ops[reduction]!.attrs as OpAttrs["sum"]).axes].sort((a, b) => a - b);
  } else if (ops.length === 1 && !(isPointwiseOp(rootOp) || VIEWS.has(rootOp) || INDEXED.has(rootOp) || rootOp === "sum" || rootOp === "max" || rootOp === "uniform" || rootOp === "normal")) {
    kind = "single";
  } else if (ops.every((o) => isPointwiseOp(o.op) || VIEWS.has(o.op) || INDEXED.has(o.op) || o.op === "sum" || o.op === "max" || o.op === "uniform" || o.op === "normal")) {
    kind = "map";
  } else {
    return fail(`op ${ops.find((o) => !isPointwiseOp(o.op) && !VIEWS.has(o.op) && !INDEXED.has(o.op))!.op} cannot be fused`);
  }
  const spaces: (Space | undefined)[] = ops.map(() => undefined);
  if (kind === "single") return { kind, domain, axes, spaces: ["full"], matmul };

  const full = sizeOf(domain);
  const reducedCount = kind === "reduce" ? sizeOf(reducedShape(domain, axes)) : -1;
  const rootCount = sizeOf(ops[root]!.shape);
  spaces[root] = rootCount === full ? "full" : rootCount === reducedCount ? "reduced" : rootCount === 1 ? "scalar" : fail(`its result has ${rootCount} elements, neither its domain's ${full} nor one per row`);

  const set = (j: number, s: Space): void => {
    const had = spaces[j];
    if (had === undefined || had === s) {
      spaces[j] = s;
      return;
    }
    // A value of one element is a scalar wherever it is read.
    if (sizeOf(ops[j]!.shape) === 1 && (had === "scalar" || s === "scalar") && had !== "leaf" && s !== "leaf") {
      spaces[j] = "scalar";
      return;
    }
    fail(`op ${j} (${ops[j]!.op}) is read both in ${had} and in ${s}`);
  };

  for (let q = root; q >= 0; q--) {
    const s = spaces[q];
    const o = ops[q]!;
    if (s === undefined) return fail(`op ${q} (${o.op}) is not read by the kernel's result`);
    o.args.forEach((arg, a) => {
      if ("input" in arg) return;
      const p = arg.op;
      const pCount = sizeOf(ops[p]!.shape);
      let r: Space;
      if (s === "leaf" || o.op === "matmul") r = "leaf";
      // One element is a scalar, except in a product of one element (as the planner reads it: its epilogue lives at that element).
      else if (pCount === 1 && !(kind === "matmul" && full === 1) && !(kind === "reduce" && isProperReduction(k, p, inputShapes))) r = "scalar";
      else if (isProperReduction(k, q, inputShapes)) r = "full";
      else if (o.op === "uniform" || o.op === "normal") r = "scalar";
      else if (isPointwiseOp(o.op) || o.op === "sum" || o.op === "max" || o.op === "reshape") r = s;
      else if (o.op === "expand" && s === "full" && kind === "reduce" && sameShape(o.shape, domain) && sameShape(ops[p]!.shape, reducedShape(domain, axes))) r = "reduced";
      else r = "leaf";
      void a;
      set(p, r);
    });
  }
  // Each space holds only what it can.
  spaces.forEach((s, j) => {
    const o = ops[j]!;
    const n = sizeOf(o.shape);
    if (s === "leaf") {
      if (!VIEWS.has(o.op) && !INDEXED.has(o.op)) fail(`op ${j} (${o.op}) is read through a view but is computed`);
      return;
    }
    if (j === matmul) {
      if (s !== "full") return fail("its matmul is not read at its own index");
      return;
    }
    const want = s === "full" ? full : s === "reduced" ? reducedCount : 1;
    if (n !== want) fail(`op ${j} (${o.op}) has ${n} elements but lives in ${s} (${want})`);
    if (isProperReduction(k, j, inputShapes)) {
      if (s !== "reduced" && !(s === "scalar" && reducedCount === 1)) return fail(`reduction op ${j} is read in ${s}`);
      const x = argShape(k, j, 0, inputShapes);
      const own = [...(o.attrs as OpAttrs["sum"]).axes].sort((a, b) => a - b);
      if (!sameShape(x, domain) || own.length !== axes.length || own.some((a, i) => a !== axes[i])) fail(`reduction op ${j} reduces another domain`);
      spaces[j] = "reduced";
    }
  });
  // A one-element value computed from a row's values is that row's (a loss over the whole domain): not hoisted.
  ops.forEach((o, j) => {
    if (spaces[j] !== "scalar") return;
    const fromRow = o.args.some((arg) => "op" in arg && (spaces[arg.op] === "reduced" || spaces[arg.op] === "full"));
    if (!fromRow) return;
    if (kind === "reduce" && reducedCount === 1) spaces[j] = "reduced";
    else if (full === 1) spaces[j] = "full";
    else fail(`op ${j} (${o.op}) is one value but computed from a row's`);
  });
  return { kind, domain, axes, spaces: spaces as Space[], matmul };
}
