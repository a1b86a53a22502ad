/**
 * A graph symbolic in the batch size: `BatchGraph`, plain JSON data from which
 * the runtime makes the IR graph of any batch size B ≥ 1 without a compiler.
 *
 * Its nodes are IR nodes with operands by index (operands before users) and
 * no types: every number in their attributes — shape dims, reshape and
 * expand targets, slice starts and ends, pad widths, iota, const, literal and
 * random shapes, const values — is either a plain number, the same at every
 * B, or a polynomial in B with integer coefficients, `{ "B": [c0, c1] }` or
 * `{ "B": [c0, c1, c2] }` for c0 + c1·B + c2·B² (B² is the side of an
 * in-batch [B, B] score matrix). `compiler/plan/batch-fit.ts` finds these
 * polynomials by lowering a model at several batch sizes.
 *
 * `instantiateBatchGraph(g, B)` evaluates the polynomials and types every
 * node with the rules the builder uses (`infer.ts`), once per node, so a
 * batch size the graph cannot take (a negative dim, a slice past its end) is
 * a `BatchGraphError` naming the node and the rule, never a malformed graph.
 * It builds nodes directly, without sharing equal ones: the result has
 * exactly the graph's nodes, whatever coincidences a small B brings.
 *
 * In JSON, numbers JSON cannot hold (NaN, ±∞, −0) are spelled
 * `{"$num": "-Infinity"}`, as kernel graphs spell them.
 *
 * Invariant: a graph that `batchGraphProblems` accepts never makes
 * `instantiateBatchGraph` fail with anything but a `BatchGraphError`.
 */
import { formatType, inferType, isError, type TensorType } from "./infer.js";
import { makeNode, type Graph, type Node, type Output } from "./node.js";
import { fromExactJson, toExactJson } from "./exact-json.js";
import { isOp, OPS, type Op, type OpAttrs } from "./ops.js";

/** c0 + c1·B + c2·B²: two or three integer coefficients, the last one non-zero. */
export interface BatchPoly {
  readonly B: readonly number[];
}

/** A number of a batch graph: plain (the same at every batch size) or a polynomial in B. */
export type BatchNumber = number | BatchPoly;

/** An attribute value of a batch-graph node: as in `OpAttrs`, with `BatchNumber`s for numbers. */
export type BatchAttr = BatchNumber | string | boolean | readonly BatchAttr[];

/** One node: an op, its operands (indices of earlier nodes) and its attributes. */
export interface BatchNode {
  readonly op: Op;
  readonly inputs: readonly number[];
  readonly attrs: Readonly<Record<string, BatchAttr>>;
}

/** A named output: the index of its node. */
export interface BatchOutput {
  readonly name: string;
  readonly node: number;
}

/** An IR graph whose numbers may depend on the batch size. */
export interface BatchGraph {
  readonly version: 1;
  /** In topological order: every operand index is smaller than its user's. */
  readonly nodes: readonly BatchNode[];
  readonly outputs: readonly BatchOutput[];
}

/** A batch graph that cannot be read, or cannot be instantiated at a batch size. */
export class BatchGraphError extends Error {
  override readonly name = "BatchGraphError";
}

/** True for a polynomial (an object), false for a plain number. */
export function isBatchPoly(n: unknown): n is BatchPoly {
  return typeof n === "object" && n !== null && !Array.isArray(n);
}

/** The value of a batch number at `batch`; throws when it is not a safe integer there. */
export function evalBatchNumber(n: BatchNumber, batch: number): number {
  if (typeof n === "number") return n;
  const [c0 = 0, c1 = 0, c2 = 0] = n.B;
  // Every term and partial sum a safe integer: then the double arithmetic is exact.
  const linear = c0 + c1 * batch;
  const value = linear + c2 * batch * batch;
  if (![c0, c1 * batch, c2 * batch * batch, linear, value].every(Number.isSafeInteger)) {
    throw new BatchGraphError(`${formatBatchNumber(n)} at B = ${batch} is not a safe integer`);
  }
  return value;
}

