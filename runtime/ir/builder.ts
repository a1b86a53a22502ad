/**
 * `IRBuilder`: the one way to make well-typed IR.
 *
 * Every node goes through `node()`, which types it with the rules of
 * `infer.ts` (throwing `IRError` with the operands' types on misuse) and shares
 * structurally equal nodes (hash-consing): asking twice for `add(%1, %2)` gives
 * the same node. Random ops are pure functions of (seed, step, stream, shape),
 * so sharing them is sound too.
 *
 * On top of `node()` sit the methods lowering code calls: NumPy broadcasting
 * for elementwise ops (numbers become constants), negative axes, reductions
 * that drop axes on request, and a few compositions (`mean`, `transpose`,
 * `topk`, …). The methods skip no-ops (a reshape to the same shape returns its
 * operand), so the IR holds only real work.
 */
import { formatType, inferType, isError } from "./infer.js";
import { makeGraph, makeNode, type Graph, type Node, type NodeOf } from "./node.js";
import type { BinaryOp, DType, Op, OpAttrs, Shape, UnaryOp } from "./ops.js";
import { broadcastShapes, formatShape, normalizeAxis, sameShape, sizeOf } from "./shape.js";

/** Misuse of the builder: operands of the wrong type, bad attributes, foreign nodes. */
export class IRError extends Error {
  override readonly name = "IRError";
}

/** An operand: a node, or a number that becomes a constant of the other operands' dtype and shape. */
export type Operand = Node | number;

/** The key of a random draw: seed and step are i32 scalar nodes; `stream` tells call sites apart. */
export interface RandomKey {
  readonly seed: Node;
  readonly step: Node;
  readonly stream: number;
}

/** JSON with the numbers JSON cannot hold (±∞, −0) spelled out, for hash-consing keys. */
function keyOf(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === "number" && (!Number.isFinite(v) || Object.is(v, -0)) ? `#${Object.is(v, -0) ? "-0" : v}` : v,
  );
}

/** Builds IR nodes for one graph (or several graphs that share nodes). */
export class IRBuilder {
  private readonly list: Node[] = [];
  private readonly cache = new Map<string, Node>();
  private readonly owned = new WeakSet<Node>();
  private readonly leafNames = new Map<string, Node>();
  private streams = 0;

  /** Every node made so far, in creation (topological) order. */
  get nodes(): readonly Node[] {
    return this.list;
  }

  /**
   * Makes (or finds) a node of `op`. All other methods end here. Throws
   * `IRError` when the operands or attributes do not type-check.
   */
  node<O extends Op>(op: O, inputs: readonly Node[], attrs: OpAttrs[O]): NodeOf<O> {
    for (const i of inputs) this.own(i);
    const t = inferType(op, inputs, attrs);
    if (isError(t)) {
      const operands = inputs.map((i) => `%${i.id}: ${formatType(i)}`).join(", ");
      throw new IRError(`${op}(${operands}): ${t.error}`);
    }
    const key = `${op}(${inputs.map((i) => i.id).join(",")})${keyOf(attrs)}`;
    const found = this.cache.get(key);
    if (found) return found as NodeOf<O>;
    if (op === "input" || op === "param") {
      const name = (attrs as OpAttrs["input"]).name;
      const other = this.leafNames.get(name);
      if (other) {
        throw new IRError(`${op} "${name}": the name is already used by ${other.op} %${other.id}: ${formatType(other)}`);
      }
    }
    const node = makeNode(this.list.length, op, inputs, attrs, t.shape, t.dtype);
    this.list.push(node as Node);
    this.cache.set(key, node as Node);
    this.owned.add(node as Node);
    if (op === "input" || op === "param") this.leafNames.set((attrs as OpAttrs["input"]).name, node as Node);
    return node;
  }

  /** A graph of this builder's nodes with named outputs. */
  graph(outputs: Readonly<Record<string, Node>>): Graph {
    for (const n of Object.values(outputs)) this.own(n);
    return makeGraph(outputs);
  }

  /** A fresh random stream number, distinct from every other one this builder handed out. */
  newStream(): number {
    return this.streams++;
  }

  /** The input or param called `name`, if one was made. */
  leaf(name: string): Node | undefined {
    return this.leafNames.get(name);
  }

  private own(n: Node): void {
    if (!this.owned.has(n)) throw new IRError(`node %${n.id} (${n.op}) belongs to another IRBuilder`);
  }

  // ---- Leaves ----

  /** Data fed for each run. */
  input(name: string, shape: Shape, dtype: DType = "f32"): Node {
    return this.node("input", [], { name, shape: [...shape], dtype });
  }

