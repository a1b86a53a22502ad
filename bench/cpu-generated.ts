// The CPU backend's generated WebAssembly against the backend before it (the fixed SIMD kernels
// op by op) and PyTorch (OpenBLAS), side by side in one run, with this machine's WebAssembly SIMD
// peak for the instruction the matmul uses. Prints JSON.
//
// - peak: 12 independent f32x4 multiply-add chains (mul+add, and relaxed madd where the engine
//   has it) on 1 thread, and on 2 worker threads at once;
// - matmul n³ (n = 256, 512, 1024) as a one-kernel graph, generated on 1 and 2 threads;
// - the autoencoder training step (examples/mnist-autoencoder.repr, adam) at batch 128 and 256:
//   op by op (before), generated on 1 and 2 threads; effective GFLOP/s from the model's arithmetic
//   (2 flop per weight per example forward, 4 backward, none for the first layer's input
//   gradient: 570 MFLOP at batch 256);
// - PyTorch (bench/train_step_torch.py) at 1 and 2 threads, OMP_WAIT_POLICY=PASSIVE.
// Run from the repository root: `npx tsx bench/cpu-generated.ts [seconds]`. On a shared machine
// run it under `flock /work/cpu.lock`; numbers are only comparable within one run.
import { spawnSync } from "node:child_process";
import os from "node:os";
// The CPU backend's worker threads, as the Node entry and the CLI install them.
import "../runtime/backends/cpu/node-threads.js";
import { compileCpu, type CpuExecutable, type CpuOptions } from "../runtime/backends/cpu/index.js";
import { relaxedSimdAvailable } from "../runtime/backends/cpu/features.js";
import { IRBuilder } from "../runtime/ir/builder.js";
import { planKernelGraph } from "../runtime/kernel/plan.js";
import { prepareStep } from "./prepare-step.js";
import { peakGflops as peak } from "./wasm-peak.js";

const SECONDS = Number(process.argv[2] ?? 2);
const PYTHON = "/usr/bin/python3";

/** Runs/s of `run`, best of rounds over `SECONDS`. */
function rate(run: () => void, per = 1): number {
  for (let i = 0; i < 3; i++) run();
  let best = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) run();
    best = Math.max(best, (per * 1000) / (performance.now() - t0));
  }
  return best;
}

function torch(args: string[], threads: number): Record<string, unknown> {
  const r = spawnSync(PYTHON, ["bench/train_step_torch.py", "--threads", String(threads), "--seconds", String(SECONDS), ...args], {
    encoding: "utf8",
    env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
  });
  if (r.status !== 0) return { skipped: (r.stderr ?? "").trim().split("\n").pop() ?? `exit ${r.status}` };
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const random = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);
const fma = relaxedSimdAvailable();
const result: Record<string, unknown> = {
  bench: "cpu-generated",
  node: process.version,
  cpu: os.cpus()[0]?.model,
  cores: os.availableParallelism(),
  date: new Date().toISOString(),
  blas: spawnSync("update-alternatives", ["--display", "libblas.so.3-x86_64-linux-gnu"], { encoding: "utf8" }).stdout?.split("\n")[2]?.trim(),
  relaxed_simd: fma,
};
const peaks = { muladd_1: await peak(false, 1), muladd_2: await peak(false, 2), ...(fma ? { madd_1: await peak(true, 1), madd_2: await peak(true, 2) } : {}) };
result["wasm_simd_peak_gflops"] = peaks;
const peak1 = fma ? peaks.madd_1! : peaks.muladd_1;
const peak2 = fma ? peaks.madd_2! : peaks.muladd_2;

const matmul: Record<string, unknown> = {};
for (const n of [256, 512, 1024]) {
  const b = new IRBuilder();
  const kg = planKernelGraph(b.graph({ y: b.matmul(b.input("x", [n, n]), b.input("w", [n, n])) }));
  const feeds = { x: { shape: [n, n], data: random(n * n) }, w: { shape: [n, n], data: random(n * n) } };
  const gf = (o: CpuOptions) => {
    const exe = compileCpu(kg, o);
    return +((2 * n ** 3 * rate(() => exe.run(feeds, {}))) / 1e9).toFixed(1);
  };
  const [one, two] = [gf({ threads: 1 }), gf({ threads: 2 })];
  const pt1 = torch(["--matmul", String(n)], 1);
  const pt2 = torch(["--matmul", String(n)], 2);
  matmul[n] = {
    repr_1_thread: one,
    repr_2_threads: two,
    fraction_of_peak_1: +(one / peak1).toFixed(2),
    fraction_of_peak_2: +(two / peak2).toFixed(2),
    pytorch_1_thread: pt1["gflops"],
    pytorch_2_threads: pt2["gflops"],
    ratio_2_threads_over_pytorch_2: typeof pt2["gflops"] === "number" ? +(two / (pt2["gflops"] as number)).toFixed(2) : null,
  };
}
result["matmul_gflops"] = matmul;

const steps: Record<string, unknown> = {};
for (const batch of [128, 256]) {
  const { graph, params, feeds } = prepareStep({ file: "examples/mnist-autoencoder.repr", model: "Autoencoder" }, batch);
  // Multiply-adds of the layers 784-256-64-32-64-256-784: 2 flop each forward, 4 backward (weights and inputs), but no input gradient for the first layer.
  const dims = [784, 256, 64, 32, 64, 256, 784];
  const weights = dims.slice(1).reduce((s, d, i) => s + d * dims[i]!, 0);
  const flop = batch * (6 * weights - 2 * dims[0]! * dims[1]!);
  const variants: [string, CpuExecutable][] = [
    ["ops_before", compileCpu(graph, { generated: false })],
    ["generated_1_thread", compileCpu(graph, { threads: 1 })],
    ["generated_2_threads", compileCpu(graph, { threads: 2 })],
  ];
  const entry: Record<string, unknown> = { effective_mflop_per_step: +(flop / 1e6).toFixed(0) };
  for (const [name, exe] of variants) entry[name] = +rate(() => exe.run(feeds, params), 5).toFixed(1);
  const pt1 = torch(["--batch", String(batch)], 1);
  const pt2 = torch(["--batch", String(batch)], 2);
  entry["pytorch_1_thread"] = pt1["steps_per_s"];
  entry["pytorch_2_threads"] = pt2["steps_per_s"];
  const g2 = entry["generated_2_threads"] as number;
  entry["effective_gflops_2_threads"] = +((g2 * flop) / 1e9).toFixed(1);
  entry["fraction_of_peak_2"] = +((g2 * flop) / 1e9 / peak2).toFixed(2);
  entry["ratio_2_threads_over_pytorch_2"] = typeof pt2["steps_per_s"] === "number" ? +(g2 / (pt2["steps_per_s"] as number)).toFixed(2) : null;
  entry["ratio_generated_over_before"] = +(g2 / (entry["ops_before"] as number)).toFixed(2);
  steps[`batch_${batch}`] = entry;
}
result["autoencoder_step_steps_per_s"] = steps;
console.log(JSON.stringify(result, null, 2));
process.exit(0);
