// The MNIST autoencoder's training step on WebGPU: checked against the CPU backend, then
// timed, through the public `Model` API (what an app runs).
//
// For each train batch (256, 1024 and 8192 by default; the batch is fixed per plan) it
// builds the plan of examples/mnist-autoencoder.repr's `Autoencoder` (784-256-64-32-64-
// 256-784, relu, sigmoid, mse, Adam) with its own training step `train`, then:
//   correctness  one model per backend from the same seed: `encode` of one batch of
//                random images, then `--check-steps` (5) trainSteps on the same random
//                batches; the largest relative difference of the losses, of every tensor
//                after the steps (relative to the tensor's largest magnitude) and of the
//                codes;
//   train        steps/s of `trainStep` on the GPU (each reads its loss back): a warm-up,
//                then windows of at least 0.25 s each until `--seconds` (3) have passed;
//                the median window and the best;
//   fit          steps/s of one `fit` of about a second of updates on those batches;
//   encode       examples/s of `call("encode", ...)` on `--encode` (10,000) examples, the
//                functions compiled at `--encode-batch` (1000) examples: median of 3 calls.
// It also reports which backend `auto` picks. Prints one line of JSON per run.
//
// `--table FILE...` prints instead a table of JSON files this script and
// bench/train_step_torch_cuda.py wrote (bench/gpu-run.sh does both on the GPU machine).
// `--quick` is `--batches 256 --seconds 1 --encode 1000 --check-steps 2` with fewer
// warm-up steps and windows, for SwiftShader. `--backend cpu`
// times the CPU backend instead (and checks it against itself).
// Run from the repository root:
//   npx tsx bench/gpu-train-step.ts [--batches 256,1024,8192] [--seconds 3] [--quick] ...
// or bundled (bench/gpu-prepare.sh): node .gpu/gpu-train-step.mjs ...
import { instantiateBatchGraph } from "../runtime/ir/batch-graph.js";
import { planKernelGraph } from "../runtime/kernel/plan.js";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { checkProgram } from "../compiler/check/check.js";
import { nodeFileHost } from "../compiler/check/file-host.js";
import { buildModelPlan } from "../compiler/plan/index.js";
import { Source } from "../language/source.js";
import { initialTensors } from "../runtime/api/init.js";
import { checkInputs } from "../runtime/api/inputs.js";
import type { PlanTraining } from "../runtime/api/plan.js";
import { createWebGpuBackend } from "../runtime/backends/webgpu/index.js";
import { Model, type ModelPlan } from "../runtime/index.js";

const FILE = "examples/mnist-autoencoder.repr";
const MODEL = "Autoencoder";
const STEP = "train";

const args = process.argv.slice(2);
const option = (flag: string): string | undefined => {
  const at = args.indexOf(flag);
  return at < 0 ? undefined : args[at + 1];
};
const quick = args.includes("--quick");
const BATCHES = (option("--batches") ?? (quick ? "256" : "256,1024,8192")).split(",").map(Number);
const SECONDS = Number(option("--seconds") ?? (quick ? 1 : 3));
const ENCODE = Number(option("--encode") ?? (quick ? 1000 : 10_000));
const ENCODE_BATCH = Number(option("--encode-batch") ?? 1000);
const CHECK_STEPS = Number(option("--check-steps") ?? (quick ? 2 : 5));
const BACKEND = (option("--backend") ?? "webgpu") as "webgpu" | "cpu";
/** The shortest timed window, in milliseconds. */
const WINDOW_MS = 250;
/** The fewest warm-up steps and timed windows (a step on SwiftShader takes seconds). */
const WARMUP_STEPS = quick ? 1 : 5;
const MIN_WINDOWS = quick ? 2 : 5;

/** The worst |got − want| relative to the largest |want| (at least 1e-30), and that largest |want|. */
function relativeDifference(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let scale = 1e-30;
  let worst = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst / scale;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const round = (x: number, digits = 3): number => +x.toPrecision(digits);

/** `n` random numbers in [0, 1) from a Lehmer generator seeded with `seed`. */
function randomImages(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) out[i] = (s = (s * 48271) % 2147483647) / 2147483647;
  return out;
}

/**
 * Dawn opens the Vulkan loader `libvulkan.so.1` by name. Where the system has none but
 * Chromium's SwiftShader is asked for (VK_ICD_FILENAMES), loads Chromium's loader first so
 * that the name finds it (as test/webgpu/gpu.ts does).
 */