  /** Persistent state: a weight, a running statistic, an optimizer moment. */
  param(name: string, shape: Shape, dtype: DType = "f32"): Node {
    return this.node("param", [], { name, shape: [...shape], dtype });
  }

  /** `value` in every element of `shape`. */
  constant(value: number, shape: Shape = [], dtype: DType = "f32"): Node {
    return this.node("const", [], { value, shape: [...shape], dtype });
  }

  /** A tensor fixed at build time, from row-major data. */
  literal(data: ArrayLike<number>, shape: Shape, dtype: DType = "f32"): Node {
    return this.node("literal", [], { data: Array.from(data), shape: [...shape], dtype });
  }

  /** 0, 1, … along `axis` of `shape`. */
  iota(shape: Shape, axis: number, dtype: DType = "i32"): Node {
    return this.node("iota", [], { axis: this.axis(axis, shape.length, "iota"), shape: [...shape], dtype });
  }

  /** Uniform numbers in [0, 1): element i is the shared generator's draw at (seed, stream, step, index i). */
  uniform(shape: Shape, key: RandomKey): Node {
    return this.node("uniform", [key.seed, key.step], { stream: key.stream, shape: [...shape] });
  }

  /** Standard normal numbers: element i is the shared generator's normal at (seed, stream, step, index i). */
  normal(shape: Shape, key: RandomKey): Node {
    return this.node("normal", [key.seed, key.step], { stream: key.stream, shape: [...shape] });
  }

  // ---- Elementwise ----

  /** Applies a unary elementwise op. */
  unary(op: UnaryOp, x: Node): Node {
    return this.node(op, [x], {});
  }
  neg(x: Node): Node { return this.unary("neg", x); }
  exp(x: Node): Node { return this.unary("exp", x); }
  log(x: Node): Node { return this.unary("log", x); }
  sqrt(x: Node): Node { return this.unary("sqrt", x); }
  recip(x: Node): Node { return this.unary("recip", x); }
  tanh(x: Node): Node { return this.unary("tanh", x); }
  sigmoid(x: Node): Node { return this.unary("sigmoid", x); }
  erf(x: Node): Node { return this.unary("erf", x); }
  abs(x: Node): Node { return this.unary("abs", x); }
  sign(x: Node): Node { return this.unary("sign", x); }
  relu(x: Node): Node { return this.unary("relu", x); }
  sin(x: Node): Node { return this.unary("sin", x); }
  cos(x: Node): Node { return this.unary("cos", x); }
  /** The identity without gradient (stop-gradient). */
  detach(x: Node): Node { return this.unary("detach", x); }

  /** Applies a binary elementwise op with NumPy broadcasting; a number operand becomes a constant. */
  binary(op: BinaryOp, a: Operand, b: Operand): Node {
    const [x, y] = this.operands(op, [a, b]);
    return this.node(op, [x!, y!], {});
  }
  add(a: Operand, b: Operand): Node { return this.binary("add", a, b); }
  sub(a: Operand, b: Operand): Node { return this.binary("sub", a, b); }
  mul(a: Operand, b: Operand): Node { return this.binary("mul", a, b); }
  div(a: Operand, b: Operand): Node { return this.binary("div", a, b); }
  maximum(a: Operand, b: Operand): Node { return this.binary("maximum", a, b); }
  minimum(a: Operand, b: Operand): Node { return this.binary("minimum", a, b); }
  pow(a: Operand, b: Operand): Node { return this.binary("pow", a, b); }
  /** 1 where a < b (i32). */
  cmplt(a: Operand, b: Operand): Node { return this.binary("cmplt", a, b); }
  /** 1 where a > b (i32): `cmplt(b, a)`. */
  cmpgt(a: Operand, b: Operand): Node { return this.binary("cmplt", b, a); }
  /** 1 where a == b (i32). */
  cmpeq(a: Operand, b: Operand): Node { return this.binary("cmpeq", a, b); }

  /** `a` where `cond` ≠ 0, else `b`, broadcasting all three. */
  where(cond: Node, a: Operand, b: Operand): Node {
    const [c, x, y] = this.operands("where", [cond, a, b]);
    return this.node("where", [c!, x!, y!], {});
  }

  /**
   * Broadcasts operands to one shape and numbers to constants. A number takes
   * the dtype of the last node operand (for `where`, the branches').
   */
  private operands(op: Op, ops: readonly Operand[]): Node[] {
    const nodes = ops.filter((o): o is Node => typeof o !== "number");
    if (nodes.length === 0) throw new IRError(`${op}: at least one operand must be a node`);
    const shape = broadcastShapes(...nodes.map((n) => n.shape));
    if (shape === null) {
      throw new IRError(`${op}: shapes ${nodes.map((n) => formatShape(n.shape)).join(" and ")} do not broadcast`);
    }
    const dtype = nodes[nodes.length - 1]!.dtype;
    return ops.map((o) => (typeof o === "number" ? this.constant(o, shape, dtype) : this.broadcastTo(o, shape)));
  }

