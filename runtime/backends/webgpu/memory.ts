/**
 * The WebGPU executor's memory plan for temporaries. Fusion leaves most
 * temporaries of the kernel graph unwritten and keeps others alive longer
 * (a fused group reads its inputs when its root runs), so the graph's own
 * plan does not fit: temporaries are placed again, over the dispatches as
 * they run. Inputs, params and outputs keep the buffers the graph gives them.
 * Scratch buffers (a split-K matmul's partial products) are placed like
 * temporaries, under ids from the graph's value count on.
 *
 * *Invariant*: a buffer passes to another value only at a dispatch after the
 * last one that reads its holder, so no dispatch binds one buffer both to
 * read and to write.
 */
import { sizeOf } from "../../ir/shape.js";
import type { KernelGraph } from "../../kernel/graph.js";

/** One dispatch's traffic: the values it reads and those it writes. */
export interface Traffic {
  readonly reads: readonly number[];
  readonly writes: readonly number[];
}

/** Where temporaries live: the byte size of each temporary buffer, and the buffer of each temporary value written. */
export interface TempPlan {
  readonly sizes: readonly number[];
  readonly bufferOf: ReadonlyMap<number, number>;
}

/** Bytes of a value's buffer: whole words, at least 16 (as the executor allocates every buffer). */
export function bufferBytes(elements: number): number {
  return Math.max(16, elements * 4);
}

/** Places every temporary and scratch buffer (element counts by id) written by `dispatches` (in order), reusing a buffer as soon as its holder was last read; smallest fit first. */
export function planTemporaries(graph: KernelGraph, dispatches: readonly Traffic[], scratch: ReadonlyMap<number, number> = new Map()): TempPlan {
  const lastRead = new Map<number, number>();
  dispatches.forEach((d, n) => d.reads.forEach((v) => lastRead.set(v, n)));
  const sizes: number[] = [];
  const bufferOf = new Map<number, number>();
  const free: number[] = [];
  /** Values whose buffer frees after dispatch n, by n. */
  const release = new Map<number, number[]>();
  dispatches.forEach((d, n) => {
    for (const v of d.writes) {
      const value = graph.values[v];
      const elements = value === undefined ? scratch.get(v) : value.role === "temp" ? sizeOf(value.shape) : undefined;
      if (elements === undefined || bufferOf.has(v)) continue;
      const bytes = bufferBytes(elements);
      let best = -1;
      free.forEach((b, j) => {
        if (sizes[b]! >= bytes && (best < 0 || sizes[b]! < sizes[free[best]!]!)) best = j;
      });
      const b = best >= 0 ? free.splice(best, 1)[0]! : sizes.push(bytes) - 1;
      bufferOf.set(v, b);
      const last = Math.max(n, lastRead.get(v) ?? n);
      (release.get(last) ?? release.set(last, []).get(last)!).push(b);
    }
    free.push(...(release.get(n) ?? []));
  });
  return { sizes, bufferOf };
}