function useChromiumVulkanLoader(): void {
  const icd = process.env["VK_ICD_FILENAMES"] ?? "";
  const loader = "/usr/lib/chromium/libvulkan.so.1";
  if (!icd.includes("swiftshader") || !existsSync(loader)) return;
  if (["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64"].some((d) => existsSync(`${d}/libvulkan.so.1`))) return;
  try {
    // RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE: it stays loaded although it is no Node module.
    process.dlopen({ exports: {} }, loader, os.constants.dlopen.RTLD_NOW | os.constants.dlopen.RTLD_GLOBAL | 0x1000);
  } catch {
    // Expected: "Module did not self-register".
  }
}

/** The autoencoder's plan with its training step at `batch` examples. */
function plan(batch: number): ModelPlan {
  const { program } = checkProgram(new Source(FILE, readFileSync(FILE, "utf8")), nodeFileHost);
  if (program === undefined) throw new Error(`${FILE} does not check`);
  return buildModelPlan(program, MODEL, { trainBatch: batch });
}

/** Checks `BACKEND` against the CPU and times it at one train batch. */
async function benchBatch(batch: number): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const p = plan(batch);
  const planMs = performance.now() - t0;
  const step = p.training.find((t) => t.name === STEP)!;
  const perExample = step.inputs[0]!.shape.reduce((a, d) => a * d, 1);
  const input = step.inputs[0]!.name;
  const batches = Array.from({ length: CHECK_STEPS }, (_, i) => ({ [input]: randomImages(batch * perExample, 1 + i) }));

  // Correctness: the same seed, codes and steps on both backends.
  const cpu = await Model.create(p, { backend: "cpu", seed: 0 });
  const t1 = performance.now();
  const gpu = await Model.create(p, { backend: BACKEND, seed: 0 });
  const createMs = performance.now() - t1;
  if (gpu.backend !== BACKEND) throw new Error(`asked for backend ${BACKEND}, got ${gpu.backend}`);
  const probe = { [input]: randomImages(ENCODE_BATCH * perExample, 99) };
  const codesCpu = await cpu.call("encode", probe);
  const t2 = performance.now();
  const codesGpu = await gpu.call("encode", probe);
  const firstEncodeMs = performance.now() - t2;
  const lossesCpu: number[] = [];
  const lossesGpu: number[] = [];
  let firstStepMs = 0;
  for (const [i, b] of batches.entries()) {
    lossesCpu.push(await cpu.trainStep(STEP, b));
    const t = performance.now();
    lossesGpu.push(await gpu.trainStep(STEP, b));
    if (i === 0) firstStepMs = performance.now() - t;
  }
  let worstTensor = { name: "", diff: 0 };
  for (const name of gpu.tensorNames) {
    const diff = relativeDifference((await gpu.tensor(name)).data, (await cpu.tensor(name)).data);
    if (diff >= worstTensor.diff) worstTensor = { name, diff };
  }
  cpu.dispose();
  const correctness = {
    steps: CHECK_STEPS,
    losses_cpu: lossesCpu.map((l) => round(l, 7)),
    losses_gpu: lossesGpu.map((l) => round(l, 7)),
    loss_max_rel_diff: round(Math.max(...lossesGpu.map((l, i) => Math.abs(l - lossesCpu[i]!) / Math.abs(lossesCpu[i]!)))),
    tensor_max_rel_diff: round(worstTensor.diff),
    tensor_worst: worstTensor.name,
    encode_examples: ENCODE_BATCH,
    encode_max_rel_diff: round(relativeDifference(codesGpu, codesCpu)),
  };

  console.error(`batch ${batch}: correctness ${JSON.stringify(correctness)}`);

  // Train: warm-up, then windows of at least WINDOW_MS until SECONDS have passed.
  let k = 0;
  const next = () => batches[k++ % batches.length]!;
  const warm = performance.now();
  for (let i = 0; (i < WARMUP_STEPS || performance.now() - warm < 300) && i < 200; i++) await gpu.trainStep(STEP, next());
  const windows: number[] = [];
  let steps = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000 || windows.length < MIN_WINDOWS) {
    const w = performance.now();
    let n = 0;
    do {
      await gpu.trainStep(STEP, next());
      n++;
    } while (performance.now() - w < WINDOW_MS);
    windows.push((1000 * n) / (performance.now() - w));
    steps += n;
  }
  // The host's share of a step: checking the batch and, on the CPU, copying it into the graph's input array. On
  // WebGPU the batch's numbers are checked for finiteness on the GPU and fed as a view of the caller's array.
  const scratch = new Float32Array(batch * perExample);
  const hostTimes: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    checkInputs("bench", step.inputs, next(), batch, { finite: BACKEND !== "webgpu" });
    if (BACKEND !== "webgpu") scratch.set(batches[r % batches.length]![input]!);
    hostTimes.push(performance.now() - t);
  }
  const train = {
    windows: windows.length,
    steps,
    steps_per_s: round(median(windows), 4),
    best_steps_per_s: round(Math.max(...windows), 4),
    ms_per_step: round(1000 / median(windows)),
    host_ms_per_step: round(median(hostTimes)),
  };

  // Fit: about a second of updates over the check batches' examples, shuffled by `fit`.
  const all = new Float32Array(batches.length * batch * perExample);
  batches.forEach((b, i) => all.set(b[input]!, i * batch * perExample));
  const updates = Math.max(MIN_WINDOWS, Math.round(median(windows)));
  const t3 = performance.now();
  const fitted = await gpu.fit(STEP, { [input]: all }, { updates });
  const fit = { updates: fitted.updates, steps_per_s: round((1000 * fitted.updates) / (performance.now() - t3), 4) };

  // Encode: ENCODE examples, median of 3 calls after one untimed call.
  const images = { [input]: randomImages(ENCODE * perExample, 7) };
  await gpu.call("encode", images, ENCODE);
  const calls: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    await gpu.call("encode", images, ENCODE);
    calls.push(performance.now() - t);
  }
  const encode = { examples: ENCODE, batch: ENCODE_BATCH, ms: round(median(calls)), examples_per_s: round((1000 * ENCODE) / median(calls), 4) };
  // The GPU model is not disposed: a process that destroyed all its buffers and then made a
  // second large set once died in Dawn (shared GPU.md); the process's exit frees them.
  keep.push(gpu);
  const profile = BACKEND === "webgpu" ? await profileStep(p, step, batches[0]![input]!) : null;
  return { batch, kernels: planKernelGraph(instantiateBatchGraph(step.graph, batch)).kernels.length, plan_ms: round(planMs), create_ms: round(createMs), first_step_ms: round(firstStepMs), first_encode_ms: round(firstEncodeMs), correctness, train, fit, encode, profile };
}

