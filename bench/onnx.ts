// The onnx backend beside the CPU backend (WebAssembly SIMD), a hand-written ONNX Runtime
// session of the same model, and PyTorch (OpenBLAS, 2 threads), side by side in one run.
//
// Workloads: the MNIST autoencoder's training step (batch 128 and 256), its encoder (batch
// 1024), one 1024×1024×1024 matmul (with GFLOP/s), then every example's own training step (forward, backward, Adam: the plan's `train` step) at
// the batch its pipeline uses. Each is the plan's graph at that batch, planned, with the
// initial tensors (seed 1), zero optimizer state and one batch of data (ids in range, the
// skipgram's noise tables made from it). For each, the same kernel graph runs on
//   - cpu:  compileCpu(graph).run(feeds, params), as the cpu backend trains;
//   - onnx: the onnx backend's executable, runAsync(feeds, params): the ONNX translation of the
//           graph, params and batch fed each run, random draws filled, outputs preallocated;
//   - ort:  a hand-written onnxruntime-node session of the very same ONNX bytes and session
//           options, its input tensors made once and its outputs preallocated (draws fixed):
//           the least any caller of ONNX Runtime can do, so onnx / ort is the overhead that is ours;
//   - ort_filling_draws (graphs with random draws): the same session filling its draws from the
//           shared generator before each run, as any caller wanting fresh masks and noise must;
//   - onnx_js_draws (graphs with random draws): the onnx backend with the generator forced to its
//           JavaScript fills (REPR_RNG_WASM=0), against its WebAssembly SIMD ones in `onnx`.
// With `--workloads draws,...` (or no --workloads) it first times the generator itself: uniforms and
// normals a second from the JavaScript fills and the WebAssembly ones.
// Rounds of the three alternate, in a rotating order, so a busy machine slows all alike; each
// round runs a variant for at least 25 ms. PyTorch runs just before and just after, with 2
// threads and OMP_WAIT_POLICY=PASSIVE; the mean is its number:
//   - for the autoencoder, bench/onnx_torch.py: the model written by hand in PyTorch;
//   - for every example's step, bench/onnx_torch_step.py: the module `repr compile --target
//     pytorch` writes (repr's graph op by op, autograd, the step's update), same tensors and batch.
// Prints JSON (runs per second, medians) with the machine and its load.
// Run from the repository root: `npx tsx bench/onnx.ts [--seconds 4] [--workloads a,b]`.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { TensorFeed } from "../runtime/backends/backend.js";
import { compileCpu } from "../runtime/backends/cpu/index.js";
// The CPU backend as Node users get it: its kernels split over worker threads (without this import, one thread).
import "../runtime/backends/cpu/node-threads.js";
import { createOnnxBackend, fillDraw, loadOrt, sessionOptions, type Draw, type OrtTensor } from "../runtime/backends/onnx/index.js";
import { fillNormal, fillNormalJs, fillUniform, fillUniformJs, rngWasm } from "../runtime/rng/index.js";
import { size, WORKLOADS, type Prepared, type Workload } from "./onnx-workloads.js";
import { writePytorchStep } from "./pytorch-module.js";

