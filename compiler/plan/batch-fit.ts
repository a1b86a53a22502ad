/**
 * `fitBatchGraph`: a graph lowered at one batch size made symbolic in it (a
 * `BatchGraph`, runtime/ir/batch-graph.ts), by lowering it at several sizes
 * and fitting every number exactly.
 *
 * Lowering depends on the batch size B only through shapes, so a graph
 * lowered at B = 101, 103 and 107 has the same ops in the same order, the
 * same operand edges and the same non-numeric attributes; what differs are
 * the numbers, and each is an integer polynomial in B of degree at most 2
 * (B·784 elements, a [B, B] score matrix, a mean's divisor B·N). The sizes
 * are primes that no model dimension is likely to equal (small ones are:
 * the example MAE hides 37 patches), so the builder shares and skips nodes
 * alike at each of them; lowering's cost does not grow with B. A fourth
 * graph, at B = 109, checks the fit. Each number is fitted through the three
 * points with exact rational arithmetic (BigInt): a number that is the same
 * at every size is kept as it is (floats, NaN, ±∞ and −0 included), any
 * other must be an integer at every size and fit a polynomial with integer
 * coefficients that also gives the number at 109.
 *
 * Anything else — a graph whose structure changes with B, a number such as
 * 1/B or round(0.75·B) — is a `LowerError` naming the graph, the node, its
 * op and the attribute, with the values seen: the lowering has to be
 * rewritten so that B enters the IR only as integer polynomials
 * (`mul(x, n)` then `div(…, n − 1)` rather than the float n / (n − 1)).
 *
 * Invariant: the batch graph, instantiated at the check size, has the
 * nodes, types and outputs of the graph lowered there.
 */
import { batchGraphProblems, formatBatchNumber, instantiateBatchGraph, type BatchAttr, type BatchGraph, type BatchNode, type BatchNumber } from "../../runtime/ir/batch-graph.js";
import { graphNodes, type Graph, type Node } from "../../runtime/ir/node.js";
import { sameShape } from "../../runtime/ir/shape.js";
import { LowerError } from "../lower/context.js";

/** The batch sizes every graph is lowered at to fit its numbers. */
export const FIT_SIZES: readonly [number, number, number] = [101, 103, 107];
/** The batch size the fit is checked at. */
export const CHECK_SIZE = 109;

/** One lowering: its batch size, its nodes in order and each node's position. */
interface Sample {
  readonly batch: number;
  readonly graph: Graph;
  readonly nodes: readonly Node[];
  readonly index: ReadonlyMap<Node, number>;
}

function sample(batch: number, graph: Graph): Sample {
  const nodes = graphNodes(graph);
  return { batch, graph, nodes, index: new Map(nodes.map((n, i) => [n, i])) };
}

/**
 * The graph `lowerAt` gives at every batch size, as a `BatchGraph`. `what`
 * names it in errors (`training step 'pretrain' of model 'MAE'`). Throws
 * `LowerError` when its structure changes with B or a number is not an
 * integer polynomial of B of degree ≤ 2.
 */