  // ---- Reductions and contraction ----

  /** Sum over `axes` (default: all); the axes are dropped unless `keepdims`. */
  sum(x: Node, axes?: number | readonly number[], keepdims = false): Node {
    return this.reduce("sum", x, axes, keepdims);
  }

  /** Maximum over `axes` (default: all); the axes are dropped unless `keepdims`. */
  max(x: Node, axes?: number | readonly number[], keepdims = false): Node {
    return this.reduce("max", x, axes, keepdims);
  }

  /** Mean over `axes` (default: all). */
  mean(x: Node, axes?: number | readonly number[], keepdims = false): Node {
    const list = this.axes(x, axes, "mean");
    const count = list.reduce((n, a) => n * x.shape[a]!, 1);
    return this.div(this.sum(x, list, keepdims), count);
  }

  private reduce(op: "sum" | "max", x: Node, axes: number | readonly number[] | undefined, keepdims: boolean): Node {
    const list = this.axes(x, axes, op);
    if (list.length === 0) return x;
    const kept = this.node(op, [x], { axes: list });
    return keepdims ? kept : this.reshape(kept, x.shape.filter((_, i) => !list.includes(i)));
  }

  private axes(x: Node, axes: number | readonly number[] | undefined, op: string): number[] {
    const raw = axes === undefined ? x.shape.map((_, i) => i) : typeof axes === "number" ? [axes] : axes;
    const list = [...new Set(raw.map((a) => this.axis(a, x.shape.length, op)))];
    return list.sort((p, q) => p - q);
  }

  /** Batched matrix product: [..., m, k] × [..., k, n] → [..., m, n], batch dimensions broadcast. */
  matmul(a: Node, b: Node): Node {
    return this.node("matmul", [a, b], {});
  }

  // ---- Movement ----

  /** Same elements, new shape; one dimension may be −1 (inferred). */
  reshape(x: Node, shape: readonly number[]): Node {
    const unknown = shape.filter((d) => d === -1).length;
    if (unknown > 1) throw new IRError(`reshape(%${x.id}: ${formatType(x)}): at most one dimension may be -1`);
    let target = [...shape];
    if (unknown === 1) {
      const known = sizeOf(shape.filter((d) => d !== -1));
      if (known === 0 || sizeOf(x.shape) % known !== 0) {
        throw new IRError(`reshape(%${x.id}: ${formatType(x)}): cannot infer -1 in ${formatShape(shape)}`);
      }
      target = shape.map((d) => (d === -1 ? sizeOf(x.shape) / known : d));
    }
    // A reshape of a reshape reads the original directly.
    const source = x.op === "reshape" ? x.inputs[0]! : x;
    return sameShape(target, source.shape) ? source : this.node("reshape", [source], { shape: target });
  }

  /** Reorders axes: output axis i is input axis perm[i] (negative axes allowed). */
  permute(x: Node, perm: readonly number[]): Node {
    const p = perm.map((a) => normalizeAxis(a, x.shape.length) ?? a);
    return p.every((a, i) => a === i) && p.length === x.shape.length ? x : this.node("permute", [x], { perm: p });
  }

  /** Swaps two axes (by default the last two). */
  transpose(x: Node, a1 = -2, a2 = -1): Node {
    const [i, j] = [this.axis(a1, x.shape.length, "transpose"), this.axis(a2, x.shape.length, "transpose")];
    const perm = x.shape.map((_, k) => (k === i ? j : k === j ? i : k));
    return this.permute(x, perm);
  }

  /** NumPy `broadcast_to`: prepends size-1 axes as needed, then expands size-1 axes. */
  broadcastTo(x: Node, shape: Shape): Node {
    if (sameShape(x.shape, shape)) return x;
    const ok = x.shape.length <= shape.length && x.shape.every((d, i) => d === 1 || d === shape[shape.length - x.shape.length + i]);
    if (!ok) throw new IRError(`cannot broadcast %${x.id}: ${formatType(x)} to ${formatShape(shape)}`);
    if (x.op === "const") return this.constant(x.attrs.value, shape, x.dtype);
    const lifted = this.reshape(x, [...new Array<number>(shape.length - x.shape.length).fill(1), ...x.shape]);
    return sameShape(lifted.shape, shape) ? lifted : this.node("expand", [lifted], { shape: [...shape] });
  }

