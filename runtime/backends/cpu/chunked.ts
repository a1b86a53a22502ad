/**
 * Runs chains of elementwise kernels a chunk at a time.
 *
 * An optimizer update is a chain of some twenty elementwise kernels over each
 * parameter (Adam: scale the gradient, update both moments, correct their
 * bias, divide, subtract). Run one after another over a whole [784, 256]
 * tensor, each kernel streams megabytes through memory; run chunk by chunk
 * (all kernels of the chain over elements 0 ‥ 2047, then all over
 * 2048 ‥ 4095, …), every value a kernel reads was just written by an earlier
 * one and is still in cache. Values are still written to their planned
 * buffers, so nothing else changes.
 *
 * This is only equivalent to running the kernels in order because element e
 * of each output depends only on element e of each operand: at every element
 * the kernels still run in order, and elements do not interact. Buffers the
 * memory plan shares between values of a chain are therefore safe too, with
 * one exception the grouping checks: a broadcast reads a small operand at
 * every chunk, so no later kernel of its chain may write that operand's
 * buffer.
 */
import type { Elementwise, RangeStep } from "./elementwise.js";
import type { Step } from "./slots.js";

/** Elements per chunk: 8 KiB per f32 array, so a kernel's operands and output stay in L1. */
export const CHUNK = 2048;

/** A compiled kernel: its whole-tensor step, its range form where it is elementwise, and what it runs. */
export interface CompiledKernel {
  /** The planned buffer of its output, and of each operand. */
  readonly outputBuffer: number;
  readonly inputBuffers: readonly number[];
  /** The output's element count. */
  readonly size: number;
  /** Undefined when there is nothing to run (a transpose folded into its matmul): it neither joins nor breaks a chain. */
  readonly step: Step | undefined;
  readonly elementwise: Elementwise | undefined;
  /** The routine its step runs, in words, or why it has no step. */
  readonly account: string;
}

/**
 * The steps of an executable, as positions in `kernels`: consecutive
 * elementwise kernels of one output size form one chain, run chunk by chunk;
 * other kernels are steps of their own; kernels without a step are left out.
 */
export function stepKernels(kernels: readonly CompiledKernel[]): number[][] {
  const steps: number[][] = [];
  let chain: number[] = [];
  let broadcastBuffers = new Set<number>();
  const close = () => {
    if (chain.length > 0) steps.push(chain);
    chain = [];
    broadcastBuffers = new Set();
  };
  kernels.forEach((c, i) => {
    if (c.step === undefined) return;
    const first = chain.length > 0 ? kernels[chain[0]!] : undefined;
    const joins = c.elementwise !== undefined && c.size > 0 && first !== undefined && c.size === first.size && !broadcastBuffers.has(c.outputBuffer);
    if (!joins) close();
    if (c.elementwise === undefined) {
      steps.push([i]);
      return;
    }
    chain.push(i);
    for (const b of c.elementwise.broadcast) broadcastBuffers.add(c.inputBuffers[b]!);
  });
  close();
  return steps;
}

/** The steps of `stepKernels(kernels)`: a chain of one runs its kernel's whole step, a longer chain chunk by chunk. */
export function chunkedSteps(kernels: readonly CompiledKernel[]): Step[] {
  return stepKernels(kernels).map((chain) =>
    chain.length === 1 ? kernels[chain[0]!]!.step! : chunk(chain.map((i) => kernels[i]!.elementwise!.step), kernels[chain[0]!]!.size),
  );
}

/** One step running `steps` over n elements, chunk by chunk. */
function chunk(steps: readonly RangeStep[], n: number): Step {
  const count = steps.length;
  return () => {
    for (let from = 0; from < n; from += CHUNK) {
      const to = Math.min(from + CHUNK, n);
      for (let s = 0; s < count; s++) steps[s]!(from, to);
    }
  };
}
