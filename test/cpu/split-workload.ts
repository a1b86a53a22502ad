/**
 * The workload of the thread-host tests (`threads-ready`, `threads-steal`):
 * a matmul big enough that the CPU backend splits it among threads, with a
 * column sum and a row reduction after it; and the bits of a run's outputs,
 * to compare runs on different thread counts exactly.
 */
import type { TensorFeeds } from "../../runtime/backends/backend.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { KernelGraph } from "../../runtime/kernel/graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { numbers } from "./compare.js";

/** tanh(x · w) of [200, 96] · [96, 130], its column sums and the row sums of its exp, planned with fusion, and its feeds. */
export function splitWorkload(): { kg: KernelGraph; feeds: TensorFeeds } {
  const [m, k, n] = [200, 96, 130];
  const b = new IRBuilder();
  const x = b.input("x", [m, k]);
  const w = b.input("w", [k, n]);
  const y = b.tanh(b.matmul(x, w));
  const kg = planKernelGraph(b.graph({ y, columns: b.sum(y, 0), rows: b.sum(b.exp(y), 1) }));
  const feeds = { x: { shape: [m, k], data: numbers(m * k, 1, -1, 1) }, w: { shape: [k, n], data: numbers(k * n, 2, -1, 1) } };
  return { kg, feeds };
}

/** Each output's float32 bits, copied (outputs are views of buffers the next run reuses). */
export function outputBits(out: Record<string, { data: ArrayLike<number> }>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(out).map(([name, v]) => [name, Array.from(new Int32Array(Float32Array.from(v.data).buffer))]));
}