  /** Adds a size-1 axis at `axis` (negative counts from the end of the result). */
  unsqueeze(x: Node, axis: number): Node {
    const a = this.axis(axis, x.shape.length + 1, "unsqueeze");
    return this.reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
  }

  /** Removes the size-1 axis `axis`. */
  squeeze(x: Node, axis: number): Node {
    const a = this.axis(axis, x.shape.length, "squeeze");
    if (x.shape[a] !== 1) throw new IRError(`squeeze(%${x.id}: ${formatType(x)}): axis ${axis} has size ${x.shape[a]}, not 1`);
    return this.reshape(x, x.shape.filter((_, i) => i !== a));
  }

  /** Elements start, start+step, … below end along every axis (no negative indices). */
  slice(x: Node, starts: readonly number[], ends: readonly number[], steps?: readonly number[]): Node {
    const s = steps ?? x.shape.map(() => 1);
    const full = x.shape.every((d, i) => starts[i] === 0 && ends[i] === d && s[i] === 1);
    return full && starts.length === x.shape.length ? x : this.node("slice", [x], { starts: [...starts], ends: [...ends], steps: [...s] });
  }

  /** `slice` along one axis; `start` and `end` may be negative (counted from the end). */
  sliceAxis(x: Node, axis: number, start: number, end: number, step = 1): Node {
    const a = this.axis(axis, x.shape.length, "slice");
    const d = x.shape[a]!;
    const clamp = (i: number): number => Math.min(Math.max(i < 0 ? i + d : i, 0), d);
    const starts = x.shape.map((_, i) => (i === a ? clamp(start) : 0));
    const ends = x.shape.map((e, i) => (i === a ? Math.max(clamp(end), clamp(start)) : e));
    return this.slice(x, starts, ends, x.shape.map((_, i) => (i === a ? step : 1)));
  }

  /** Pads every axis with `lo` values before, `hi` after and `interior` between elements. */
  pad(x: Node, lo: readonly number[], hi: readonly number[], options: { interior?: readonly number[]; value?: number } = {}): Node {
    const interior = options.interior ?? x.shape.map(() => 0);
    if ([...lo, ...hi, ...interior].every((p) => p === 0) && lo.length === x.shape.length) return x;
    return this.node("pad", [x], { lo: [...lo], hi: [...hi], interior: [...interior], value: options.value ?? 0 });
  }

  /** Joins nodes along `axis`. */
  concat(xs: readonly Node[], axis: number): Node {
    if (xs.length === 0) throw new IRError("concat: needs at least one operand");
    if (xs.length === 1) return xs[0]!;
    return this.node("concat", xs, { axis: this.axis(axis, xs[0]!.shape.length, "concat") });
  }

  // ---- Indexing, sorting, conversion ----

  /** out[…, j, …] = x[…, idx[…, j, …], …] along `axis`; idx matches x off `axis`. */
  gather(x: Node, idx: Node, axis: number): Node {
    return this.node("gather", [x, idx], { axis: this.axis(axis, x.shape.length, "gather") });
  }

  /** `target` with each `updates[…, j, …]` added at `target[…, idx[…, j, …], …]` along `axis`. */
  scatterAdd(target: Node, idx: Node, updates: Node, axis: number): Node {
    return this.node("scatter_add", [target, idx, updates], { axis: this.axis(axis, target.shape.length, "scatter_add") });
  }

  /** The i32 indices that sort `x` along `axis` (stable). */
  argsort(x: Node, axis = -1, descending = false): Node {
    return this.node("argsort", [x], { axis: this.axis(axis, x.shape.length, "argsort"), descending });
  }

  /** The `k` largest values along `axis` and their indices, largest first (ties: lower index first). */
  topk(x: Node, k: number, axis = -1): { values: Node; indices: Node } {
    const a = this.axis(axis, x.shape.length, "topk");
    if (!Number.isInteger(k) || k < 0 || k > x.shape[a]!) {
      throw new IRError(`topk(%${x.id}: ${formatType(x)}): k = ${k} is not in 0..${x.shape[a]}`);
    }
    const indices = this.sliceAxis(this.argsort(x, a, true), a, 0, k);
    return { values: this.gather(x, indices, a), indices };
  }

  /** Converts to `dtype` (f32 → i32 truncates toward zero). */
  cast(x: Node, dtype: DType): Node {
    return x.dtype === dtype ? x : this.node("cast", [x], { dtype });
  }

  private axis(axis: number, rank: number, op: string): number {
    const a = normalizeAxis(axis, rank);
    if (a === null) throw new IRError(`${op}: axis ${axis} is out of range for rank ${rank}`);
    return a;
  }
}
