/**
 * A fused kernel graph spread back out into one kernel per op: the program a
 * backend runs when it renders a fused kernel op by op (the CPU backend's
 * JavaScript fallback, WebGPU's cut of a kernel into shaders). The graph's own
 * values keep their ids; the results of ops a fused kernel computes inside
 * itself become temporaries numbered after them. `partition` gives, for each
 * new kernel, the fused kernel it came from. The ops are unchanged, so the
 * spread program computes what the fused graph does.
 */
import type { Kernel, KernelGraph } from "./graph.js";
import type { KernelProgram, ProgramValue } from "./program.js";

/** The graph's kernels with each op as a kernel of its own, and the fused kernel each came from. */
export function spreadKernels(graph: KernelGraph): { program: KernelProgram; partition: number[] } {
  const values: ProgramValue[] = graph.values.map((v) => ({ id: v.id, shape: v.shape, dtype: v.dtype, role: v.role, ...(v.node === undefined ? {} : { node: v.node }) }));
  const kernels: Kernel[] = [];
  const partition: number[] = [];
  for (const k of graph.kernels) {
    const stored = new Map<number, number>([[k.ops.length - 1, k.output], ...(k.extraOutputs ?? []).map((e) => [e.op, e.value] as [number, number])]);
    const results: number[] = [];
    k.ops.forEach((o, j) => {
      let v = stored.get(j);
      if (v === undefined) {
        v = values.length;
        values.push({ id: v, shape: o.shape, dtype: o.dtype, role: "temp" });
      }
      results.push(v);
      const inputs = o.args.map((a) => ("input" in a ? k.inputs[a.input]! : results[a.op]!));
      kernels.push({ id: kernels.length, ops: [{ ...o, args: inputs.map((_, i) => ({ input: i })) }], inputs, output: v, shape: o.shape, dtype: o.dtype });
      partition.push(k.id);
    });
  }
  return { program: { kernels, values, inputs: graph.inputs, params: graph.params, outputs: graph.outputs }, partition };
}

/** Whether every kernel of `graph` is one primitive reading its inputs in order (a graph planned without fusion). */
export function isPrimitive(graph: KernelGraph): boolean {
  return graph.kernels.every((k) => k.ops.length === 1 && (k.extraOutputs ?? []).length === 0 && k.ops[0]!.args.every((a, i) => "input" in a && a.input === i));
}
