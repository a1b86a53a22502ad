// The onnx backend beside the CPU backend (WebAssembly SIMD), a hand-written ONNX Runtime
// session of the same model, and PyTorch (OpenBLAS, 2 threads), side by side in one run.
//
// Workloads: the MNIST autoencoder's training step (batch 128) and its encoder (batch
// 1024), then every example's training step (forward, backward, Adam; bench/prepare-step.ts)
// at the batch its pipeline uses. For each, the same planned kernel graph runs on
//   - cpu:  compileCpu(graph).run(feeds, params), as the cpu backend trains;
//   - onnx: the onnx backend's executable, runAsync(feeds, params): the ONNX translation of
//           the graph, params and batch fed each run, random draws filled, outputs into
//           preallocated tensors;
//   - ort:  a hand-written onnxruntime-node session of the very same ONNX bytes and session
//           options, its input tensors made once and its outputs preallocated: the least any
//           caller of ONNX Runtime can do, so onnx / ort is the overhead that is ours.
// Rounds of the three alternate, in a rotating order, so a busy machine slows all alike;
// each round runs a variant for at least 25 ms. PyTorch (bench/onnx_torch.py, OMP_WAIT_POLICY=PASSIVE, 2
// threads) times the autoencoder's step and encoder just before and just after; the mean
// is its number. Prints JSON (runs per second, medians) with the machine and its load.
// Run from the repository root: `npx tsx bench/onnx.ts [--seconds 4] [--workloads a,b]`.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { checkProgram } from "../compiler/check/check.js";
import { nodeFileHost } from "../compiler/check/file-host.js";
import { initialTensor, lowerModel } from "../compiler/lower/index.js";
import { buildModelPlan } from "../compiler/plan/index.js";
import { Source } from "../language/source.js";
import type { TensorFeed } from "../runtime/backends/backend.js";
import { compileCpu } from "../runtime/backends/cpu/index.js";
import { createOnnxBackend, loadOrt, sessionOptions, type OrtTensor } from "../runtime/backends/onnx/index.js";
import { instantiateBatchGraph } from "../runtime/ir/batch-graph.js";
import type { KernelGraph } from "../runtime/kernel/graph.js";
import { planKernelGraph } from "../runtime/kernel/plan.js";
import { prepareStep, type PreparedStep } from "./prepare-step.js";

const args = process.argv.slice(2);
const option = (flag: string): string | undefined => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const SECONDS = Number(option("--seconds") ?? 4);
const only = option("--workloads")?.split(",");
const PYTHON = "/usr/bin/python3";

interface Workload {
  readonly name: string;
  readonly batch: number;
  readonly prepare: () => PreparedStep;
  /** PyTorch's anchor, where bench/onnx_torch.py has one. */
  readonly torch?: "step" | "encode";
}

const AE = "examples/mnist-autoencoder.repr";
const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

/** The autoencoder's `encode` function at `batch`, with its weights (seed 1) and random images. */
function prepareEncode(batch: number): PreparedStep {
  const { program } = checkProgram(new Source(AE, readFileSync(AE, "utf8")), nodeFileHost);
  const plan = buildModelPlan(program, "Autoencoder", {});
  const graph = planKernelGraph(instantiateBatchGraph(plan.functions.find((f) => f.name === "encode")!.graph, batch));
  const lowered = lowerModel(program, "Autoencoder", { batch: 1, mode: "eval" });
  const params: Record<string, TensorFeed> = {};
  for (const p of lowered.params) if (graph.params.some((q) => q.name === p.name)) params[p.name] = initialTensor(p, 1);
  const feeds: Record<string, TensorFeed> = {};
  for (const i of graph.inputs) feeds[i.name] = { shape: i.shape, data: Float32Array.from({ length: size(i.shape) }, (_, k) => ((k * 7919) % 1000) / 1000) };
  return { graph, params, feeds };
}

const step = (name: string, file: string, model: string, batch: number, torch?: "step"): Workload => ({ name, batch, prepare: () => prepareStep({ file, model }, batch), ...(torch ? { torch } : {}) });
const WORKLOADS: readonly Workload[] = [
  step("autoencoder step", AE, "Autoencoder", 128, "step"),
  { name: "autoencoder encode", batch: 1024, prepare: () => prepareEncode(1024), torch: "encode" },
  step("colorization step", "examples/colorization.repr", "Colorize", 64),
  step("contrastive step", "examples/contrastive.repr", "Contrastive", 256),
  step("masked-autoencoder step", "examples/masked-autoencoder.repr", "MAE", 256),
  step("skipgram step", "examples/skipgram.repr", "SkipGram", 256),
  step("tiny-gpt step", "examples/tiny-gpt.repr", "TinyGPT", 64),
  step("transfer step", "examples/transfer.repr", "Classifier", 128),
];

