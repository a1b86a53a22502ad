/**
 * The one form of graph the ONNX translator reads, made from either kind of
 * graph repr has: a kernel graph (every number fixed: what the `onnx`
 * backend runs) or a batch graph (numbers polynomial in the batch size B:
 * what `repr compile --target onnx` writes, with B a symbolic dimension).
 *
 * A source graph is a list of typed primitives, operands before users,
 * whose attribute numbers and shape dims are `BatchNumber`s: plain numbers,
 * or polynomials in B. Kernel graphs give plain numbers only; a fused
 * kernel's ops become one node each.
 */
import { instantiateBatchGraph, isBatchPoly, type BatchAttr, type BatchGraph, type BatchNumber } from "../../ir/batch-graph.js";
import type { DType, Op } from "../../ir/ops.js";
import type { KernelGraph } from "../../kernel/graph.js";

/** One primitive: op, operands (indices of earlier nodes), attributes, and its type. */
export interface SourceNode {
  readonly op: Op;
  readonly inputs: readonly number[];
  readonly attrs: Readonly<Record<string, BatchAttr>>;
  readonly dtype: DType;
  readonly shape: readonly BatchNumber[];
}

/** A graph to translate: nodes in topological order and named outputs. */
export interface SourceGraph {
  readonly nodes: readonly SourceNode[];
  readonly outputs: readonly { readonly name: string; readonly node: number }[];
}

/** A kernel graph as a source graph: inputs and params become leaves, every op of every kernel a node. */
export function kernelSource(graph: KernelGraph): SourceGraph {
  const nodes: SourceNode[] = [];
  const nodeOfValue = new Map<number, number>();
  const leaf = (op: "input" | "param", v: { name: string; value: number; shape: readonly number[]; dtype: DType }): void => {
    nodeOfValue.set(v.value, nodes.length);
    nodes.push({ op, inputs: [], attrs: { name: v.name, shape: [...v.shape], dtype: v.dtype }, dtype: v.dtype, shape: v.shape });
  };
  for (const v of graph.inputs) leaf("input", v);
  for (const v of graph.params) leaf("param", v);
  for (const k of graph.kernels) {
    const first = nodes.length;
    for (const o of k.ops) {
      const inputs = o.args.map((a) => ("input" in a ? nodeOfValue.get(k.inputs[a.input]!)! : first + a.op));
      nodes.push({ op: o.op, inputs, attrs: (o.attrs ?? {}) as Record<string, BatchAttr>, dtype: o.dtype, shape: o.shape });
    }
    nodeOfValue.set(k.output, nodes.length - 1);
  }
  return { nodes, outputs: graph.outputs.map((o) => ({ name: o.name, node: nodeOfValue.get(o.value)! })) };
}

/** Batch sizes at which a batch graph is typed to find each dim's polynomial (three points fix a quadratic). */
const PROBES = [2, 3, 4] as const;

/**
 * A batch graph as a source graph. Batch graphs carry no types, so it is
 * instantiated at three batch sizes, and each node's dims are the
 * quadratics through the three sizes' dims (exact: every dim is such a
 * polynomial, compiler/plan/batch-fit.ts).
 */
export function batchSource(graph: BatchGraph): SourceGraph {
  const typed = PROBES.map((b) => {
    const g = instantiateBatchGraph(graph, b);
    // Instantiation makes one IR node per batch-graph node, with ids in order.
    const byId = new Map<number, { shape: readonly number[]; dtype: DType }>();
    const stack = g.outputs.map((o) => o.node);
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (byId.has(n.id)) continue;
      byId.set(n.id, n);
      stack.push(...n.inputs);
    }
    return byId;
  });
  const nodes = graph.nodes.map((n, i): SourceNode => {
    const [t2, t3, t4] = typed.map((m) => m.get(i));
    // A node no output reads has no type; it is never translated.
    const shape = t2 && t3 && t4 ? t2.shape.map((_, k) => fitDim(t2.shape[k]!, t3.shape[k]!, t4.shape[k]!)) : [];
    return { op: n.op, inputs: n.inputs, attrs: n.attrs, dtype: t2?.dtype ?? "f32", shape };
  });
  return { nodes, outputs: graph.outputs };
}

/** The polynomial c0 + c1·B + c2·B² through (2, a), (3, b), (4, c), as a batch number. */
function fitDim(a: number, b: number, c: number): BatchNumber {
  const c2 = (c - 2 * b + a) / 2;
  const c1 = b - a - 5 * c2;
  const c0 = a - 2 * c1 - 4 * c2;
  if (c1 === 0 && c2 === 0) return c0;
  return { B: c2 === 0 ? [c0, c1] : [c0, c1, c2] };
}

/** Two batch numbers are the same function of B. */
export function sameNumber(a: BatchNumber, b: BatchNumber): boolean {
  if (!isBatchPoly(a) || !isBatchPoly(b)) return !isBatchPoly(a) && !isBatchPoly(b) && a === b;
  const [x, y] = [a.B, b.B];
  return [0, 1, 2].every((k) => (x[k] ?? 0) === (y[k] ?? 0));
}
