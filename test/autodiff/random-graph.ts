/**
 * Random graphs of primitives for the finite-difference property tests.
 *
 * A `GraphSpec` (what fast-check generates and shrinks) is a few leaf shapes
 * and a list of steps; `buildGraph` interprets each step as one primitive (or a
 * small composition) applied to earlier nodes (usually the newest, so steps
 * chain), adapting it to the shapes at
 * hand so every spec builds: operands that do not broadcast are summed to a
 * scalar first, matmul brings its own weight when no node fits, and so on.
 * Domain-limited ops get inputs in (0.5, 1.5) through `sigmoid(x) + 0.5`.
 *
 * Kinks (relu, abs, maximum, comparisons, max-reductions, sorting) are not
 * avoided at build time; `awayFromKinks` checks the forward values afterwards,
 * and the property discards graphs that sit too close to one.
 */
import fc from "fast-check";
import type { RefValue } from "../../runtime/backends/reference/evaluate.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { broadcastShapes, sizeOf, stridesOf } from "../../runtime/ir/shape.js";
import { rng } from "./fd.js";

/** The kinds of step. */
export const STEP_KINDS = [
  "unary",
  "binary",
  "where",
  "sum",
  "max",
  "matmul",
  "reshape",
  "permute",
  "broadcast",
  "slice",
  "pad",
  "concat",
  "gather",
  "scatter",
  "sort",
] as const;

/** One step: a kind, two operand picks and some numbers that choose its details. */
export interface Step {
  readonly kind: (typeof STEP_KINDS)[number];
  readonly a: number;
  readonly b: number;
  readonly p: readonly number[];
}

/** A random graph: leaf shapes, steps, and a seed for the data and index tensors. */
export interface GraphSpec {
  readonly leaves: readonly (readonly number[])[];
  readonly steps: readonly Step[];
  readonly seed: number;
}

/** fast-check arbitrary of graph specs. */
export const graphSpec: fc.Arbitrary<GraphSpec> = fc.record({
  leaves: fc.array(fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }), { minLength: 1, maxLength: 3 }),
  steps: fc.array(
    fc.record({
      // Elementwise steps twice as often: they have the most rules.
      kind: fc.constantFrom(...STEP_KINDS, "unary", "unary", "binary"),
      a: fc.nat(),
      b: fc.nat(),
      p: fc.array(fc.nat({ max: 1000 }), { minLength: 6, maxLength: 6 }),
    }),
    { minLength: 3, maxLength: 12, size: "max" },
  ),
  seed: fc.integer(),
});

/** Largest number of elements a node may have; bigger results are summed over their first axis. */
const MAX_ELEMENTS = 96;

const UNARY = ["neg", "exp", "tanh", "sigmoid", "erf", "sin", "cos", "abs", "relu", "log", "sqrt", "recip"] as const;
const NEEDS_POSITIVE = new Set(["log", "sqrt", "recip"]);
const BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "pow"] as const;

/** A built random graph: its scalar loss (a weighted sum of every step's result) and the leaves to differentiate. */
export interface BuiltGraph {
  readonly b: IRBuilder;
  readonly loss: Node;
  readonly leaves: readonly Node[];
}

