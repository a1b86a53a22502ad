/**
 * Which convolutions the CPU backend runs with their pool fused. The planner
 * leaves a pooled convolution as three kernels, one after another: the `conv`
 * kernel (an implicit GEMM whose product P [B·H·W, F] has a row per pixel and
 * a column per filter), the `map` kernel of its epilogue (bias, activation),
 * which reads P through the permute that makes it Y [B, F, H, W], and the
 * `reduce` kernel of a max or sum pool over the s×s windows of Y at stride s.
 * Where a band of s image rows fits a block of the matmul, the three run as
 * one kernel (`conv-pool-kernel.ts`): the product's blocks are such bands,
 * and after a band's product the epilogue evaluates the map at each pixel of
 * each window in registers and folds the window as the pool does. Y is
 * written only where something besides the pool reads it (a backward pass);
 * P stays where the matmul accumulates it.
 *
 * `convPoolAt` takes a candidate chain (`kernel/pool-chains.ts`) and only
 * what it can check: the map reads P at Y's element
 * and its other inputs through views, computes lane ops of Y's shape, and the
 * pool reads one of its results at the s² pixels of each window, which tile
 * the image. Anything else returns null, and the kernels run as planned.
 */
import type { Shape } from "../../../ir/ops.js";
import { sizeOf } from "../../../ir/shape.js";
import { INDEXED, VIEWS } from "../../../kernel/anatomy.js";
import type { Kernel, KernelArg, KernelGraph } from "../../../kernel/graph.js";
import { poolChainsEndingAt, type PoolChain } from "../../../kernel/pool-chains.js";
import { coefficientOf, constant, coord, flatten, isAffine, mentions, unflatten, type Expr } from "../../../kernel/index-expr.js";
import { readAt, type Read } from "../../../kernel/reads.js";
import { MC } from "./matmul-kernel.js";
import { isLaneOp } from "./pointwise.js";

/** A convolution, its epilogue and its pool, to run as one kernel. */
export interface ConvPoolPlan {
  readonly conv: Kernel;
  readonly map: Kernel;
  readonly pool: Kernel;
  /** Y's shape: images, filters, rows and columns of pixels. */
  readonly batch: number;
  readonly filters: number;
  readonly h: number;
  readonly w: number;
  /** The pool's window side and stride. */
  readonly s: number;
  readonly fold: "max" | "sum";
  /** The pool kernel's reduction op, and its computed ops after it, in order. */
  readonly reduction: number;
  readonly after: readonly number[];
  /** What the pool kernel writes at the pooled element: its result first, then its extra outputs (op and value). */
  readonly poolWrites: readonly { readonly op: number; readonly value: number }[];
  /** The window's pixels (row, column within it) in the order the pool folds them. */
  readonly window: readonly (readonly [number, number])[];
  /** The shapes of the map's inputs, and of the pool's. */
  readonly inputShapes: readonly Shape[];
  readonly poolInputShapes: readonly Shape[];
  /** The map's inputs that are the product. */
  readonly productInputs: ReadonlySet<number>;
  /** The map's op whose value the pool folds. */
  readonly pooled: number;
  /** The map's results that something besides the pool reads: its op and value, to write at Y's element. */
  readonly writes: readonly { readonly op: number; readonly value: number }[];
  /** Rows of the product per block: whole bands of s image rows. */
  readonly rows: number;
}

/** The plans of every pooled convolution in `graph` this fusion takes, in kernel order. */
export function convPoolsOf(graph: KernelGraph): ConvPoolPlan[] {
  // A 1×1 convolution's product reads no windows: the planner calls it a matmul.
  const chains = graph.kernels.flatMap((k) => poolChainsEndingAt(graph, k, (p) => p.kind === "conv" || p.kind === "matmul"));
  return chains.flatMap((c) => convPoolAt(graph, c) ?? []);
}