/** A batch number as people read it: `3`, `64·B`, `B² + 2·B − 1`. */
export function formatBatchNumber(n: BatchNumber): string {
  if (typeof n === "number") return Object.is(n, -0) ? "-0" : String(n);
  const terms: string[] = [];
  for (let k = n.B.length - 1; k >= 0; k--) {
    const c = n.B[k]!;
    if (c === 0) continue;
    const power = k === 0 ? "" : k === 1 ? "B" : "B²";
    const size = Math.abs(c);
    const body = power === "" ? String(size) : size === 1 ? power : `${size}·${power}`;
    terms.push(terms.length === 0 ? (c < 0 ? `−${body}` : body) : `${c < 0 ? "−" : "+"} ${body}`);
  }
  return terms.join(" ");
}

/** Attribute values with every polynomial evaluated at `batch` (fresh arrays). */
function evalAttr(v: BatchAttr, batch: number): unknown {
  if (Array.isArray(v)) return v.map((x: BatchAttr) => evalAttr(x, batch));
  return isBatchPoly(v) ? evalBatchNumber(v, batch) : v;
}

/**
 * The IR graph of `g` at `batch` examples: one node per node of `g`, typed by
 * `infer.ts`. Linear in the size of `g`. Throws `BatchGraphError` when a node
 * does not type-check at this batch size.
 */
export function instantiateBatchGraph(g: BatchGraph, batch: number): Graph {
  if (!Number.isSafeInteger(batch) || batch < 1) throw new BatchGraphError(`the batch size must be an integer ≥ 1, got ${batch}`);
  const nodes = new Array<Node>(g.nodes.length);
  g.nodes.forEach((n, i) => {
    const where = (): string => `at batch size ${batch}, node ${i} (${String(n.op)})`;
    const inputs = n.inputs.map((j, k) => {
      if (!(Number.isInteger(j) && j >= 0 && j < i)) throw new BatchGraphError(`${where()}: operand ${k} (${j}) is not an earlier node`);
      return nodes[j]!;
    });
    let attrs: Record<string, unknown>;
    try {
      attrs = Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, evalAttr(v, batch)]));
    } catch (e) {
      throw new BatchGraphError(`${where()}: ${(e as Error).message}`);
    }
    const t = inferType(n.op, inputs, attrs as OpAttrs[Op]);
    if (isError(t)) {
      const operands = inputs.map((x) => formatType(x as TensorType)).join(", ");
      throw new BatchGraphError(`${where()}${operands ? ` on ${operands}` : ""}: ${t.error}`);
    }
    nodes[i] = makeNode(i, n.op, inputs, attrs as OpAttrs[Op], t.shape, t.dtype) as Node;
  });
  const outputs: Output[] = g.outputs.map((o) => {
    const node = nodes[o.node];
    if (node === undefined) throw new BatchGraphError(`output '${o.name}' names node ${o.node}, which does not exist`);
    return Object.freeze({ name: o.name, node });
  });
  return Object.freeze({ outputs: Object.freeze(outputs) });
}

// ---- JSON ----

/** A batch graph as JSON text; NaN, ±∞ and −0 are spelled `{"$num": "…"}` so they survive. */
export function batchGraphToJson(g: BatchGraph, indent?: number): string {
  return toExactJson(g, indent);
}

/** Reads back what `batchGraphToJson` wrote, checked with `batchGraphProblems`; throws `BatchGraphError` for anything else. */
export function batchGraphFromJson(text: string): BatchGraph {
  let value: unknown;
  try {
    value = fromExactJson(text);
  } catch (e) {
    throw new BatchGraphError(`a batch graph must be JSON: ${(e as Error).message}`);
  }
  const problems = batchGraphProblems(value);
  if (problems.length > 0) {
    throw new BatchGraphError(`invalid batch graph: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ""}`);
  }
  return value as BatchGraph;
}

/** What is wrong with a polynomial's coefficients, or null. */
function polyProblem(v: BatchPoly): string | null {
  const keys = Object.keys(v);
  const c = (v as { B?: unknown }).B;
  if (keys.length !== 1 || !Array.isArray(c)) return `an object must be a polynomial {"B": [c0, c1, c2?]}, got ${JSON.stringify(v)}`;
  if (c.length < 2 || c.length > 3) return `a polynomial has 2 or 3 coefficients (degree 1 or 2), got ${c.length}`;
  if (!c.every((x) => Number.isSafeInteger(x))) return `a polynomial's coefficients must be safe integers, got ${JSON.stringify(c)}`;
  if (c[c.length - 1] === 0) return `a polynomial's last coefficient must not be 0, got ${JSON.stringify(c)}`;
  return null;
}