/**
 * Where the step's GPU time goes: the step's graph compiled on a device of
 * its own and run with every dispatch submitted alone and waited for
 * (`profileAsync`; each time includes a submit's round trip). The second of
 * two runs (the first compiles pipelines): its total and costliest dispatches.
 */
async function profileStep(p: ModelPlan, step: PlanTraining, image: Float32Array): Promise<Record<string, unknown>> {
  const backend = (await createWebGpuBackend())!;
  keepAlive.push(backend);
  const exe = backend.compile(planKernelGraph(instantiateBatchGraph(step.graph, step.batch)));
  const params = new Map<string, { shape: readonly number[]; data: Float32Array | Int32Array }>(initialTensors(p, 0));
  for (const s of step.state) params.set(s.name, { shape: s.shape, data: new Float32Array(s.shape.reduce((a, d) => a * d, 1)) });
  const feeds = new Map<string, { shape: readonly number[]; data: Float32Array | Int32Array }>([
    [step.inputs[0]!.name, { shape: [step.batch, ...step.inputs[0]!.shape], data: image }],
    ["step", { shape: [], data: Int32Array.of(0) }],
    ["seed", { shape: [], data: Int32Array.of(0) }],
  ]);
  if (step.updatesInput !== null) feeds.set(step.updatesInput, { shape: [], data: Int32Array.of(1) });
  await exe.profileAsync(feeds, params);
  const times = await exe.profileAsync(feeds, params);
  const total = times.reduce((a, t) => a + t.ms, 0);
  const top = [...times].sort((a, b) => b.ms - a.ms).slice(0, 8).map((t) => ({ ops: t.ops, shape: t.shape, workgroups: t.workgroups, ms: round(t.ms) }));
  return { dispatches: times.length, total_ms: round(total), top };
}

/** Models kept to the end of the process (see `benchBatch`). */
const keep: Model[] = [];

/** The backend `auto` picks here. */
async function autoPick(): Promise<string> {
  const m = await Model.create(plan(BATCHES[0]!), { backend: "auto" });
  keep.push(m);
  return m.backend;
}

/**
 * The adapter Dawn gives first here (what the WebGPU backend asks for), from an instance
 * of its own that lives as long as the process; null when there is none.
 */