export function fitBatchGraph(lowerAt: (batch: number) => Graph, what: string): BatchGraph {
  const samples = [...FIT_SIZES, CHECK_SIZE].map((batch) => sample(batch, lowerAt(batch)));
  const fail = (message: string): never => {
    throw new LowerError(`${what}: ${message}`);
  };
  const first = samples[0]!;
  for (const s of samples.slice(1)) {
    if (s.nodes.length !== first.nodes.length) {
      const at = firstDifference(first, s);
      const count = first.nodes.length === 1 ? "1 node" : `${first.nodes.length} nodes`;
      fail(`the graph changes with the batch size: ${count} at B = ${first.batch}, ${s.nodes.length} at B = ${s.batch}${at}`);
    }
  }

  const nodes: BatchNode[] = first.nodes.map((n, i) => {
    const alike = samples.map((s) => s.nodes[i]!);
    const where = `node ${i} (${n.op})`;
    alike.forEach((m, k) => {
      const s = samples[k]!;
      if (m.op !== n.op) fail(`the graph changes with the batch size: ${where} is ${m.op} at B = ${s.batch}`);
      const edges = m.inputs.map((x) => s.index.get(x)!);
      if (edges.join() !== n.inputs.map((x) => first.index.get(x)!).join()) {
        fail(`the graph changes with the batch size: the operands of ${where} are nodes [${n.inputs.map((x) => first.index.get(x))}] at B = ${first.batch}, [${edges}] at B = ${s.batch}`);
      }
    });
    const attrs = fitAttr(
      alike.map((m) => m.attrs),
      samples,
      (path, message) => fail(`${where}, attribute ${path}: ${message}`),
      "",
    ) as Record<string, BatchAttr>;
    return { op: n.op, inputs: n.inputs.map((x) => first.index.get(x)!), attrs };
  });

  const outputs = first.graph.outputs.map((o) => ({ name: o.name, node: first.index.get(o.node)! }));
  for (const s of samples.slice(1)) {
    const theirs = s.graph.outputs.map((o) => `${o.name}=${s.index.get(o.node)}`).join(", ");
    const ours = outputs.map((o) => `${o.name}=${o.node}`).join(", ");
    if (theirs !== ours) fail(`the graph changes with the batch size: its outputs are ${ours} at B = ${first.batch}, ${theirs} at B = ${s.batch}`);
  }

  const fitted: BatchGraph = { version: 1, nodes, outputs };
  checkFit(fitted, samples[samples.length - 1]!, what);
  return fitted;
}

/** Where two lowerings first part ways, as a clause for a message (empty when they agree up to the shorter's end). */
function firstDifference(a: Sample, b: Sample): string {
  const n = Math.min(a.nodes.length, b.nodes.length);
  for (let i = 0; i < n; i++) {
    const [x, y] = [a.nodes[i]!, b.nodes[i]!];
    const sameEdges = x.inputs.map((v) => a.index.get(v)).join() === y.inputs.map((v) => b.index.get(v)).join();
    if (x.op !== y.op || !sameEdges) return `; they first differ at node ${i}: ${describe(a, x)} at B = ${a.batch}, ${describe(b, y)} at B = ${b.batch}`;
  }
  return "";
}

function describe(s: Sample, n: Node): string {
  return `${n.op}(${n.inputs.map((x) => s.index.get(x)).join(", ")})`;
}

/** Fits one attribute value (of any structure) across the samples; `path` locates it for messages. */
function fitAttr(values: readonly unknown[], samples: readonly Sample[], fail: (path: string, message: string) => never, path: string): unknown {
  const v0 = values[0];
  // The common case first: the same at every size (a dtype, an axis, a shape without B).
  if (typeof v0 !== "object" && values.every((v) => Object.is(v, v0))) return v0;
  if (Array.isArray(v0) && values.every((v) => Array.isArray(v) && samePrimitives(v, v0))) return v0.slice();
  const shown = (): string => values.map((v, k) => `${JSON.stringify(v, jsonNumber)} at B = ${samples[k]!.batch}`).join(", ");
  if (typeof v0 === "number") {
    if (!values.every((v) => typeof v === "number")) fail(path || "value", `not a number at every batch size: ${shown()}`);
    return fitNumber(values as number[], samples, (message) => fail(path || "value", `${message}: ${values.map((v, k) => `${formatNumber(v as number)} at B = ${samples[k]!.batch}`).join(", ")}`));
  }
  if (typeof v0 === "string" || typeof v0 === "boolean") {
    if (!values.every((v) => v === v0)) fail(path || "value", `changes with the batch size: ${shown()}`);
    return v0;
  }
  if (Array.isArray(v0)) {
    if (!values.every((v) => Array.isArray(v) && v.length === v0.length)) fail(path || "value", `its length changes with the batch size: ${shown()}`);
    return v0.map((_, k) => fitAttr(values.map((v) => (v as unknown[])[k]), samples, fail, `${path}[${k}]`));
  }
  if (typeof v0 === "object" && v0 !== null) {
    const keys = Object.keys(v0);
    if (!values.every((v) => typeof v === "object" && v !== null && Object.keys(v).join() === keys.join())) {
      fail(path || "attributes", `its fields change with the batch size: ${shown()}`);
    }
    return Object.fromEntries(keys.map((k) => [k, fitAttr(values.map((v) => (v as Record<string, unknown>)[k]), samples, fail, path ? `${path}.${k}` : k)]));
  }
  return fail(path || "value", `is not plain data: ${String(v0)}`);
}