/** The plan for a candidate chain of `graph` (`kernel/pool-chains.ts`), or null where it is not a pooled convolution this fusion takes. */
export function convPoolAt(graph: KernelGraph, chain: PoolChain): ConvPoolPlan | null {
  if (chain.kernels.length !== 3) return null;
  const [conv, map, pool] = chain.kernels.map((id) => graph.kernels[id]!) as [Kernel, Kernel, Kernel];
  const root = conv.ops[conv.ops.length - 1]!;
  if (root.op !== "matmul" || conv.extraOutputs !== undefined || conv.shape.length !== 2 || conv.dtype !== "f32") return null;
  const [m, filters] = conv.shape as [number, number];

  // The pool: a max or sum over axis 2 of [B, F, s², H/s, W/s], reading one of the map's results at each pixel of the window;
  // views before it, and after it lane ops of its value and constants (a mean's division) and reshapes.
  const reduction = pool.ops.findIndex((o) => o.op === "max" || o.op === "sum");
  const red = pool.ops[reduction];
  if (red === undefined || red.dtype !== "f32") return null;
  if ((red.attrs as { axes: readonly number[] }).axes.join() !== "2") return null;
  if (!pool.ops.slice(0, reduction).every((o) => VIEWS.has(o.op) || o.op === "const")) return null;
  const poolInputShapes = pool.inputs.map((v) => graph.values[v]!.shape);
  const after: number[] = [];
  for (let j = reduction + 1; j < pool.ops.length; j++) {
    const o = pool.ops[j]!;
    if (sizeOf(o.shape) !== sizeOf(red.shape) && o.op !== "const" && o.op !== "expand") return null;
    if (o.op === "const" || o.op === "expand" || o.op === "reshape") continue;
    if (!isLaneOp(o.op) || o.dtype !== "f32") return null;
    for (const arg of o.args) {
      const r = "input" in arg ? null : readAfterFold(pool, arg, o.shape, poolInputShapes);
      if (r === null || (r.kind !== "const" && !(r.kind === "op" && r.op >= reduction))) return null;
    }
    after.push(j);
  }
  // What the pool writes (its result, and values read elsewhere: the fold before a reshape, say): computed ops from the
  // fold on, or reshapes of them, all at the pooled element.
  const poolWrites: { op: number; value: number }[] = [];
  for (const { op, value } of [{ op: pool.ops.length - 1, value: pool.output }, ...(pool.extraOutputs ?? [])]) {
    let j = op;
    while (pool.ops[j]!.op === "reshape" && "op" in pool.ops[j]!.args[0]!) j = (pool.ops[j]!.args[0] as { op: number }).op;
    if (j !== reduction && !after.includes(j)) return null;
    poolWrites.push({ op: j, value });
  }
  const xs: Shape = "op" in red.args[0]! ? pool.ops[red.args[0].op]!.shape : graph.values[pool.inputs[red.args[0]!.input]!]!.shape;
  const s = Math.round(Math.sqrt(xs[2] ?? 0));
  if (xs.length !== 5 || s < 2 || s * s !== xs[2] || xs[1] !== filters || pool.inputs.some((v) => v !== pool.inputs[0])) return null;
  // The windows tile Y: [B, F, H, W] with H = s·(H/s) and W = s·(W/s), as many elements as the product.
  const [batch, , , ph, pw] = xs as [number, number, number, number, number];
  const [h, w] = [ph * s, pw * s];
  const window: [number, number][] = [];
  for (let e = 0; e < s * s; e++) {
    const r = readAt(pool, red.args[0]!, [coord(0), coord(1), constant(e), coord(3), coord(4)], xs, poolInputShapes, () => true);
    if (r.kind !== "load" || !isAffine(r.offset) || mentions(r.offset, 2)) return null;
    const want = [filters * h * w, h * w, 0, s * w, s];
    // Axes of one element may have been simplified away.
    if (want.some((c, a) => a !== 2 && xs[a]! > 1 && coefficientOf(r.offset, a) !== c)) return null;
    const at = r.offset.constant;
    const [dy, dx] = [Math.floor(at / w), at % w];
    if (at < 0 || dy >= s || dx >= s || window.some(([y, x]) => y === dy && x === dx)) return null;
    window.push([dy, dx]);
  }

  // The map: results of one shape holding Y's elements in Y's order ([B, F, H·W] say), P read at Y's element, lane ops only.
  const ys = map.shape;
  if (sizeOf(ys) !== m * filters || m !== batch * h * w || filters % 4 !== 0) return null;
  const productInputs = new Set(map.inputs.flatMap((v, i) => (v === conv.output ? [i] : [])));
  if (productInputs.size === 0) return null;
  const outputs = [{ op: map.ops.length - 1, value: map.output }, ...(map.extraOutputs ?? []).map((e) => ({ op: e.op, value: e.value }))];
  const computed = (j: number): boolean => isComputed(map, j);
  for (const { op } of outputs) if (!computed(op)) return null;
  const yCoords = mapCoords(ys, [batch, filters, h, w]);
  const inShapes = map.inputs.map((v) => graph.values[v]!.shape);
  // P's element ((b·H + h)·W + w)·F + f, at Y's coordinates (b, f, h, w).
  const atY: readonly number[] = [h * w * filters, 1, w * filters, filters];
  for (let j = 0; j < map.ops.length; j++) {
    const o = map.ops[j]!;
    if (!computed(j)) continue;
    if (!isLaneOp(o.op) || o.shape.length !== ys.length || o.shape.some((d, a) => d !== ys[a])) return null;
    for (const arg of o.args) {
      if ("op" in arg && computed(arg.op)) continue;
      if (!readsOnly(readAt(map, arg, yCoords, [batch, filters, h, w], inShapes, (p) => VIEWS.has(map.ops[p]!.op)), productInputs, atY.map((c, a) => ([batch, filters, h, w][a]! > 1 ? c : undefined)))) return null;
    }
  }

  const pooledOutput = outputs.find((o) => o.value === pool.inputs[0]);
  if (pooledOutput === undefined) return null;

  // Bands of s image rows per block, as many as fit MC rows, preferring a multiple of 4 rows (whole strips of A).
  const band = s * w;
  if (band > MC) return null;
  let rows = band;
  for (let t = Math.floor(MC / band); t >= 1; t--) {
    if ((t * band) % 4 === 0) {
      rows = t * band;
      break;
    }
  }

  // Results written: those read outside the chain, or by the graph.
  const writes = outputs.filter((o) => chain.readOutside.has(o.value));
  // One kernel now writes P, the written results and the pool while reading every input: no buffer may serve two of them.
  const written = [conv.output, ...writes.map((o) => o.value), ...poolWrites.map((o) => o.value)].map((v) => graph.values[v]!.buffer);
  const read = [...conv.inputs, ...map.inputs.filter((_, i) => !productInputs.has(i))].map((v) => graph.values[v]!.buffer);
  if (new Set(written).size !== written.length || written.some((b) => read.includes(b))) return null;
  return { conv, map, pool, batch, filters, h, w, s, fold: red.op as "max" | "sum", reduction, after, poolWrites, window, inputShapes: inShapes, poolInputShapes, productInputs, pooled: pooledOutput.op, writes, rows };
}

