/**
 * Pooled convolutions in a fused kernel graph, as the planner leaves them:
 * a `conv` kernel (its product), the `map` of its epilogue (bias,
 * activation; absent when it has none) and the `reduce` of a pool over its
 * windows, one after another. Each backend that runs such a chain as one
 * kernel (`backends/webgpu/wgsl-pool.ts`, `backends/cpu/emit/conv-pool-plan.ts`)
 * starts from these candidates and checks what its renderer takes; the values
 * the chain writes that something outside it reads must still be written.
 */
import type { Kernel, KernelGraph } from "./graph.js";
import { kernelOutputs } from "./graph.js";

/** Kernel ids of a candidate chain, in order (conv, map, reduce or conv, reduce), and the values it must write. */
export interface PoolChain {
  readonly kernels: readonly number[];
  /** Values its kernels write that a kernel outside the chain, or the graph's outputs, read. */
  readonly readOutside: ReadonlySet<number>;
}

/** The candidate chains ending at `reduce`, the longer first; `isProduct` says which kernels may start one. */
export function poolChainsEndingAt(graph: KernelGraph, reduce: Kernel, isProduct: (k: Kernel) => boolean): PoolChain[] {
  if (reduce.kind !== "reduce") return [];
  const chains: PoolChain[] = [];
  for (const ids of [[reduce.id - 2, reduce.id - 1, reduce.id], [reduce.id - 1, reduce.id]]) {
    const first = graph.kernels[ids[0]!];
    if (first === undefined || !isProduct(first) || (ids.length === 3 && graph.kernels[ids[1]!]!.kind !== "map")) continue;
    chains.push({ kernels: ids, readOutside: readOutside(graph, ids) });
  }
  return chains;
}

/** The values kernels `ids` write that another kernel or the graph's outputs read. */
function readOutside(graph: KernelGraph, ids: readonly number[]): Set<number> {
  const inside = new Set(ids);
  const outputs = new Set(graph.outputs.map((o) => o.value));
  const read = new Set<number>();
  for (const id of ids) {
    for (const v of kernelOutputs(graph.kernels[id]!)) {
      if (outputs.has(v) || graph.kernels.some((k) => !inside.has(k.id) && k.inputs.includes(v))) read.add(v);
    }
  }
  return read;
}