const args = process.argv.slice(2);
const option = (flag: string): string | undefined => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const SECONDS = Number(option("--seconds") ?? 4);
const only = option("--workloads")?.split(",");
const PYTHON = "/usr/bin/python3";
const scratch = mkdtempSync(join(os.tmpdir(), "repr-bench-onnx-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));

/** Writes the generated PyTorch module of `p` with its tensors and batch; returns its folder and class. */
function generated(p: Prepared): { folder: string; cls: string } {
  const folder = mkdtempSync(join(scratch, "pt-"));
  const named = (v: { name: string; dtype: "f32" | "i32"; shape: readonly number[] }, feed: TensorFeed) => ({ name: v.name, dtype: v.dtype, shape: v.shape, data: feed.data });
  const tensors = p.graph.params.map((v) => named(v, p.params.get(v.name)!));
  const inputs = p.graph.inputs.filter((v) => !["seed", "step", "updates"].includes(v.name)).map((v) => named(v, p.feeds.get(v.name)!));
  return { folder, cls: writePytorchStep(folder, p.plan!, tensors, inputs) };
}

function torch(w: Workload, pt: { folder: string; cls: string } | null): { runs_per_s?: number; skipped?: string } {
  const argv = w.torch === "generated" ? ["bench/onnx_torch_step.py", pt!.folder, pt!.cls, "train"] : ["bench/onnx_torch.py", w.torch, "--batch", String(w.batch)];
  const run = spawnSync(PYTHON, [...argv, "--threads", "2", "--seconds", String(Math.min(SECONDS, 3))], { encoding: "utf8", env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" } });
  if (run.status !== 0) return { skipped: (run.stderr || run.error?.message || "no torch").trim().split("\n").at(-1)! };
  return JSON.parse(run.stdout) as { runs_per_s: number };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const ort = await loadOrt();
const onnx = await createOnnxBackend();

/**
 * A hand-written session of `bytes`: inputs made once, outputs preallocated (unless `fetch` is
 * false: ONNX Runtime allocates them each run); with `fill`, its draws filled by the generator
 * before each run. `options`: the session options, the onnx backend's by default.
 */
async function handWritten(p: Prepared, bytes: Uint8Array, draws: readonly Draw[], fill = false, options: object = sessionOptions({}), fetch = true): Promise<() => Promise<unknown>> {
  const session = await ort.InferenceSession.create(bytes, options);
  const tensor = (dtype: "f32" | "i32", data: ArrayLike<number>, shape: readonly number[]): OrtTensor =>
    new ort.Tensor(dtype === "f32" ? "float32" : "int32", dtype === "f32" ? Float32Array.from(data) : Int32Array.from(data), shape);
  const feeds: Record<string, OrtTensor> = {};
  for (const v of p.graph.inputs) feeds[v.name] = tensor(v.dtype, p.feeds.get(v.name)!.data, v.shape);
  for (const v of p.graph.params) feeds[v.name] = tensor(v.dtype, p.params.get(v.name)!.data, v.shape);
  const buffers = draws.map((d) => new Float32Array(size(d.shape as number[])).fill(0.5));
  draws.forEach((d, k) => (feeds[d.input] = new ort.Tensor("float32", buffers[k]!, d.shape as number[])));
  const fetches: Record<string, OrtTensor> = {};
  for (const o of p.graph.outputs) fetches[o.name] = tensor(o.dtype, new Float32Array(size(o.shape)), o.shape);
  if (!fetch) return () => session.run(feeds);
  if (!fill) return () => session.run(feeds, fetches);
  return () => {
    draws.forEach((d, k) => fillDraw(d, p.feeds, buffers[k]!));
    return session.run(feeds, fetches);
  };
}

/** Runs `run` with the generator in JavaScript (runtime/rng/wasm.ts reads REPR_RNG_WASM at every fill). */
async function withJsDraws(run: () => Promise<unknown>): Promise<unknown> {
  const before = process.env["REPR_RNG_WASM"];
  process.env["REPR_RNG_WASM"] = "0";
  try {
    return await run();
  } finally {
    if (before === undefined) delete process.env["REPR_RNG_WASM"];
    else process.env["REPR_RNG_WASM"] = before;
  }
}

/**
 * The generator's own rate, millions of float32 elements a second (medians of rounds, alternating):
 * uniforms and normals from the JavaScript fills and from the WebAssembly ones (`fillUniform`,
 * `fillNormal`; null where this engine has no WebAssembly SIMD), 2^20 elements a fill.
 */
function drawRates(): Record<string, number | null> {
  const out = new Float32Array(1 << 20);
  const wasm = rngWasm() !== undefined;
  const kinds: [string, () => unknown][] = [
    ["uniform_js", () => fillUniformJs(out, 1, 2, 3, 4)],
    ["normal_js", () => fillNormalJs(out, 1, 2, 3, 4)],
    ...(wasm
      ? ([
          ["uniform_wasm", () => fillUniform(out, 1, 2, 3, 4)],
          ["normal_wasm", () => fillNormal(out, 1, 2, 3, 4)],
        ] as [string, () => unknown][])
      : []),
  ];
  const rounds = new Map<string, number[]>(kinds.map(([k]) => [k, []]));
  for (const [, f] of kinds) f();
  const start = performance.now();
  for (let round = 0; performance.now() - start < SECONDS * 500 || round < 3; round++) {
    for (const [k, f] of kinds) {
      let n = 0;
      const t0 = performance.now();
      do {
        f();
        n++;
      } while (performance.now() - t0 < 25);
      rounds.get(k)!.push((n * out.length) / ((performance.now() - t0) * 1000));
    }
  }
  const rates: Record<string, number | null> = { uniform_wasm: null, normal_wasm: null };
  for (const [k, r] of rounds) rates[k] = +median(r).toFixed(1);
  return rates;
}

/** Medians of runs per second of each variant, in rounds of at least 25 ms each, rotating which goes first. */
async function race(variants: { name: string; run: () => unknown; rounds: number[] }[]): Promise<void> {
  for (const v of variants) for (let r = 0; r < 3; r++) await v.run(); // warm up
  const start = performance.now();
  for (let round = 0; performance.now() - start < SECONDS * 1000 || round < 3; round++) {
    // Each round starts with the next variant, so none always follows the same one.
    for (const v of [...variants.slice(round % variants.length), ...variants.slice(0, round % variants.length)]) {
      let n = 0;
      const t0 = performance.now();
      do {
        await v.run();
        n++;
      } while (performance.now() - t0 < 25);
      v.rounds.push((n * 1000) / (performance.now() - t0));
    }
  }
}

/**
 * `--session-options`: instead of the comparison, the hand-written session of each workload's ONNX
 * bytes under other session options, side by side with the onnx backend's own (`as used`), and
 * with ONNX Runtime allocating the outputs each run instead of writing preallocated ones. Spinning
 * intra-op threads are left out: after its run such a session's threads spin on, taking the cores
 * from whichever variant runs next in the rotation (measured 0.26–1.15× in two sweeps, never a clear gain).
 */
async function sweepSessionOptions(w: Workload): Promise<Record<string, unknown>> {
  const p = w.prepare();
  const exe = onnx.compile(p.graph);
  const base = sessionOptions({}) as Record<string, unknown>;
  const options: [string, object, boolean][] = [
    ["as used", base, true],
    ["intraOpNumThreads 1", { ...base, intraOpNumThreads: 1 }, true],
    ["intraOpNumThreads 2", { ...base, intraOpNumThreads: 2 }, true],
    ["executionMode parallel, interOpNumThreads 2", { ...base, executionMode: "parallel", interOpNumThreads: 2 }, true],
    ["enableCpuMemArena false", { ...base, enableCpuMemArena: false }, true],
    ["enableMemPattern false", { ...base, enableMemPattern: false }, true],
    ["graphOptimizationLevel basic", { ...base, graphOptimizationLevel: "basic" }, true],
    ["graphOptimizationLevel extended", { ...base, graphOptimizationLevel: "extended" }, true],
    ["graphOptimizationLevel disabled", { ...base, graphOptimizationLevel: "disabled" }, true],
    ["outputs allocated by ONNX Runtime", base, false],
  ];
  const variants = await Promise.all(options.map(async ([name, o, fetch]) => ({ name, run: await handWritten(p, exe.bytes, exe.draws, false, o, fetch), rounds: [] as number[] })));
  await race(variants);
  exe.dispose();
  const asUsed = median(variants[0]!.rounds);
  const entry: Record<string, unknown> = { batch: w.batch, kernels: p.graph.kernels.length };
  for (const v of variants) entry[v.name] = { runs_per_s: +median(v.rounds).toFixed(1), over_as_used: +(median(v.rounds) / asUsed).toFixed(2) };
  return entry;
}

/**
 * A step's draws alone: how many uniforms and normals it fills, and the milliseconds filling all of
 * them takes with the JavaScript generator and with the WebAssembly one (medians of alternating rounds).
 */
function drawFillTimes(draws: readonly Draw[], feeds: Map<string, TensorFeed>): Record<string, number> {
  const buffers = draws.map((d) => new Float32Array(size(d.shape as number[])));
  const fillAll = (): void => draws.forEach((d, k) => fillDraw(d, feeds, buffers[k]!));
  const ways: [string, () => void][] = [
    ["fill_ms_js", () => void withJsDrawsSync(fillAll)],
    ["fill_ms_wasm", fillAll],
  ];
  const rounds = new Map<string, number[]>(ways.map(([k]) => [k, []]));
  const start = performance.now();
  for (let round = 0; performance.now() - start < 1000 || round < 3; round++) {
    for (const [k, f] of round % 2 === 0 ? ways : [...ways].reverse()) {
      const t0 = performance.now();
      f();
      rounds.get(k)!.push(performance.now() - t0);
    }
  }
  const count = (kind: string): number => draws.filter((d) => d.kind === kind).reduce((a, d) => a + size(d.shape as number[]), 0);
  return { uniforms: count("uniform"), normals: count("normal"), fill_ms_js: +median(rounds.get("fill_ms_js")!).toFixed(1), fill_ms_wasm: +median(rounds.get("fill_ms_wasm")!).toFixed(1) };
}

function withJsDrawsSync(run: () => void): void {
  const before = process.env["REPR_RNG_WASM"];
  process.env["REPR_RNG_WASM"] = "0";
  try {
    run();
  } finally {
    if (before === undefined) delete process.env["REPR_RNG_WASM"];
    else process.env["REPR_RNG_WASM"] = before;
  }
}

const results: Record<string, unknown> = {};
if (args.includes("--session-options")) {
  for (const w of WORKLOADS.filter((w) => only === undefined || only.some((o) => w.name.startsWith(o)))) {
    results[w.name] = await sweepSessionOptions(w);
    console.error(w.name, JSON.stringify(results[w.name]));
  }
  console.log(JSON.stringify({ bench: "onnx --session-options", unit: "runs per second (median of rounds)", node: process.version, cpu: os.cpus()[0]?.model, cores: os.cpus().length, load: os.loadavg().map((l) => +l.toFixed(2)), date: new Date().toISOString(), workloads: results }, null, 2));
  process.exit(0);
}
if (only === undefined || only.includes("draws")) {
  results["draws (M float32 elements/s)"] = drawRates();
  console.error("draws", JSON.stringify(results["draws (M float32 elements/s)"]));
}
for (const w of WORKLOADS.filter((w) => only === undefined || only.some((o) => w.name.startsWith(o)))) {
  const p = w.prepare();
  const { graph, feeds, params } = p;
  const pt = w.torch === "generated" ? generated(p) : null;
  const torchBefore = torch(w, pt);
  const cpu = compileCpu(graph);
  const exe = onnx.compile(graph);
  const direct = await handWritten(p, exe.bytes, exe.draws);
  const variants: { name: string; run: () => unknown; rounds: number[] }[] = [
    { name: "cpu", run: () => cpu.run(feeds, params), rounds: [] },
    { name: "onnx", run: () => exe.runAsync(feeds, params), rounds: [] },
    { name: "ort", run: direct, rounds: [] },
  ];
  // A graph with random draws: the hand-written session again, filling them each run as repr must.
  if (exe.draws.length > 0) variants.push({ name: "ort_filling_draws", run: await handWritten(p, exe.bytes, exe.draws, true), rounds: [] });
  // And the onnx backend with its draws filled by the JavaScript generator (REPR_RNG_WASM=0 for the run): what the WebAssembly one saves.
  if (exe.draws.length > 0) variants.push({ name: "onnx_js_draws", run: () => withJsDraws(() => exe.runAsync(feeds, params)), rounds: [] });
  await race(variants);
  const torchAfter = torch(w, pt);
  const entry: Record<string, unknown> = { batch: w.batch, kernels: graph.kernels.length };
  for (const v of variants) entry[v.name] = +median(v.rounds).toFixed(1);
  const [c, o, d] = ["cpu", "onnx", "ort"].map((k) => entry[k] as number);
  const anchor = w.torch === "generated" ? "pytorch_generated_2_threads" : "pytorch_2_threads";
  if (torchBefore.runs_per_s && torchAfter.runs_per_s) {
    const t = (torchBefore.runs_per_s + torchAfter.runs_per_s) / 2;
    entry[anchor] = +t.toFixed(1);
    entry["onnx_over_pytorch"] = +(o! / t).toFixed(2);
  } else entry[anchor] = torchAfter.skipped ?? "skipped";
  if (w.flops !== undefined) {
    entry["gflops"] = Object.fromEntries(
      [...variants.map((v) => [v.name, entry[v.name] as number] as const), [anchor, entry[anchor]] as const]
        .filter((e): e is readonly [string, number] => typeof e[1] === "number")
        .map(([k, r]) => [k, +((r * w.flops!) / 1e9).toFixed(1)]),
    );
  }
  entry["onnx_over_cpu"] = +(o! / c!).toFixed(2);
  entry["onnx_over_ort"] = +(o! / d!).toFixed(2);
  if (typeof entry["ort_filling_draws"] === "number") entry["onnx_over_ort_filling_draws"] = +(o! / (entry["ort_filling_draws"] as number)).toFixed(2);
  if (typeof entry["onnx_js_draws"] === "number") entry["onnx_over_onnx_js_draws"] = +(o! / (entry["onnx_js_draws"] as number)).toFixed(2);
  if (exe.draws.length > 0) entry["draws"] = drawFillTimes(exe.draws, feeds);
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
