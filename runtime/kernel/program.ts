/**
 * A kernel program: the kernels of a graph in execution order and the
 * values they read and write, before any memory is planned. The planner's
 * steps pass programs along: `primitiveProgram` lowers an IR graph to one
 * kernel per primitive, `fuseProgram` (`fuse.ts`) merges kernels into fused
 * ones, and `planMemory` (`memory.ts`) gives a program its buffers, which
 * makes it a `KernelGraph`.
 *
 * *Invariant*: kernels are in a topological order (every value a kernel reads
 * is an input, a param or written by an earlier kernel), and every value
 * that is not an input or param is written by exactly one kernel.
 */
import type { Graph, Node } from "../ir/node.js";
import { graphNodes } from "../ir/node.js";
import type { DType, Shape } from "../ir/ops.js";
import type { Kernel, NamedValue, ValueRole } from "./graph.js";

/** A value of a program: its type, its role and the IR node it came from. */
export interface ProgramValue {
  readonly id: number;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly role: ValueRole;
  readonly node?: number;
}

/** Kernels in order and the values between them; no buffers yet. */
export interface KernelProgram {
  readonly kernels: readonly Kernel[];
  readonly values: readonly ProgramValue[];
  readonly inputs: readonly NamedValue[];
  readonly params: readonly NamedValue[];
  readonly outputs: readonly NamedValue[];
}

/** One kernel per primitive of `graph`, in the IR's topological order; value i is the i-th node in that order. */
export function primitiveProgram(graph: Graph): KernelProgram {
  const nodes = graphNodes(graph);
  const valueOf = new Map<Node, number>(nodes.map((n, i) => [n, i]));
  const outputNodes = new Set(graph.outputs.map((o) => o.node));
  const role = (n: Node): ValueRole =>
    n.op === "input" ? "input" : n.op === "param" ? "param" : outputNodes.has(n) ? "output" : "temp";
  const kernels: Kernel[] = [];
  for (const n of nodes) {
    if (n.op === "input" || n.op === "param") continue;
    kernels.push({
      id: kernels.length,
      ops: [{ op: n.op, attrs: n.attrs, args: n.inputs.map((_, i) => ({ input: i })), shape: n.shape, dtype: n.dtype }],
      inputs: n.inputs.map((i) => valueOf.get(i)!),
      output: valueOf.get(n)!,
      shape: n.shape,
      dtype: n.dtype,
    });
  }
  const values: ProgramValue[] = nodes.map((n, v) => ({ id: v, shape: n.shape, dtype: n.dtype, role: role(n), node: n.id }));
  const named = (n: Node, name: string): NamedValue => ({ name, value: valueOf.get(n)!, shape: n.shape, dtype: n.dtype });
  const leaves = (op: "input" | "param"): NamedValue[] =>
    nodes.filter((n) => n.op === op).map((n) => named(n, (n.attrs as { name: string }).name));
  return { kernels, values, inputs: leaves("input"), params: leaves("param"), outputs: graph.outputs.map((o) => named(o.node, o.name)) };
}
