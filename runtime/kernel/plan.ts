/**
 * From IR to kernel graph (DESIGN.md stages 5 and 6): one kernel per
 * primitive in the IR's topological order (`program.ts`), fused into the
 * kernels every backend runs (`fuse.ts`, unless `{ fuse: false }`), and a
 * static memory plan (`memory.ts`).
 *
 * The runtime plans each graph where it instantiates it at a batch size
 * (`runtime/train/sized-graph.ts`), so fusion runs before any backend sees
 * a graph, and a backend only renders the fused kernels it is given.
 */
import type { Graph } from "../ir/node.js";
import type { KernelGraph } from "./graph.js";
import { fuseProgram } from "./fuse-program.js";
import { planMemory } from "./memory.js";
import { primitiveProgram } from "./program.js";

export { sizeClass, valueBytes } from "./memory.js";

/** How to plan a graph. */
export interface PlanOptions {
  /** False: one kernel per primitive, as the IR has them (for comparison); by default, fused kernels. */
  readonly fuse?: boolean;
  /** Join attention into `attention` kernels (`fuse-attention.ts`): only for a backend that renders them (WebGPU). */
  readonly attention?: boolean;
  /** The most values an attention kernel binds (default 8, WebGPU's guaranteed storage bindings): a backend passes its device's limit. */
  readonly attentionBindings?: number;
  /** Judge a view's join by the free views behind it (`FusionOptions.wideViews`): a k×k convolution's k² windows join its matmul, for a backend that reads them as index arithmetic (WebGPU). */
  readonly wideViews?: boolean;
  /** The most values any fused kernel binds (default 8, `MAX_BINDINGS`): a backend without WebGPU's limit may pass more (the CPU's kernels take byte addresses as parameters). */
  readonly maxBindings?: number;
}

/** Lowers an IR graph to a kernel graph (fused unless asked not to) and plans its memory. */
export function planKernelGraph(graph: Graph, options: PlanOptions = {}): KernelGraph {
  const program = primitiveProgram(graph);
  const bindings = {
    ...(options.attentionBindings === undefined ? {} : { attentionBindings: options.attentionBindings }),
    ...(options.maxBindings === undefined ? {} : { maxBindings: options.maxBindings }),
  };
  return planMemory(options.fuse === false ? program : fuseProgram(program, { attention: options.attention === true, wideViews: options.wideViews === true, ...bindings }));
}