/** Interprets a spec. */
export function buildGraph(spec: GraphSpec): BuiltGraph {
  const b = new IRBuilder();
  const next = rng(spec.seed);
  const leaves = spec.leaves.map((shape, i) => b.input(`x${i}`, shape));
  const pool: Node[] = [...leaves];
  const newLeaf = (shape: readonly number[]): Node => {
    const leaf = b.input(`x${leaves.length}`, shape);
    leaves.push(leaf);
    return leaf;
  };
  const positive = (x: Node): Node => b.add(b.sigmoid(x), 0.5);
  const atLeast1D = (x: Node): Node => (x.shape.length === 0 ? b.reshape(x, [1]) : x);
  const pick = (n: number): Node => pool[n % pool.length]!;
  // The first operand is usually one of the two newest nodes, so steps chain into deep graphs.
  const recent = (n: number): Node => (n % 4 === 0 ? pick(n >> 2) : pool[Math.max(0, pool.length - 1 - (n % 2))]!);
  const indices = (shape: readonly number[], bound: number): Node =>
    b.literal(
      Array.from({ length: sizeOf(shape) }, () => Math.floor(next() * bound)),
      shape,
      "i32",
    );

  for (const { kind, a, b: bi, p } of spec.steps) {
    let x = recent(a);
    let y = pick(bi);
    const q = (i: number): number => p[i % p.length]!;
    let out: Node;
    switch (kind) {
      case "unary": {
        const op = UNARY[q(0) % UNARY.length]!;
        out = b.unary(op, NEEDS_POSITIVE.has(op) ? positive(x) : x);
        break;
      }
      case "binary": {
        const op = BINARY[q(0) % BINARY.length]!;
        if (broadcastShapes(x.shape, y.shape) === null) y = b.sum(y);
        if (op === "div") y = positive(y);
        if (op === "pow") x = positive(x);
        out = b.binary(op, x, y);
        break;
      }
      case "where": {
        let z = pick(q(0));
        if (broadcastShapes(x.shape, y.shape) === null) y = b.sum(y);
        if (broadcastShapes(x.shape, y.shape, z.shape) === null) z = b.sum(z);
        out = b.where(b.cmplt(x, y), z, b.mul(x, 0.5));
        break;
      }
      case "sum":
      case "max": {
        const axes = x.shape.flatMap((_, i) => ((q(i) & 1) === 1 ? [i] : []));
        out = b[kind](x, axes.length > 0 ? axes : undefined, (q(5) & 1) === 1);
        break;
      }
      case "matmul": {
        x = x.shape.length < 2 ? b.reshape(x, [1, sizeOf(x.shape)]) : x;
        const k = x.shape[x.shape.length - 1]!;
        const fits =
          y.shape.length >= 2 &&
          y.shape[y.shape.length - 2] === k &&
          broadcastShapes(x.shape.slice(0, -2), y.shape.slice(0, -2)) !== null;
        out = b.matmul(x, fits ? y : newLeaf([k, 1 + (q(0) % 3)]));
        break;
      }
      case "reshape": {
        let rest = sizeOf(x.shape);
        const dims: number[] = [];
        for (let i = 0; i < q(0) % 3; i++) {
          const divisors = Array.from({ length: rest }, (_, d) => d + 1).filter((d) => rest % d === 0);
          const d = divisors[q(i + 1) % divisors.length]!;
          dims.push(d);
          rest /= d;
        }
        out = b.reshape(x, [...dims, rest]);
        break;
      }
      case "permute": {
        const perm = x.shape.map((_, i) => i);
        for (let i = perm.length - 1; i > 0; i--) {
          const j = q(i) % (i + 1);
          [perm[i], perm[j]] = [perm[j]!, perm[i]!];
        }
        out = b.permute(x, perm);
        break;
      }
      case "broadcast": {
        const grown = x.shape.map((d, i) => (d === 1 ? 1 + (q(i) % 3) : d));
        out = b.broadcastTo(x, (q(5) & 1) === 1 ? [1 + (q(4) % 2), ...grown] : grown);
        break;
      }
      case "slice": {
        x = atLeast1D(x);
        const starts = x.shape.map((d, i) => q(i) % d);
        const ends = x.shape.map((d, i) => starts[i]! + 1 + (q(i + 1) % (d - starts[i]!)));
        out = b.slice(x, starts, ends, x.shape.map((_, i) => 1 + (q(i + 2) % 2)));
        break;
      }
      case "pad": {
        x = atLeast1D(x);
        const bits = (i: number): number[] => x.shape.map((_, j) => (q(i + j) >> j) & 1);
        out = b.pad(x, bits(0), bits(1), { interior: bits(2), value: (q(5) & 1) * 0.5 });
        break;
      }
      case "concat": {
        x = atLeast1D(x);
        const axis = q(0) % x.shape.length;
        const fits = y.shape.length === x.shape.length && y.shape.every((d, i) => i === axis || d === x.shape[i]);
        out = b.concat(fits ? [x, y, x] : [x, b.neg(x)], axis);
        break;
      }
      case "gather": {
        x = atLeast1D(x);
        const axis = q(0) % x.shape.length;
        const shape = x.shape.map((d, i) => (i === axis ? 1 + (q(1) % 3) : d));
        out = b.gather(x, indices(shape, x.shape[axis]!), axis);
        break;
      }
      case "scatter": {
        x = atLeast1D(x);
        const axis = q(0) % x.shape.length;
        const shape = x.shape.map((d, i) => (i === axis ? 1 + (q(1) % 3) : d));
        const updates = y.shape.join() === shape.join() ? y : newLeaf(shape);
        out = b.scatterAdd(x, indices(shape, x.shape[axis]!), updates, axis);
        break;
      }
      case "sort": {
        x = atLeast1D(x);
        const axis = q(0) % x.shape.length;
        const keys = y.shape.join() === x.shape.join() ? y : x;
        out = b.gather(x, b.argsort(keys, axis, (q(1) & 1) === 1), axis);
        break;
      }
    }
    while (sizeOf(out.shape) > MAX_ELEMENTS) out = b.sum(out, 0);
    pool.push(out);
  }
  // Every step's result enters the loss, weighted by fixed random numbers.
  const terms = pool.slice(spec.leaves.length).map((node) => {
    const weights = b.literal(
      Array.from({ length: sizeOf(node.shape) }, () => Math.round((next() * 2 - 1) * 1000) / 1000),
      node.shape,
    );
    return b.sum(b.mul(node, weights));
  });
  return { b, loss: terms.reduce((sum, t) => b.add(sum, t)), leaves };
}

