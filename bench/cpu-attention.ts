// Attention kernels on the CPU (runtime/backends/cpu/emit/attention-kernel.ts) against the same
// training step planned without them (the planner's three kernels per attention, as before),
// in one process, runs alternating A, B, A, B … so that a shared machine's load falls on both
// alike. Per example: median and best ms per step of each, B/A, the memory plans' peaks, the
// attention kernels' share of the step (profiled), and whether both give the same bits.
// Run from the repository root: `npx tsx bench/cpu-attention.ts [seconds]`. Prints JSON.
import os from "node:os";
// The CPU backend's worker threads, as the Node entry and the CLI install them.
import "../runtime/backends/cpu/node-threads.js";
import type { TensorValue } from "../runtime/backends/backend.js";
import { compileCpu, CPU_PLAN } from "../runtime/backends/cpu/index.js";
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
console.log(JSON.stringify({ bench: "cpu-attention", date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, cores: os.availableParallelism(), load: os.loadavg().map((x) => +x.toFixed(2)), seconds: SECONDS, results }, null, 2));
