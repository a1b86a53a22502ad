// CPU backend matmul throughput: an [n, n] × [n, n] product, n = 256, 512, 1024,
// run as a one-kernel graph through the CPU backend (feeds copied in each run).
// Prints JSON, with a textbook i-p-j loop's best for scale at n ≤ 512. Shared or loaded
// machines give lower, noisier numbers: compare runs on one quiet machine only. Run after `npm run build`: `node bench/matmul.mjs`.
import { performance } from "node:perf_hooks";
import os from "node:os";
import { IRBuilder } from "../dist/runtime/ir/builder.js";
import { planKernelGraph } from "../dist/runtime/kernel/plan.js";
import { compileCpu } from "../dist/runtime/backends/cpu/index.js";

function randomArray(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) / 2 ** 32 - 0.5;
  }
  return out;
}

/** The textbook i-p-j loop on the same arrays, for scale (n ≤ 512 only). */
function naive(a, b, c, n) {
  c.fill(0);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < n; p++) {
      const x = a[i * n + p];
      for (let j = 0; j < n; j++) c[i * n + j] += x * b[p * n + j];
    }
}

function timeNaive(n) {
  const [a, b, c] = [randomArray(n * n, 1), randomArray(n * n, 2), new Float32Array(n * n)];
  naive(a, b, c, n);
  const samples = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    naive(a, b, c, n);
    samples.push(performance.now() - t0);
  }
  return Math.min(...samples);
}

const results = [];
for (const n of [256, 512, 1024]) {
  const b = new IRBuilder();
  const graph = b.graph({ y: b.matmul(b.input("x", [n, n]), b.param("w", [n, n])) });
  const exe = compileCpu(planKernelGraph(graph));
  const feeds = { x: { shape: [n, n], data: randomArray(n * n, 1) } };
  const params = { w: { shape: [n, n], data: randomArray(n * n, 2) } };
  for (let i = 0; i < 2; i++) exe.run(feeds, params); // warm up
  const samples = [];
  const start = performance.now();
  while (samples.length < 3 || (performance.now() - start < 1000 && samples.length < 50)) {
    const t0 = performance.now();
    exe.run(feeds, params);
    samples.push(performance.now() - t0);
  }
  samples.sort((p, q) => p - q);
  const median = samples[samples.length >> 1];
  results.push({
    n,
    runs: samples.length,
    median_ms: +median.toFixed(3),
    min_ms: +samples[0].toFixed(3),
    gflops_median: +((2 * n ** 3) / (median * 1e6)).toFixed(3),
    gflops_best: +((2 * n ** 3) / (samples[0] * 1e6)).toFixed(3),
    naive_gflops_best: n <= 512 ? +((2 * n ** 3) / (timeNaive(n) * 1e6)).toFixed(3) : null,
  });
}
console.log(
  JSON.stringify(
    { bench: "cpu-matmul", node: process.version, cpu: os.cpus()[0]?.model, date: new Date().toISOString(), results },
    null,
    2,
  ),
);
