// Training-step throughput of the CPU backend against PyTorch, side by side.
//
// The step is examples/mnist-autoencoder.repr's (784-256-64-32-64-256-784, relu, sigmoid,
// mse, adam) at batch 128: forward, backward and the Adam update as one planned kernel
// graph (bench/prepare-step.ts), run with its params and optimizer state fed each step (as
// training does). It is timed on the CPU backend with the WebAssembly SIMD kernels and
// with the JavaScript fallback, alternating rounds of both so that a busy machine slows
// both alike, then PyTorch's steps/s for the same model and Adam step comes from
// bench/train_step_torch.py (skipped, with the reason, when /usr/bin/python3 has no
// torch), run just before and just after the repr rounds; the mean of the two is its
// number. Prints JSON.
// Run from the repository root: `npx tsx bench/train-step.ts [seconds]`.
import { spawnSync } from "node:child_process";
import os from "node:os";
import { performance } from "node:perf_hooks";
// The CPU backend's worker threads, as the Node entry and the CLI install them.
import "../runtime/backends/cpu/node-threads.js";
import { compileCpu, type CpuExecutable } from "../runtime/backends/cpu/index.js";
import { prepareStep } from "./prepare-step.js";

const BATCH = 128;
const SECONDS = Number(process.argv[2] ?? 6);
const PYTHON = "/usr/bin/python3";

const path = "examples/mnist-autoencoder.repr";
const { graph, params, feeds } = prepareStep({ file: path, model: "Autoencoder" }, BATCH);

/** PyTorch's steps/s, or why there is none. */
function torch(): { steps_per_s?: number; skipped?: string; [k: string]: unknown } {
  const run = spawnSync(PYTHON, ["bench/train_step_torch.py", "--seconds", String(Math.min(SECONDS, 4))], { encoding: "utf8" });
  if (run.error) return { skipped: `${PYTHON}: ${run.error.message}` };
  if (run.status !== 0) return { skipped: (run.stderr.trim().split("\n").pop() ?? "").slice(0, 200) || `exit ${run.status}` };
  return JSON.parse(run.stdout) as { steps_per_s: number };
}
// PyTorch runs before and after the repr rounds, so that its number brackets theirs on a busy machine.
const torchBefore = torch();
const variants: { name: string; exe: CpuExecutable; rounds: number[] }[] = [
  { name: "simd", exe: compileCpu(graph), rounds: [] },
  { name: "js", exe: compileCpu(graph, { simd: false }), rounds: [] },
];
for (const v of variants) for (let r = 0; r < 10; r++) v.exe.run(feeds, params); // warm up
// Rounds of 5 steps, alternating variants, until SECONDS have passed.
const start = performance.now();
while (performance.now() - start < SECONDS * 1000 || variants[0]!.rounds.length < 5) {
  for (const v of variants) {
    const t0 = performance.now();
    for (let r = 0; r < 5; r++) v.exe.run(feeds, params);
    v.rounds.push(5000 / (performance.now() - t0));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const cpu = Object.fromEntries(
  variants.map((v) => [v.name, { simd: v.exe.simd, rounds: v.rounds.length, steps_per_s: +median(v.rounds).toFixed(2), best_steps_per_s: +Math.max(...v.rounds).toFixed(2) }]),
);

const torchAfter = torch();
const pytorch = torchBefore.steps_per_s && torchAfter.steps_per_s
  ? { ...torchAfter, runs_steps_per_s: [torchBefore.steps_per_s, torchAfter.steps_per_s], steps_per_s: +((torchBefore.steps_per_s + torchAfter.steps_per_s) / 2).toFixed(2) }
  : torchAfter;
const simd = cpu["simd"]!.steps_per_s;
console.log(
  JSON.stringify(
    {
      bench: "cpu-train-step",
      model: `${path} Autoencoder, batch ${BATCH}, adam`,
      kernels: graph.kernels.length,
      node: process.version,
      cpu: os.cpus()[0]?.model,
      cores: os.cpus().length,
      date: new Date().toISOString(),
      repr_cpu: cpu,
      pytorch,
      ratio_simd_over_pytorch: pytorch.steps_per_s ? +(simd / pytorch.steps_per_s).toFixed(2) : null,
      ratio_simd_over_js: +(simd / cpu["js"]!.steps_per_s).toFixed(2),
    },
    null,
    2,
  ),
);