/** Whether op j of kernel `k` is computed (not a view, a constant or an iota, which reads follow). */
export function isComputed(k: Kernel, j: number): boolean {
  const op = k.ops[j]!.op;
  return !VIEWS.has(op) && !INDEXED.has(op);
}

/**
 * What an op after the pool's fold reads for operand `arg` (shape `shape`):
 * through reshapes and expands, a constant or a computed op; anything else
 * (an input) is a read the fusion does not take.
 */
export function readAfterFold(pool: Kernel, arg: KernelArg, shape: Shape, inputShapes: readonly Shape[]): Read {
  return readAt(pool, arg, shape.map(() => constant(0)), shape, inputShapes, (p) => pool.ops[p]!.op === "reshape" || pool.ops[p]!.op === "expand");
}

/**
 * The coordinates of a map of shape `ys` at Y's element (b, f, h, w): Y's
 * flat index taken apart by `ys` (the same elements in the same order).
 */
export function mapCoords(ys: readonly number[], y: readonly number[]): Expr[] {
  const at = [0, 1, 2, 3].map(coord);
  return ys.length === 4 && ys.every((d, a) => d === y[a]) ? at : unflatten(flatten(at, y), ys, y);
}

/**
 * Whether `r` reads only what the fused epilogue can: P at Y's element (an
 * affine offset with `atY`'s coefficients, where given), other inputs, constants and
 * indices, choosing among them by the coordinates (no computed op behind a
 * view, whose element the loops would not be at).
 */
function readsOnly(r: Read, product: ReadonlySet<number>, atY: readonly (number | undefined)[]): boolean {
  switch (r.kind) {
    case "const":
    case "index":
      return true;
    case "op":
      return false;
    case "load":
      if (!product.has(r.input)) return true;
      return isAffine(r.offset) && atY.every((c, a) => c === undefined || coefficientOf(r.offset, a) === c) && r.offset.constant === 0;
    case "select":
      return !hasProduct(r, product) && readsOnly(r.then, product, atY) && readsOnly(r.otherwise, product, atY);
  }
}

function hasProduct(r: Read, product: ReadonlySet<number>): boolean {
  if (r.kind === "load") return product.has(r.input);
  if (r.kind === "select") return hasProduct(r.then, product) || hasProduct(r.otherwise, product);
  return false;
}
