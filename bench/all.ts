// The CPU backend against its anchors, every workload of issue 12 in one run (`npm run bench`).
// Prints one JSON object on stdout (progress on stderr):
//
// - wasm_simd_peak: this machine's WebAssembly SIMD peak (bench/wasm-peak.ts) at 1 and N threads
//   for mul+add and relaxed madd; the instruction the CPU backend uses (relaxed madd where the
//   engine has it) is the one every `fraction_of_peak` divides by, at the threads the run used;
// - matmul n³ for n = 256, 512, 1024, 4096: repr's CPU backend on 1 and N threads, in GFLOP/s;
// - the autoencoder (examples/mnist-autoencoder.repr) training step at batch 128 and 256 and its
//   encoder at batch 1024, through `Model.trainStep` / `Model.call` (cli/bench/model-bench.ts, as
//   `repr bench` times them), with effective GFLOP/s from the model's arithmetic (570 MFLOP per
//   step at batch 256: 2 flop per weight per example forward, 4 backward, no input gradient for
//   the first layer);
// - every example's own training step (examples/*.repr: the model its first pipeline trains, at
//   that pipeline's first batch).
//
// Each workload is timed side by side with its anchors, one after another in the same minute:
//   - PyTorch (/usr/bin/python3, bench/torch_anchors.py) at 1 and 2 threads, OMP_WAIT_POLICY=PASSIVE:
//     the autoencoder written by hand (bench/onnx_torch.py), every example as the module
//     `repr compile --target pytorch` writes (bench/onnx_torch_step.py), same tensors and batch;
//     each workload in a process of its own, so that its peak memory is its own;
//   - jax-js and TensorFlow.js on WebAssembly (bench/js-anchors.mjs) for the autoencoder's
//     workloads, pinned in bench/package.json and installed on first use (`npm ci --prefix bench`).
// The PyTorch anchor counts only when it runs on OpenBLAS: `update-alternatives` must point
// libblas.so.3 at OpenBLAS and its 1024³ matmul must pass 100 GFLOP/s on 2 threads; otherwise
// `pytorch_anchor.valid` is false with the reason, and its ratios are not to be quoted.
// Rates are medians of rounds (cli/bench/measure.ts, bench/torch_timing.py); peak bytes are peak
// resident bytes less those before the workload, beside the planned arena for repr.
//
// Usage, from the repository root: `npm run bench -- [--seconds S] [--quick]`.
//   --quick: each workload for a fraction of a second, the examples at batch 4, no 4096³ matmul,
//            PyTorch's workloads in one process; for checking the output's shape, not for numbers.
// Numbers are comparable only within one run; on a shared machine they say little.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { basename, join } from "node:path";
import { checkProgram } from "../compiler/check/check.js";
import { nodeFileHost } from "../compiler/check/file-host.js";
import { buildModelPlan } from "../compiler/plan/index.js";
import { Source } from "../language/source.js";
import { measure } from "../cli/bench/measure.js";
import { benchModel, exampleData, type BenchResult } from "../cli/bench/model-bench.js";
import { initialTensors } from "../runtime/api/init.js";
import type { ModelPlan } from "../runtime/api/plan.js";
import { stepFeeds } from "../runtime/api/step-feeds.js";
// The CPU backend's worker threads, as the Node entry and the CLI install them.
import "../runtime/backends/cpu/node-threads.js";
import { compileCpu } from "../runtime/backends/cpu/index.js";
import { instantiateBatchGraph as instantiate } from "../runtime/ir/batch-graph.js";
import { IRBuilder } from "../runtime/ir/builder.js";
import { planKernelGraph } from "../runtime/kernel/plan.js";
import { writePytorchStep, type NamedTensor } from "./pytorch-module.js";
import { wasmSimdPeaks } from "./wasm-peak.js";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const option = (flag: string): string | undefined => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const SECONDS = QUICK ? 0.05 : Number(option("--seconds") ?? 3);
if (!(SECONDS > 0)) throw new Error(`--seconds must be a positive number, got '${option("--seconds")}'`);
const PYTHON = "/usr/bin/python3";
const THREADS = os.availableParallelism();
const scratch = mkdtempSync(join(os.tmpdir(), "repr-bench-all-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));
const log = (text: string): boolean => process.stderr.write(`${text}\n`);
const round = (x: number, digits = 2): number => +x.toFixed(digits);
/** a / b, or null when either is missing. */
const ratio = (a: number | null | undefined, b: number | null | undefined): number | null => (typeof a === "number" && typeof b === "number" && b > 0 ? round(a / b) : null);

// ---------------------------------------------------------------------------------------------
// Anchors in other processes.

/** One PyTorch workload (bench/torch_anchors.py's forms), with the id its result comes back under. */
type TorchWorkload = { id: string } & ({ kind: "matmul"; n: number } | { kind: "step" | "encode"; batch: number } | { kind: "generated"; folder: string; cls: string; step: string });
type TorchRate = { runs_per_s: number; rounds: number; peak_bytes: number };
type TorchResult = { threads?: Record<string, TorchRate>; error?: string; torch?: string };

/** Runs PyTorch workloads in one process; their results by id (an error or the reason none ran, per workload). */
function torch(workloads: readonly TorchWorkload[]): Map<string, TorchResult> {
  const run = spawnSync(PYTHON, ["bench/torch_anchors.py", JSON.stringify(workloads), "--threads", `1,${Math.min(2, THREADS) === 1 ? 1 : 2}`, "--seconds", String(Math.min(SECONDS, 3))], {
    encoding: "utf8",
    env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
    maxBuffer: 1 << 24,
  });
  const results = new Map<string, TorchResult>();
  for (const line of (run.stdout ?? "").split("\n").filter((l) => l.startsWith("{"))) {
    const r = JSON.parse(line) as TorchResult & { id: string };
    results.set(r.id, r);
  }
  const why = run.error?.message ?? ((run.stderr ?? "").trim().split("\n").at(-1) || `exit ${String(run.status)}`);
  for (const w of workloads) if (!results.has(w.id)) results.set(w.id, { error: `no result: ${why}` });
  return results;
}

/** PyTorch's workloads: in full runs one process each (its own peak), queued here and run by `flushTorch`. */
let torchQueue: TorchWorkload[] = [];
const torchResults = new Map<string, TorchResult>();
function torchNow(w: TorchWorkload): void {
  if (QUICK) torchQueue.push(w);
  else torchResults.set(w.id, torch([w]).get(w.id)!);
}
function flushTorch(): void {
  if (torchQueue.length > 0) for (const [id, r] of torch(torchQueue)) torchResults.set(id, r);
  torchQueue = [];
}
/** Runs/s of a PyTorch result at `threads`, or null. */
const torchRate = (id: string, threads: number): number | null => torchResults.get(id)?.threads?.[String(threads)]?.runs_per_s ?? null;
const torchPeak = (id: string): number | null => {
  const t = torchResults.get(id)?.threads;
  return t === undefined ? null : (t["1"]?.peak_bytes ?? null);
};

/** Installs bench/package.json's pinned JavaScript anchors when they are missing; null when ready, else why not. */
function installJsAnchors(): string | null {
  if (existsSync("bench/node_modules/@jax-js/jax/package.json") && existsSync("bench/node_modules/@tensorflow/tfjs-backend-wasm/package.json")) return null;
  log("installing the JavaScript anchors: npm ci --prefix bench");
  const r = spawnSync("npm", ["ci", "--prefix", "bench", "--ignore-scripts", "--no-audit", "--no-fund"], { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
  return r.status === 0 ? null : `npm ci --prefix bench failed: ${(r.stderr ?? r.error?.message ?? "").trim().split("\n").at(-1)}`;
}
const jsMissing = installJsAnchors();

/** A jax-js or TensorFlow.js workload's runs/s (bench/js-anchors.mjs), or why there is none. */
function jsAnchor(library: "jax" | "tfjs", workload: "step" | "encode", batch: number): { runs_per_s?: number; peak_bytes?: number; loss_first?: number; loss_last?: number; skipped?: string } {
  if (jsMissing !== null) return { skipped: jsMissing };
  const r = spawnSync(process.execPath, ["--import", "tsx", "bench/js-anchors.mjs", library, workload, "--batch", String(batch), "--seconds", String(Math.min(SECONDS, 3)), "--threads", String(Math.min(THREADS, 2))], {
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  const line = (r.stdout ?? "").split("\n").find((l) => l.startsWith("{"));
  if (r.status !== 0 || line === undefined) return { skipped: (r.stderr ?? r.error?.message ?? "").trim().split("\n").find((l) => /Error/.test(l))?.slice(0, 200) ?? `exit ${String(r.status)}` };
  return JSON.parse(line) as { runs_per_s: number };
}

// ---------------------------------------------------------------------------------------------
// The machine, its peak, and whether PyTorch's anchor is OpenBLAS.

const blas = spawnSync("update-alternatives", ["--display", "libblas.so.3-x86_64-linux-gnu"], { encoding: "utf8" });
const blasLink = (blas.stdout ?? "").split("\n").find((l) => l.includes("currently points to"))?.trim() ?? null;
log("WebAssembly SIMD peak");
const peak = await wasmSimdPeaks(THREADS, QUICK ? 2e5 : 2e6);
const result: Record<string, unknown> = {
  bench: "all",
  quick: QUICK,
  seconds_per_workload: SECONDS,
  date: new Date().toISOString(),
  node: process.version,
  cpu: os.cpus()[0]?.model ?? null,
  cores: THREADS,
  load_before: os.loadavg().map((l) => round(l)),
  repr_threads: THREADS,
  wasm_simd_peak: { instruction_used: peak.instruction, gflops: peak.gflops, used_1_thread: peak.used_1, [`used_${THREADS}_threads`]: peak.used_n },
};

// ---------------------------------------------------------------------------------------------
// Matmul.

const matmul: Record<string, unknown> = {};
for (const n of [256, 512, 1024, 4096]) {
  if (QUICK && n === 4096) {
    matmul[n] = { skipped: "--quick" };
    continue;
  }
  log(`matmul ${n}`);
  const b = new IRBuilder();
  const kg = planKernelGraph(b.graph({ c: b.matmul(b.input("a", [n, n]), b.input("b", [n, n])) }));
  const value = (salt: number) => ({ shape: [n, n], data: Float32Array.from({ length: n * n }, (_, i) => ((i * 2654435761 + salt) % 1000) / 1000 - 0.5) });
  const feeds = { a: value(1), b: value(2) };
  // A 4096³ product is seconds long: fewer runs, rounds of one.
  const big = n >= 4096 ? { warmup: 1, minRounds: 2, roundMs: 0 } : {};
  const gflops = async (threads: number): Promise<number> => {
    const exe = compileCpu(kg, { threads });
    return round(((await measure(() => exe.run(feeds, {}), { seconds: SECONDS, ...big })).perSecond * 2 * n ** 3) / 1e9, 1);
  };
  const [one, all] = [await gflops(1), await gflops(THREADS)];
  const id = `matmul ${n}`;
  torchNow({ id, kind: "matmul", n });
  matmul[n] = { repr_1_thread: one, [`repr_${THREADS}_threads`]: all, fraction_of_peak_1_thread: ratio(one, peak.used_1), [`fraction_of_peak_${THREADS}_threads`]: ratio(all, peak.used_n), id };
}

// ---------------------------------------------------------------------------------------------
// The autoencoder and every example, through the model API.

function planOf(file: string, model?: string): { plan: ModelPlan; batch: number } | { skipped: string } {
  const { program, diagnostics } = checkProgram(new Source(file, readFileSync(file, "utf8")), nodeFileHost);
  if (diagnostics.some((d) => d.severity === "error")) return { skipped: `${file} does not check` };
  const name = model ?? program.pipelines.find((p) => p.model !== null)?.model ?? program.models[0]?.name;
  if (name === undefined) return { skipped: "no model" };
  const plan = buildModelPlan(program, name);
  if (plan.training.length === 0) return { skipped: `model ${name} has no loss` };
  const stage = plan.pipelines[0]?.steps.find((s) => s.kind === "pretrain" || s.kind === "adapt");
  const batch = stage !== undefined && "training" in stage ? stage.training.batch : plan.training[0]!.batch;
  return { plan, batch };
}

/** repr's rate and memory for one workload of the model API. */
async function repr(plan: ModelPlan, name: string, batch: number): Promise<BenchResult> {
  const { results } = await benchModel(plan, { backend: "cpu", batch, only: [name], seconds: SECONDS, ...(QUICK ? { warmup: 1, minRounds: 1 } : {}) });
  return results[0]!;
}

const reprEntry = (r: BenchResult) => ({
  repr_runs_per_s: round(r.runsPerSecond),
  repr_examples_per_s: Math.round(r.examplesPerSecond),
  repr_peak_bytes: r.peakBytes,
  repr_arena_bytes: r.arenaBytes,
});

const AE = planOf("examples/mnist-autoencoder.repr");
if ("skipped" in AE) throw new Error(`examples/mnist-autoencoder.repr: ${AE.skipped}`);
const dims = [784, 256, 64, 32, 64, 256, 784];
const weights = dims.slice(1).reduce((s, d, i) => s + d * dims[i]!, 0);
const encoderWeights = 784 * 256 + 256 * 64 + 64 * 32;
const autoencoder: Record<string, Record<string, unknown>> = {};
const aeWorkloads: { key: string; name: "train" | "encode"; torch: "step" | "encode"; batch: number; flop: number }[] = [
  { key: "step_batch_128", name: "train", torch: "step", batch: 128, flop: 128 * (6 * weights - 2 * 784 * 256) },
  { key: "step_batch_256", name: "train", torch: "step", batch: 256, flop: 256 * (6 * weights - 2 * 784 * 256) },
  { key: "encode_batch_1024", name: "encode", torch: "encode", batch: 1024, flop: 1024 * 2 * encoderWeights },
];
for (const w of aeWorkloads) {
  log(`autoencoder ${w.key}`);
  const r = await repr(AE.plan, w.name, w.batch);
  const id = `autoencoder ${w.key}`;
  torchNow({ id, kind: w.torch, batch: w.batch });
  const jax = jsAnchor("jax", w.torch, w.batch);
  const tfjs = jsAnchor("tfjs", w.torch, w.batch);
  const effective = (r.runsPerSecond * w.flop) / 1e9;
  autoencoder[w.key] = {
    batch: w.batch,
    effective_mflop_per_run: Math.round(w.flop / 1e6),
    ...reprEntry(r),
    repr_effective_gflops: round(effective, 1),
    [`fraction_of_peak_${THREADS}_threads`]: ratio(effective, peak.used_n),
    jax_js: jax,
    tfjs_wasm: tfjs,
    repr_over_jax_js: ratio(r.runsPerSecond, jax.runs_per_s),
    repr_over_tfjs_wasm: ratio(r.runsPerSecond, tfjs.runs_per_s),
    id,
  };
}

const examples: Record<string, Record<string, unknown>> = {};
for (const file of readdirSync("examples").filter((f) => f.endsWith(".repr")).sort()) {
  const name = basename(file, ".repr");
  const found = planOf(join("examples", file));
  if ("skipped" in found) {
    examples[name] = { skipped: found.skipped };
    continue;
  }
  const { plan } = found;
  const batch = QUICK ? 4 : found.batch;
  log(`example ${name} (${plan.model}, batch ${batch})`);
  const r = await repr(plan, "train", batch);
  // The same step in PyTorch: the generated module, from the plan's initial tensors and the same batch.
  const training = plan.training[0]!;
  const data = exampleData(training.inputs, batch);
  const initial = initialTensors(plan, 1);
  const tensors: NamedTensor[] = plan.tensors.map((t) => ({ name: t.name, dtype: t.dtype === "i32" ? "i32" : "f32", shape: t.shape, data: initial.get(t.name)!.data }));
  const inputs: NamedTensor[] = training.inputs.map((i) => ({ name: i.name, dtype: i.dtype === "i32" ? "i32" : "f32", shape: [batch, ...i.shape], data: data[i.name]! }));
  for (const [feed, t] of stepFeeds(training, data, 1000)) {
    if (feed !== training.updatesInput) inputs.push({ name: feed, dtype: t.data instanceof Int32Array ? "i32" : "f32", shape: t.shape, data: t.data });
  }
  const folder = mkdtempSync(join(scratch, `${name}-`));
  const id = `example ${name}`;
  torchNow({ id, kind: "generated", folder, cls: writePytorchStep(folder, plan, tensors, inputs), step: training.name });
  examples[name] = { model: plan.model, batch, kernels: planKernelGraph(instantiate(training.graph, batch)).kernels.length, ...reprEntry(r), id };
}

// ---------------------------------------------------------------------------------------------
// PyTorch's numbers and ratios, and whether its anchor counts.

flushTorch();
const torchMatmul1024 = torchRate("matmul 1024", 2);
const torchGflops1024 = torchMatmul1024 === null ? null : round((torchMatmul1024 * 2 * 1024 ** 3) / 1e9, 1);
const reasons: string[] = [];
if (blasLink === null || !/openblas/i.test(blasLink)) reasons.push(`libblas.so.3 is not OpenBLAS (${blasLink ?? "update-alternatives knows no libblas.so.3-x86_64-linux-gnu"})`);
if (torchGflops1024 === null || torchGflops1024 <= 100) reasons.push(`PyTorch's 1024³ matmul on 2 threads ran at ${torchGflops1024 ?? "no"} GFLOP/s, not above 100`);
result["pytorch_anchor"] = { python: PYTHON, torch: [...torchResults.values()].find((r) => r.torch)?.torch ?? null, blas: blasLink, matmul_1024_gflops_2_threads: torchGflops1024, valid: reasons.length === 0, ...(reasons.length > 0 ? { void_because: reasons } : {}) };

/** Adds PyTorch's rates, peak and repr's ratios to an entry that has an `id`. */
function withTorch(entry: Record<string, unknown>, reprRate: number | null, flop?: number): Record<string, unknown> {
  const id = entry["id"] as string;
  delete entry["id"];
  const r = torchResults.get(id);
  if (r?.error !== undefined || r?.threads === undefined) return { ...entry, pytorch: { skipped: r?.error ?? "not run" } };
  const [one, two] = [torchRate(id, 1), torchRate(id, 2)];
  const gf = (rate: number | null) => (flop === undefined || rate === null ? {} : { gflops: round((rate * flop) / 1e9, 1) });
  return {
    ...entry,
    pytorch_1_thread: { runs_per_s: one, ...gf(one) },
    pytorch_2_threads: { runs_per_s: two, ...gf(two) },
    pytorch_peak_bytes: torchPeak(id),
    repr_over_pytorch_1_thread: ratio(reprRate, one),
    repr_over_pytorch_2_threads: ratio(reprRate, two),
  };
}
for (const n of Object.keys(matmul)) {
  const e = matmul[n] as Record<string, unknown>;
  if ("skipped" in e) continue;
  // Ratios of runs/s are ratios of GFLOP/s: repr's at its thread count against PyTorch's.
  const flop = 2 * Number(n) ** 3;
  matmul[n] = withTorch(e, ((e[`repr_${THREADS}_threads`] as number) * 1e9) / flop, flop);
}
for (const [key, e] of Object.entries(autoencoder)) autoencoder[key] = withTorch(e, e["repr_runs_per_s"] as number);
for (const [key, e] of Object.entries(examples)) if (!("skipped" in e)) examples[key] = withTorch(e, e["repr_runs_per_s"] as number);
result["matmul_gflops"] = matmul;
result["autoencoder"] = autoencoder;
result["examples_train_step"] = examples;
result["load_after"] = os.loadavg().map((l) => round(l));
console.log(JSON.stringify(result, null, 2));
process.exit(0);
