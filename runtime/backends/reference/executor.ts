/**
 * The reference backend behind the device interface: executes a kernel graph
 * by calling `evalNode` (the definition of every op) for each primitive of
 * each kernel, in float64.
 *
 * It honours the memory plan literally: each planned buffer is one slot, and a
 * value written to a buffer replaces the previous tenant. A read checks that
 * the slot still holds the value asked for, so a wrong plan fails loudly here.
 */
import { makeNode, type Node } from "../../ir/node.js";
import type { KernelGraph, NamedValue } from "../../kernel/graph.js";
import { assertValidKernelGraph } from "../../kernel/validate.js";
import { lookupFeed, type Backend, type Executable, type TensorFeeds, type TensorValue } from "../backend.js";
import { evalNode, RunError, type RefValue } from "./evaluate.js";

/** The reference backend. */
export const referenceBackend: Backend = {
  name: "reference",
  compile: (graph) => compileReference(graph),
};

/**
 * Compiles a kernel graph for the reference backend. `trustPlan: true` skips
 * the validation of the graph (tests use it to run deliberately broken plans).
 */
export function compileReference(graph: KernelGraph, options: { trustPlan?: boolean } = {}): Executable {
  if (options.trustPlan !== true) assertValidKernelGraph(graph);
  const leafNode = (n: NamedValue, op: "input" | "param"): Node =>
    makeNode(-1, op, [], { name: n.name, shape: n.shape, dtype: n.dtype }, n.shape, n.dtype);
  const leaves = [
    ...graph.inputs.map((n) => ({ n, node: leafNode(n, "input"), from: "feeds" as const })),
    ...graph.params.map((n) => ({ n, node: leafNode(n, "param"), from: "params" as const })),
  ];
  // The primitives of each kernel as (operand-less) IR nodes: evalNode reads only op, attrs, shape and dtype.
  const kernels = graph.kernels.map((k) => ({
    k,
    nodes: k.ops.map((o) => makeNode(-1, o.op, [], o.attrs as never, o.shape, o.dtype) as Node),
  }));
  const slots: ({ value: number; data: RefValue } | undefined)[] = graph.buffers.map(() => undefined);
  const read = (value: number): RefValue => {
    const slot = slots[graph.values[value]!.buffer];
    if (slot === undefined || slot.value !== value) {
      throw new RunError(`the memory plan is broken: buffer b${graph.values[value]!.buffer} no longer holds v${value}`);
    }
    return slot.data;
  };
  const noFeed = (): undefined => undefined;

  return {
    graph,
    run(feeds: TensorFeeds, params: TensorFeeds = {}): Record<string, TensorValue> {
      for (const { n, node, from } of leaves) {
        const source = from === "feeds" ? feeds : params;
        const data = evalNode(node, [], (name) => lookupFeed(source, name));
        slots[graph.values[n.value]!.buffer] = { value: n.value, data };
      }
      for (const { k, nodes } of kernels) {
        const args = k.inputs.map(read);
        const results: RefValue[] = [];
        k.ops.forEach((o, i) => {
          const operands = o.args.map((a) => ("input" in a ? args[a.input]! : results[a.op]!));
          results.push(evalNode(nodes[i]!, operands, noFeed));
        });
        slots[graph.values[k.output]!.buffer] = { value: k.output, data: results[results.length - 1]! };
        for (const e of k.extraOutputs ?? []) slots[graph.values[e.value]!.buffer] = { value: e.value, data: results[e.op]! };
      }
      return Object.fromEntries(graph.outputs.map((o) => [o.name, read(o.value)]));
    },
  };
}
