// Attention kernels on the CPU (runtime/backends/cpu/emit/attention-kernel.ts) against the same
// training step planned without them (the planner's three kernels per attention, as before),
// in one process, runs alternating A, B, A, B … so that a shared machine's load falls on both
// alike. Per example: median and best ms per step of each, B/A, the memory plans' peaks, the
// attention kernels' share of the step (profiled), and whether both give the same bits. Then
// attention alone at the examples' shapes (Q, K, V split into heads by views, softmax(Q·Kᵀ/4)·V,
// forward), alternating A/B many times: what the kernel itself changes, under less noise.
// Run from the repository root: `npx tsx bench/cpu-attention.ts [seconds]`. Prints JSON.
import os from "node:os";
// The CPU backend's worker threads, as the Node entry and the CLI install them.
import "../runtime/backends/cpu/node-threads.js";
import type { TensorValue } from "../runtime/backends/backend.js";
import { compileCpu, CPU_PLAN } from "../runtime/backends/cpu/index.js";
import { softmax } from "../compiler/lower/ops.js";
import { IRBuilder } from "../runtime/ir/builder.js";
import type { Node } from "../runtime/ir/node.js";
import { planKernelGraph } from "../runtime/kernel/plan.js";
import { prepareStep } from "./prepare-step.js";

const SECONDS = Number(process.argv[2] ?? 6);
const CASES = [
  { file: "examples/tiny-gpt.repr", model: "TinyGPT", batch: 64 },
  { file: "examples/masked-autoencoder.repr", model: "MAE", batch: 256 },
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const bits = (out: Record<string, TensorValue>): Map<string, Int32Array> => new Map(Object.entries(out).map(([k, v]) => [k, new Int32Array(Float32Array.from(v.data).buffer)]));
const same = (a: Map<string, Int32Array>, b: Map<string, Int32Array>): boolean => [...a].every(([k, x]) => b.get(k)!.every((y, i) => y === x[i]));

const results: Record<string, unknown>[] = [];
for (const c of CASES) {
  const before = prepareStep(c, c.batch);
  const after = prepareStep(c, c.batch, CPU_PLAN);
  const a = compileCpu(before.graph);
  const b = compileCpu(after.graph);
  const run = (exe: typeof a, s: typeof before) => exe.run(s.feeds, s.params);
  const equal = same(bits(run(a, before)), bits(run(b, after)));
  for (let i = 0; i < 2; i++) {
    run(a, before);
    run(b, after);
  }
  const ta: number[] = [];
  const tb: number[] = [];
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000 || ta.length < 5) {
    let t0 = performance.now();
    run(a, before);
    ta.push(performance.now() - t0);
    t0 = performance.now();
    run(b, after);
    tb.push(performance.now() - t0);
  }
  // Where the attention kernels' time goes: one profiled run of each (kernels timed one by one).
  const attentionIds = new Set(after.graph.kernels.filter((k) => k.kind === "attention").map((k) => k.id));
  const pa = compileCpu(after.graph, { profile: true });
  for (let i = 0; i < 3; i++) run(pa, after);
  let attentionMs = 0;
  let totalMs = 0;
  for (const [key, e] of pa.profile!) {
    totalMs += e.ms / 3;
    const id = /^k(\d+)_/.exec(key);
    if (id !== null && attentionIds.has(Number(id[1]))) attentionMs += e.ms / 3;
  }
  results.push({
    example: c.file,
    batch: c.batch,
    threads: a.threads,
    attention_kernels: attentionIds.size,
    kernels: { before: before.graph.kernels.length, after: after.graph.kernels.length },
    steps: ta.length,
    ms_before: { median: +median(ta).toFixed(1), best: +Math.min(...ta).toFixed(1) },
    ms_after: { median: +median(tb).toFixed(1), best: +Math.min(...tb).toFixed(1) },
    speedup_median: +(median(ta) / median(tb)).toFixed(3),
    arena_peak_bytes: { before: before.graph.memory.peakBytes, after: after.graph.memory.peakBytes },
    attention_share_profiled: +(attentionMs / totalMs).toFixed(3),
    same_bits: equal,
  });
}
// Attention alone: [batch, heads, rows, head width] of the MAE's encoder and decoder and of tiny-gpt.
const alone: Record<string, unknown>[] = [];
for (const [batch, heads, rows, d] of [
  [256, 4, 12, 16],
  [256, 4, 49, 8],
  [64, 4, 63, 32],
] as const) {
  const b = new IRBuilder();
  const shape = [batch, rows, heads * d];
  const split = (x: Node): Node => b.permute(b.reshape(x, [batch, rows, heads, d]), [0, 2, 1, 3]);
  const [q, k, v] = ["q", "k", "v"].map((n) => b.input(n, shape));
  const o = b.matmul(softmax(b, b.mul(b.matmul(split(q!), b.transpose(split(k!))), 1 / Math.sqrt(d)), 3), split(v!));
  const graph = b.graph({ o });
  const feeds = Object.fromEntries(["q", "k", "v"].map((n, i) => [n, { shape, data: Float32Array.from({ length: batch * rows * heads * d }, (_, j) => Math.sin(j + i)) }]));
  const a = compileCpu(planKernelGraph(graph));
  const c = compileCpu(planKernelGraph(graph, CPU_PLAN));
  const ta: number[] = [];
  const tc: number[] = [];
  for (let i = 0; i < 3; i++) {
    a.run(feeds);
    c.run(feeds);
  }
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000 || ta.length < 20) {
    let t0 = performance.now();
    a.run(feeds);
    ta.push(performance.now() - t0);
    t0 = performance.now();
    c.run(feeds);
    tc.push(performance.now() - t0);
  }
  alone.push({ batch, heads, rows, head: d, runs: ta.length, ms_unfused: +median(ta).toFixed(3), ms_attention_kernel: +median(tc).toFixed(3), speedup_median: +(median(ta) / median(tc)).toFixed(3), arena_bytes: { unfused: planKernelGraph(graph).memory.peakBytes, attention_kernel: planKernelGraph(graph, CPU_PLAN).memory.peakBytes } });
}
console.log(JSON.stringify({ bench: "cpu-attention", date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, cores: os.availableParallelism(), load: os.loadavg().map((x) => +x.toFixed(2)), seconds: SECONDS, results, alone }, null, 2));