/** True when two lists hold the same numbers, strings or booleans (−0 and 0 told apart). */
function samePrimitives(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (typeof a[i] === "object" || !Object.is(a[i], b[i])) return false;
  return true;
}

/** Shows NaN, ±∞ and −0 in messages. */
function jsonNumber(_k: string, v: unknown): unknown {
  return typeof v === "number" && (!Number.isFinite(v) || Object.is(v, -0)) ? formatNumber(v) : v;
}

function formatNumber(v: number): string {
  return Object.is(v, -0) ? "-0" : String(v);
}

/**
 * One number across the samples: itself when the same at every size, else
 * the integer polynomial through the first three sizes, which must give the
 * value at the others.
 */
function fitNumber(values: readonly number[], samples: readonly Sample[], fail: (message: string) => never): BatchNumber {
  if (values.every((v) => Object.is(v, values[0]))) return values[0]!;
  if (!values.every((v) => Number.isSafeInteger(v))) fail("it changes with the batch size but is not an integer");
  const xs = samples.slice(0, 3).map((s) => BigInt(s.batch));
  const ys = values.slice(0, 3).map((v) => BigInt(v));
  const coefficients = interpolate(xs, ys);
  if (coefficients === null) fail("it is not a polynomial in B with integer coefficients");
  const c = coefficients!;
  samples.slice(3).forEach((s, k) => {
    const x = BigInt(s.batch);
    if (c[0]! + c[1]! * x + c[2]! * x * x !== BigInt(values[3 + k]!)) {
      fail(`it is not a polynomial in B of degree ≤ 2 (the fit ${formatBatchNumber({ B: c.map(Number) })} misses B = ${s.batch})`);
    }
  });
  while (c.length > 1 && c[c.length - 1] === 0n) c.pop();
  if (c.length === 1) fail("it changes with the batch size only in the sign of zero");
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  if (c.some((x) => x > limit || x < -limit)) fail("its polynomial's coefficients are not safe integers");
  return { B: c.map(Number) };
}

/**
 * The coefficients [c0, c1, c2] of the polynomial of degree ≤ 2 through
 * three points (Lagrange, over a common denominator), or null when one is
 * not an integer.
 */
function interpolate(xs: readonly bigint[], ys: readonly bigint[]): bigint[] | null {
  const [x0, x1, x2] = xs as [bigint, bigint, bigint];
  // Basis i: Π_{j≠i} (x − x_j) / (x_i − x_j) = (x² − s_i·x + p_i) / d_i.
  const basis = [
    { s: x1 + x2, p: x1 * x2, d: (x0 - x1) * (x0 - x2) },
    { s: x0 + x2, p: x0 * x2, d: (x1 - x0) * (x1 - x2) },
    { s: x0 + x1, p: x0 * x1, d: (x2 - x0) * (x2 - x1) },
  ];
  const denominator = basis.reduce((acc, b) => acc * b.d, 1n);
  const numerators = [0n, 0n, 0n];
  basis.forEach((b, i) => {
    const scale = (ys[i]! * denominator) / b.d; // exact: b.d divides the product
    numerators[0]! += scale * b.p;
    numerators[1]! -= scale * b.s;
    numerators[2]! += scale;
  });
  if (numerators.some((n) => n % denominator !== 0n)) return null;
  return numerators.map((n) => n / denominator);
}

/** Instantiates the fit at the check size and compares it, node by node, with the graph lowered there. */
function checkFit(g: BatchGraph, check: Sample, what: string): void {
  const problems = batchGraphProblems(g);
  if (problems.length > 0) throw new LowerError(`internal: ${what}: the fitted batch graph is invalid: ${problems.slice(0, 3).join("; ")}`);
  const nodes = graphNodes(instantiateBatchGraph(g, check.batch));
  nodes.forEach((n, i) => {
    const m = check.nodes[i]!;
    if (n.op !== m.op || n.dtype !== m.dtype || !sameShape(n.shape, m.shape)) {
      throw new LowerError(`internal: ${what}: the fitted graph's node ${i} is ${n.op} ${n.dtype}[${n.shape}] at B = ${check.batch}, lowering gives ${m.op} ${m.dtype}[${m.shape}]`);
    }
  });
}