function torch(workload: "step" | "encode", batch: number): { runs_per_s?: number; skipped?: string } {
  const run = spawnSync(PYTHON, ["bench/onnx_torch.py", workload, "--batch", String(batch), "--threads", "2", "--seconds", String(Math.min(SECONDS, 3))], {
    encoding: "utf8",
    env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
  });
  if (run.status !== 0) return { skipped: (run.stderr || run.error?.message || "no torch").trim().split("\n").at(-1)! };
  return JSON.parse(run.stdout) as { runs_per_s: number };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const ort = await loadOrt();
const onnx = await createOnnxBackend();

/** A hand-written session of `bytes`: inputs made once, outputs preallocated. */
async function handWritten(graph: KernelGraph, bytes: Uint8Array, prepared: PreparedStep, drawNames: readonly { name: string; shape: readonly number[] }[]): Promise<() => Promise<unknown>> {
  const session = await ort.InferenceSession.create(bytes, sessionOptions({}));
  const tensor = (dtype: "f32" | "i32", data: ArrayLike<number>, shape: readonly number[]): OrtTensor =>
    new ort.Tensor(dtype === "f32" ? "float32" : "int32", dtype === "f32" ? Float32Array.from(data) : Int32Array.from(data), shape);
  const feeds: Record<string, OrtTensor> = {};
  for (const v of graph.inputs) feeds[v.name] = tensor(v.dtype, prepared.feeds[v.name]!.data, v.shape);
  for (const v of graph.params) feeds[v.name] = tensor(v.dtype, prepared.params[v.name]!.data, v.shape);
  for (const d of drawNames) feeds[d.name] = tensor("f32", new Float32Array(size(d.shape)).fill(0.5), d.shape);
  const fetches: Record<string, OrtTensor> = {};
  for (const o of graph.outputs) fetches[o.name] = tensor(o.dtype, new Float32Array(size(o.shape)), o.shape);
  return () => session.run(feeds, fetches);
}

const results: Record<string, unknown> = {};
for (const w of WORKLOADS.filter((w) => only === undefined || only.some((o) => w.name.startsWith(o)))) {
  const prepared = w.prepare();
  const { graph, feeds, params } = prepared;
  const torchBefore = w.torch ? torch(w.torch, w.batch) : undefined;
  const cpu = compileCpu(graph);
  const exe = onnx.compile(graph);
  const drawInputs = (JSON.parse(new TextDecoder().decode(exe.bytes).match(/\[\{"input":"draw[^]*?\}\]/)?.[0] ?? "[]") as { input: string; shape: number[] }[]).map((d) => ({ name: d.input, shape: d.shape }));
  const direct = await handWritten(graph, exe.bytes, prepared, drawInputs);
  const variants: { name: string; run: () => unknown; rounds: number[] }[] = [
    { name: "cpu", run: () => cpu.run(feeds, params), rounds: [] },
    { name: "onnx", run: () => exe.runAsync(feeds, params), rounds: [] },
    { name: "ort", run: direct, rounds: [] },
  ];
  for (const v of variants) for (let r = 0; r < 3; r++) await v.run(); // warm up
  const start = performance.now();
  for (let round = 0; performance.now() - start < SECONDS * 1000 || round < 3; round++) {
    // Each round starts with the next variant, so none always follows the same one.
    for (const v of [...variants.slice(round % 3), ...variants.slice(0, round % 3)]) {
      let n = 0;
      const t0 = performance.now();
      do {
        await v.run();
        n++;
      } while (performance.now() - t0 < 25);
      v.rounds.push((n * 1000) / (performance.now() - t0));
    }
  }
  const torchAfter = w.torch ? torch(w.torch, w.batch) : undefined;
  const entry: Record<string, unknown> = { batch: w.batch, kernels: graph.kernels.length };
  for (const v of variants) entry[v.name] = +median(v.rounds).toFixed(1);
  const [c, o, d] = ["cpu", "onnx", "ort"].map((k) => entry[k] as number);
  if (torchBefore?.runs_per_s && torchAfter?.runs_per_s) {
    const t = (torchBefore.runs_per_s + torchAfter.runs_per_s) / 2;
    entry["pytorch_2_threads"] = +t.toFixed(1);
    entry["onnx_over_pytorch"] = +(o! / t).toFixed(2);
  } else if (w.torch) entry["pytorch_2_threads"] = torchAfter?.skipped ?? "skipped";
  entry["onnx_over_cpu"] = +(o! / c!).toFixed(2);
  entry["onnx_over_ort"] = +(o! / d!).toFixed(2);
  exe.dispose();
  results[w.name] = entry;
  console.error(w.name, JSON.stringify(entry));
}
console.log(
  JSON.stringify(
    { bench: "onnx", unit: "runs per second (median of rounds)", node: process.version, cpu: os.cpus()[0]?.model, cores: os.cpus().length, load: os.loadavg().map((l) => +l.toFixed(2)), date: new Date().toISOString(), workloads: results },
    null,
    2,
  ),
);
