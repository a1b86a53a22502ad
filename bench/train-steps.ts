// Training-step throughput of the CPU backend on the example models, side by side.
//
// For each model (the autoencoder, colorization, contrastive, masked-autoencoder and
// tiny-gpt examples) the training step (forward, backward, Adam) is lowered at the batch
// its pipeline uses (or `--batch`) and planned (bench/prepare-step.ts), compiled and run
// with its params and optimizer state fed each step, as training does. With
// `--baseline DIR` a second backend (a copy of an earlier runtime/backends/cpu, whose index.ts exports
// `compileCpu`) runs the same kernel graph, rounds of both alternating so that a busy
// machine slows both alike. Prints JSON: per model, the median and best steps/s. The
// baseline copy must sit beside the backend (e.g. runtime/backends/cpu-before/, made with
// `git show REV:runtime/backends/cpu/FILE` for each file) so its relative imports resolve.
// With `--profile` it prints instead, per model, the 20 costliest kernels (op, output and
// operand shapes; milliseconds per step) from `compileCpu(graph, { profile: true })`.
// Run from the repository root:
//   npx tsx bench/train-steps.ts [--seconds 6] [--models a,b] [--batch n] [--baseline DIR] [--profile]
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import type { Executable, TensorFeed } from "../runtime/backends/backend.js";
// The CPU backend's worker threads, as the Node entry and the CLI install them.
import "../runtime/backends/cpu/node-threads.js";
import { compileCpu } from "../runtime/backends/cpu/index.js";
import type { KernelGraph } from "../runtime/kernel/graph.js";
import { prepareStep, type StepCase } from "./prepare-step.js";

/** A model of the bench: its file, model name and the batch its pipeline trains at. */
interface Case extends StepCase {
  readonly name: string;
  readonly batch: number;
}

const CASES: readonly Case[] = [
  { name: "autoencoder", file: "examples/mnist-autoencoder.repr", model: "Autoencoder", batch: 128 },
  { name: "colorization", file: "examples/colorization.repr", model: "Colorize", batch: 64 },
  { name: "contrastive", file: "examples/contrastive.repr", model: "Contrastive", batch: 256 },
  { name: "masked-autoencoder", file: "examples/masked-autoencoder.repr", model: "MAE", batch: 256 },
  { name: "tiny-gpt", file: "examples/tiny-gpt.repr", model: "TinyGPT", batch: 64 },
];

const args = process.argv.slice(2);
const option = (flag: string): string | undefined => {
  const at = args.indexOf(flag);
  return at < 0 ? undefined : args[at + 1];
};
const SECONDS = Number(option("--seconds") ?? 6);
const only = option("--models")?.split(",");
const batchOverride = option("--batch") === undefined ? undefined : Number(option("--batch"));
const baselineDir = option("--baseline");
const baseline = baselineDir === undefined
  ? undefined
  : ((await import(pathToFileURL(path.resolve(baselineDir, "index.ts")).href)) as { compileCpu: (g: KernelGraph) => Executable }).compileCpu;

/** Prints the costliest kernels of a few steps, each kernel timed on its own. */
function profile(name: string, graph: KernelGraph, feeds: Record<string, TensorFeed>, params: Record<string, TensorFeed>): void {
  const exe = compileCpu(graph, { profile: true });
  exe.run(feeds, params); // warm up, then count from zero
  for (const entry of exe.profile!.values()) [entry.ms, entry.n] = [0, 0];
  const steps = 3;
  for (let r = 0; r < steps; r++) exe.run(feeds, params);
  const rows = [...exe.profile!].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20);
  console.log(`${name}: ${graph.kernels.length} kernels, ms per step`);
  for (const [key, { ms, n }] of rows) console.log(`  ${(ms / steps).toFixed(1).padStart(8)}  ×${n / steps}  ${key}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const results: Record<string, unknown> = {};
for (const c of CASES.filter((c) => only === undefined || only.includes(c.name))) {
  const batch = batchOverride ?? c.batch;
  const { graph, params, feeds } = prepareStep(c, batch);
  if (args.includes("--profile")) {
    profile(c.name, graph, feeds, params);
    continue;
  }
  const variants: { name: string; exe: Executable; rounds: number[] }[] = [{ name: "cpu", exe: compileCpu(graph), rounds: [] }];
  if (baseline !== undefined) variants.push({ name: "baseline", exe: baseline(graph), rounds: [] });
  for (const v of variants) for (let r = 0; r < 2; r++) v.exe.run(feeds, params); // warm up
  // One step per round, alternating variants, until SECONDS have passed (at least 3 rounds each).
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000 || variants[0]!.rounds.length < 3) {
    for (const v of variants) {
      const t0 = performance.now();
      v.exe.run(feeds, params);
      v.rounds.push(1000 / (performance.now() - t0));
    }
  }
  const entry: Record<string, unknown> = { batch, kernels: graph.kernels.length };
  for (const v of variants) entry[v.name] = { rounds: v.rounds.length, steps_per_s: +median(v.rounds).toFixed(2), best_steps_per_s: +Math.max(...v.rounds).toFixed(2) };
  if (baseline !== undefined) {
    const ratio = (entry["cpu"] as { steps_per_s: number }).steps_per_s / (entry["baseline"] as { steps_per_s: number }).steps_per_s;
    entry["ratio_cpu_over_baseline"] = +ratio.toFixed(2);
  }
  results[c.name] = entry;
  console.error(c.name, JSON.stringify(entry));
}
if (!args.includes("--profile")) {
  const report = { bench: "cpu-train-steps", node: process.version, cpu: os.cpus()[0]?.model, cores: os.cpus().length, load: os.loadavg().map((l) => +l.toFixed(2)), date: new Date().toISOString(), models: results };
  console.log(JSON.stringify(report, null, 2));
}
