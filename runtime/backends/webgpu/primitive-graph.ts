/**
 * A fused kernel graph spread out into one kernel per op (`spreadKernels`),
 * for the WebGPU shader planner (`shader-groups.ts`), which works on kernels
 * of one op. The graph's own values keep their ids (and buffers); the results
 * of ops a fused kernel computes inside itself become temporaries numbered
 * after them, which the executor places in buffers of its own (`memory.ts`).
 * `partition` gives, for each new kernel, the fused kernel it came from.
 */
import type { KernelGraph } from "../../kernel/graph.js";
import { planMemory } from "../../kernel/memory.js";
import { isPrimitive, spreadKernels } from "../../kernel/spread.js";

/** The graph with each kernel's ops as kernels of their own, and the fused kernel each came from. */
export function primitiveGraph(graph: KernelGraph): { graph: KernelGraph; partition: number[] } {
  if (isPrimitive(graph)) return { graph, partition: graph.kernels.map((k) => k.id) };
  const { program, partition } = spreadKernels(graph);
  const planned = planMemory(program);
  // Inputs, params and outputs keep the given graph's buffers (the executor allocates those); temporaries get theirs from `memory.ts`.
  const values = planned.values.map((v) => (v.id < graph.values.length ? { ...v, buffer: graph.values[v.id]!.buffer } : v));
  return { graph: { ...planned, values, buffers: graph.buffers }, partition };
}