async function adapterInfo(): Promise<Record<string, unknown> | null> {
  const name = "webgpu"; // a computed specifier: the bundle leaves the package outside
  const dawn = (await import(name)) as { create: (options: string[]) => { requestAdapter(): Promise<{ info: Record<string, unknown> } | null> } };
  const instance = dawn.create([]);
  const adapter = await instance.requestAdapter();
  keepAlive.push(instance, adapter);
  if (adapter === null) return null;
  const { vendor, architecture, device, description, isFallbackAdapter } = adapter.info;
  return { vendor, architecture, device, description, fallback: isFallbackAdapter };
}
const keepAlive: unknown[] = [];

/** A table of what this script and bench/train_step_torch_cuda.py printed, from their JSON files. */
function table(files: readonly string[]): string {
  type Repr = { batch: number; correctness: { loss_max_rel_diff: number; tensor_max_rel_diff: number; encode_max_rel_diff: number }; train: { steps_per_s: number; ms_per_step: number; host_ms_per_step?: number }; fit?: { steps_per_s: number }; encode: { examples_per_s: number } };
  type Torch = { batch: number; steps_per_s: number; steps_per_s_nosync: number; steps_per_s_from_host?: number; encode_examples_per_s: number };
  const repr = new Map<number, Repr>();
  const torch = new Map<number, Torch>();
  const notes: string[] = [];
  for (const f of files) {
    for (const line of readFileSync(f, "utf8").split("\n")) {
      if (!line.startsWith("{")) continue;
      const j = JSON.parse(line) as { bench?: string; backend?: string; adapter?: { description?: string; fallback?: boolean } | null; auto?: string; device?: string; torch?: string; batches?: (Repr | Torch)[] };
      if (j.bench === "gpu-train-step") {
        const on = j.adapter ? ` on ${j.adapter.description}${j.adapter.fallback ? " (fallback)" : ""}` : "";
        notes.push(`repr: backend ${j.backend}${on}, auto picks ${j.auto}`);
        for (const b of j.batches as Repr[]) repr.set(b.batch, b);
      } else if (j.bench === "torch-train-step") {
        notes.push(`PyTorch ${j.torch} on ${j.device}, TF32 off`);
        for (const b of j.batches as Torch[]) torch.set(b.batch, b);
      }
    }
  }
  const cells = (xs: readonly (string | number | undefined)[]) => `| ${xs.map((x) => (x === undefined ? "—" : String(x))).join(" | ")} |`;
  const rows = [
    cells(["batch", "repr steps/s", "repr ms/step (host part)", "repr fit steps/s", "torch steps/s (loss.item)", "torch steps/s (no sync)", "torch steps/s (batch from host)", "repr / torch", "repr / torch from host", "loss rel diff", "tensor rel diff", "encode rel diff", "repr encode ex/s", "torch encode ex/s"]),
    cells(Array.from({ length: 14 }, () => "---")),
  ];
  for (const batch of [...new Set([...repr.keys(), ...torch.keys()])].sort((a, b) => a - b)) {
    const [r, t] = [repr.get(batch), torch.get(batch)];
    const ratio = r && t ? round(r.train.steps_per_s / t.steps_per_s) : undefined;
    const hostRatio = r && t?.steps_per_s_from_host ? round(r.train.steps_per_s / t.steps_per_s_from_host) : undefined;
    rows.push(cells([batch, r?.train.steps_per_s, r ? `${r.train.ms_per_step} (${r.train.host_ms_per_step ?? "—"})` : undefined, r?.fit?.steps_per_s, t?.steps_per_s, t?.steps_per_s_nosync, t?.steps_per_s_from_host, ratio, hostRatio, r?.correctness.loss_max_rel_diff, r?.correctness.tensor_max_rel_diff, r?.correctness.encode_max_rel_diff, r?.encode.examples_per_s, t?.encode_examples_per_s]));
  }
  return [...new Set(notes), ...rows].join("\n");
}

if (args.includes("--table")) {
  console.log(table(args.slice(args.indexOf("--table") + 1)));
} else {
  useChromiumVulkanLoader();
  const adapter = BACKEND === "webgpu" ? await adapterInfo() : null;
  const auto = await autoPick();
  const results: Record<string, unknown>[] = [];
  for (const batch of BATCHES) {
    const r = await benchBatch(batch);
    console.error(`batch ${batch}: ${JSON.stringify(r)}`);
    results.push(r);
  }
  const report = { bench: "gpu-train-step", model: `${FILE} ${MODEL}, adam`, backend: BACKEND, adapter, auto, node: process.version, cpu: os.cpus()[0]?.model, date: new Date().toISOString(), seconds: SECONDS, batches: results };
  console.log(JSON.stringify(report));
  // Dawn's handles can keep the event loop alive: leave once everything is printed.
  process.exit(0);
}
