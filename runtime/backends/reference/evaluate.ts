/**
 * The reference backend: a float64 interpreter of the IR, and the living
 * definition of every op. It favours obviously-right loops over speed; other
 * backends are tested against it.
 *
 * Every value is a `Float64Array` in row-major order whatever its dtype: f32
 * values are computed in float64 without rounding, i32 values are exact
 * integers. Inputs and params come from `feeds`, by name.
 */
import type { Graph, Node } from "../../ir/node.js";
import { topoSort } from "../../ir/node.js";
import { isOpOf, type DType, type Shape } from "../../ir/ops.js";
import { formatShape, sameShape, sizeOf, stridesOf } from "../../ir/shape.js";
import { fillNormal, fillUniform } from "../../rng/index.js";
import { BINARY, UNARY } from "./elementwise.js";
import { argsort, gather, scatterAdd } from "./indexing.js";
import { concat, expand, pad, permute, reshape, slice } from "./movement.js";
import { matmul, reduce } from "./reduce.js";

/** A value of the reference backend. */
export interface RefValue {
  readonly shape: Shape;
  readonly dtype: DType;
  /** Row-major elements; i32 values are exact integers. */
  readonly data: Float64Array;
}

/** A tensor fed for an input or param: its shape and row-major numbers (any array type). */
export interface Feed {
  readonly shape: Shape;
  readonly data: ArrayLike<number>;
}

/** Feeds by input or param name. */
export type Feeds = ReadonlyMap<string, Feed> | Readonly<Record<string, Feed>>;

/** A run that cannot proceed: a missing or mistyped feed, an index out of range. */
export class RunError extends Error {
  override readonly name = "RunError";
}

/**
 * Evaluates every node the roots depend on and returns all their values
 * (useful for tests and debugging; `run` returns only a graph's outputs).
 */
export function evaluate(roots: readonly Node[], feeds: Feeds = {}): Map<Node, RefValue> {
  const values = new Map<Node, RefValue>();
  const lookup = feedLookup(feeds);
  for (const node of topoSort(roots)) {
    values.set(node, evalNode(node, node.inputs.map((i) => values.get(i)!), lookup));
  }
  return values;
}

/** Runs a graph and returns its outputs by name. */
export function run(graph: Graph, feeds: Feeds = {}): Record<string, RefValue> {
  const values = evaluate(
    graph.outputs.map((o) => o.node),
    feeds,
  );
  return Object.fromEntries(graph.outputs.map((o) => [o.name, values.get(o.node)!]));
}

function feedLookup(feeds: Feeds): (name: string) => Feed | undefined {
  if (feeds instanceof Map) return (name) => feeds.get(name);
  const record = feeds as Readonly<Record<string, Feed>>;
  return (name) => (Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined);
}

/** Computes one node from its operands' values: the definition of its op. */
export function evalNode(node: Node, inputs: readonly RefValue[], feed: (name: string) => Feed | undefined): RefValue {
  const data = compute(node, inputs, feed);
  return { shape: node.shape, dtype: node.dtype, data };
}

function compute(node: Node, inputs: readonly RefValue[], feed: (name: string) => Feed | undefined): Float64Array {
  const [x, y, z] = inputs as [RefValue, RefValue, RefValue];
  const n = sizeOf(node.shape);
  // The elementwise families are taken from the op table's groups, so an op added to one cannot be missed here.
  if (isOpOf(node.op, "unary")) {
    const f = UNARY[node.op];
    return x.data.map((v) => f(v, x.dtype));
  }
  if (isOpOf(node.op, "binary")) {
    const f = BINARY[node.op];
    return x.data.map((v, i) => f(v, y.data[i]!, x.dtype));
  }
  switch (node.op) {
    case "input":
    case "param":
      return fromFeed(node, feed(node.attrs.name));
    case "const":
      return new Float64Array(n).fill(node.attrs.value);
    case "literal":
      return Float64Array.from(node.attrs.data);
    case "iota": {
      const { axis, shape } = node.attrs;
      const stride = stridesOf(shape)[axis]!;
      return Float64Array.from({ length: n }, (_, i) => Math.floor(i / stride) % shape[axis]!);
    }
    case "uniform":
    case "normal": {
      const [seed, step] = [x.data[0]! >>> 0, y.data[0]! >>> 0];
      const out = new Float64Array(n);
      return node.op === "uniform" ? fillUniform(out, seed, node.attrs.stream, 0, step) : fillNormal(out, seed, node.attrs.stream, 0, step);
    }
    case "where":
      return x.data.map((c, i) => (c !== 0 ? y.data[i]! : z.data[i]!));
    case "sum":
    case "max":
      return reduce(node.op, x.data, x.shape, node.attrs.axes, x.dtype);
    case "matmul":
      return matmul(x.data, x.shape, y.data, y.shape);
    case "reshape":
      return reshape(x.data);
    case "permute":
      return permute(x.data, x.shape, node.attrs.perm);
    case "expand":
      return expand(x.data, x.shape, node.shape);
    case "slice":
      return slice(x.data, x.shape, node.shape, node.attrs.starts, node.attrs.steps);
    case "pad":
      return pad(x.data, x.shape, node.shape, node.attrs.lo, node.attrs.interior, node.attrs.value);
    case "concat":
      return concat(
        inputs.map((v) => v.data),
        inputs.map((v) => v.shape),
        node.shape,
        node.attrs.axis,
      );
    case "gather":
      return gather(x.data, x.shape, y.data, y.shape, node.attrs.axis);
    case "scatter_add":
      return scatterAdd(x.data, x.shape, y.data, y.shape, z.data, node.attrs.axis, x.dtype === "i32");
    case "argsort":
      return argsort(x.data, x.shape, node.attrs.axis, node.attrs.descending);
    case "cast":
      // f32 → i32 truncates toward zero and saturates (NaN becomes 0), as WGSL converts; i32 → f32 is exact.
      return node.attrs.dtype === "i32" && x.dtype === "f32" ? x.data.map(toI32) : x.data.slice();
  }
}

/** Checks a feed against its leaf and copies it into float64. */
function fromFeed(node: Node & { op: "input" | "param" }, fed: Feed | undefined): Float64Array {
  const what = `${node.op} "${node.attrs.name}"`;
  if (fed === undefined) throw new RunError(`${what} (${node.dtype}${formatShape(node.shape)}) was not fed`);
  if (!sameShape(fed.shape, node.shape)) {
    throw new RunError(`${what} expects shape ${formatShape(node.shape)}, was fed ${formatShape(fed.shape)}`);
  }
  if (fed.data.length !== sizeOf(node.shape)) {
    throw new RunError(`${what} of shape ${formatShape(node.shape)} was fed ${fed.data.length} numbers, not ${sizeOf(node.shape)}`);
  }
  const data = Float64Array.from(fed.data);
  if (node.dtype === "i32") {
    const bad = data.findIndex((v) => !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31);
    if (bad >= 0) throw new RunError(`${what} is i32 but element ${bad} is ${data[bad]}`);
  }
  return data;
}

/** f32 → i32: toward zero, clamped to [−2^31, 2^31 − 1], NaN to 0. */
function toI32(v: number): number {
  if (Number.isNaN(v)) return 0;
  return Math.min(Math.max(Math.trunc(v), -(2 ** 31)), 2 ** 31 - 1);
}