/**
 * True when no forward value sits within `margin` of a kink: relu, abs and sign
 * inputs away from 0; maximum, minimum and comparison operands apart; a unique
 * maximum in every reduced group; sort keys apart along the sorted axis. Also
 * false when any value is not finite or above 1e4 in magnitude.
 */
export function awayFromKinks(nodes: readonly Node[], values: ReadonlyMap<Node, RefValue>, margin: number): boolean {
  const v = (n: Node): Float64Array => values.get(n)!.data;
  for (const node of nodes) {
    if (v(node).some((e) => !Number.isFinite(e) || Math.abs(e) > 1e4)) return false;
    switch (node.op) {
      case "relu":
      case "abs":
      case "sign":
        if (v(node.inputs[0]!).some((e) => Math.abs(e) < margin)) return false;
        break;
      case "maximum":
      case "minimum":
      case "cmplt": {
        const [p, q] = [v(node.inputs[0]!), v(node.inputs[1]!)];
        if (p.some((e, i) => Math.abs(e - q[i]!) < margin)) return false;
        break;
      }
      case "max":
        if (!groupsApart(node.inputs[0]!.shape, v(node.inputs[0]!), node.attrs.axes, margin, "top")) return false;
        break;
      case "argsort":
        if (!groupsApart(node.inputs[0]!.shape, v(node.inputs[0]!), [node.attrs.axis], margin, "all")) return false;
        break;
    }
  }
  return true;
}

/**
 * For each group of elements reduced together (same coordinates off `axes`),
 * whether the two largest differ by ≥ margin ("top") or all sorted neighbours do ("all").
 */
function groupsApart(shape: readonly number[], data: Float64Array, axes: readonly number[], margin: number, mode: "top" | "all"): boolean {
  const strides = stridesOf(shape);
  const groups = new Map<number, number[]>();
  data.forEach((e, flat) => {
    let key = 0;
    for (let i = 0; i < shape.length; i++) if (!axes.includes(i)) key += Math.floor(flat / strides[i]!) % shape[i]! * strides[i]!;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  });
  for (const members of groups.values()) {
    const sorted = members.sort((p, q) => q - p);
    const pairs = mode === "top" ? Math.min(1, sorted.length - 1) : sorted.length - 1;
    for (let i = 0; i < pairs; i++) if (sorted[i]! - sorted[i + 1]! < margin) return false;
  }
  return true;
}