/** What is wrong with an attribute value (at `path`), one message per problem. */
function attrProblems(v: unknown, path: string, out: string[]): void {
  if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") return;
  if (Array.isArray(v)) {
    v.forEach((x, k) => attrProblems(x, `${path}[${k}]`, out));
    return;
  }
  if (isBatchPoly(v)) {
    const p = polyProblem(v as BatchPoly);
    if (p) out.push(`${path}: ${p}`);
    return;
  }
  out.push(`${path}: ${v === null ? "null" : typeof v} is not a number, polynomial, string, boolean or list`);
}

/**
 * Every way `value` (JSON read from anywhere) fails to be a batch graph, in
 * words; empty when it is one. What depends on the batch size (types, dims)
 * is checked by `instantiateBatchGraph`.
 */
export function batchGraphProblems(value: unknown): string[] {
  const out: string[] = [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) return ["a batch graph must be an object"];
  const g = value as { version?: unknown; nodes?: unknown; outputs?: unknown };
  if (g.version !== 1) out.push(`version ${JSON.stringify(g.version)} is not supported (expected 1)`);
  if (!Array.isArray(g.nodes)) out.push("nodes must be a list");
  if (!Array.isArray(g.outputs)) out.push("outputs must be a list");
  if (out.length > 0) return out;
  const nodes = g.nodes as unknown[];
  const leaves = new Map<string, number>();
  nodes.forEach((raw, i) => {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      out.push(`node ${i} is not an object`);
      return;
    }
    const n = raw as { op?: unknown; inputs?: unknown; attrs?: unknown };
    const at = `node ${i} (${String(n.op)})`;
    if (typeof n.op !== "string" || !isOp(n.op)) {
      out.push(`node ${i}: ${JSON.stringify(n.op)} is not an op`);
      return;
    }
    if (!Array.isArray(n.inputs)) out.push(`${at}: inputs must be a list`);
    else {
      const arity = OPS[n.op].arity;
      if (arity === "variadic" ? n.inputs.length < 1 : n.inputs.length !== arity) {
        out.push(`${at}: takes ${arity === "variadic" ? "at least 1" : arity} operand(s), has ${n.inputs.length}`);
      }
      n.inputs.forEach((j, k) => {
        if (!(Number.isInteger(j) && (j as number) >= 0 && (j as number) < i)) out.push(`${at}: operand ${k} (${JSON.stringify(j)}) is not an earlier node`);
      });
    }
    if (typeof n.attrs !== "object" || n.attrs === null || Array.isArray(n.attrs)) out.push(`${at}: attrs must be an object`);
    else {
      for (const [k, v] of Object.entries(n.attrs)) attrProblems(v, `${at}: ${k}`, out);
      if (n.op === "input" || n.op === "param") {
        const name = (n.attrs as { name?: unknown }).name;
        if (typeof name !== "string" || name === "") out.push(`${at}: needs a non-empty name`);
        else if (leaves.has(name)) out.push(`${at}: the name "${name}" is also node ${leaves.get(name)}'s`);
        else leaves.set(name, i);
      }
    }
  });
  const names = new Set<string>();
  (g.outputs as unknown[]).forEach((raw, k) => {
    const o = (typeof raw === "object" && raw !== null ? raw : {}) as { name?: unknown; node?: unknown };
    if (typeof o.name !== "string" || o.name === "") out.push(`output ${k} needs a non-empty name`);
    else if (names.has(o.name)) out.push(`two outputs are named "${o.name}"`);
    else names.add(o.name);
    if (!(Number.isInteger(o.node) && (o.node as number) >= 0 && (o.node as number) < nodes.length)) {
      out.push(`output ${k} names node ${JSON.stringify(o.node)}, which does not exist`);
    }
  });
  return out;
}

/** The names of a batch graph's outputs, in order. */
export function batchGraphOutputs(g: BatchGraph): string[] {
  return g.outputs.map((o) => o.name);
}
