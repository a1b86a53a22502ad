/**
 * What a CPU executable runs, in the backend's own words: for each kernel,
 * the routine `compileCpu` chose and the parameters it compiled it with (or
 * why the kernel has no step: a reshape that became a view, a transpose
 * folded into a product), the order of the executable's steps with the
 * chains of elementwise kernels run chunk by chunk, and the bytes of the
 * WebAssembly module its SIMD kernels were instantiated from.
 *
 * Each account is written where the step it describes is chosen, so this is
 * a record of the compilation, not a second description of it; `repr compile
 * --emit cpu` prints it with `printCpuAccount`.
 */
import { formatShape } from "../../ir/shape.js";
import { printKernel, type KernelGraph } from "../../kernel/graph.js";
import { CHUNK } from "./chunked.js";

/** A CPU executable's account of itself. */
export interface CpuAccount {
  /** The graph the kernel ids below index: the compiled graph, spread out one op per kernel where it was fused. */
  readonly graph: KernelGraph;
  /** The bytes of the WebAssembly module its SIMD kernels run; undefined on the JavaScript fallback. */
  readonly wasm: Uint8Array | undefined;
  /** Per kernel of the graph, by id: the routine its step runs, or why it has none. */
  readonly kernels: readonly string[];
  /** The executable's steps in run order, each as the ids of the kernels it runs: one, or a chain run chunk by chunk. */
  readonly steps: readonly (readonly number[])[];
}

/**
 * The text form of `account` for `graph`, the graph it was compiled from;
 * `wasmFile` names where the module's text was written, if it was.
 */
export function printCpuAccount(graph: KernelGraph, account: CpuAccount, wasmFile?: string): string {
  const lines: string[] = [];
  const stepped = new Set(account.steps.flat());
  lines.push(
    `cpu backend: ${graph.kernels.length} kernels in ${account.steps.length} steps; ` +
      (account.wasm !== undefined
        ? `WebAssembly SIMD kernels named by their export in the module${wasmFile !== undefined ? ` ${wasmFile}` : ""}, all buffers in one WebAssembly memory`
        : "JavaScript fallback (no WebAssembly SIMD)"),
  );
  const kernel = (id: number, indent: string) => {
    const k = graph.kernels[id]!;
    lines.push(`${indent}k${id}: ${printKernel(k)}`);
    lines.push(`${indent}    ${account.kernels[id]}`);
  };
  // Kernels without a step are listed where they stand in the graph, before the next step.
  let next = 0;
  const skippedUpTo = (id: number) => {
    for (; next < id; next++) if (!stepped.has(next)) kernel(next, "");
  };
  account.steps.forEach((step, s) => {
    skippedUpTo(step[0]!);
    if (step.length === 1) {
      lines.push(`step ${s}:`);
    } else {
      const shape = formatShape(graph.kernels[step[0]!]!.shape);
      lines.push(`step ${s}: a chain of ${step.length} elementwise kernels over ${shape}, run ${CHUNK} elements at a time (every kernel over a chunk, then the next chunk)`);
    }
    // Steps run kernels in graph order, so a kernel between a chain's first and last that is not in it has no step.
    for (; next <= step[step.length - 1]!; next++) kernel(next, "  ");
  });
  skippedUpTo(graph.kernels.length);
  return lines.join("\n") + "\n";
}
