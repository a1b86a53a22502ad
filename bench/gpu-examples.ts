// Every example's training step and encode on WebGPU, and a 4096³ matmul, for bench/gpu-run.sh:
// checked against the CPU backend, timed, and each step's PyTorch equivalent written out for
// bench/gpu_torch_anchors.py to time on the same machine.
//
// For every model of examples/*.repr (then bench/models/*.repr) that has a training step, at the step's own batch
// (`--batch N` overrides it; `--quick` takes 2):
//   check   one model per backend from the same seed (1) and one batch of deterministic data
//           (ids in their range, floats in [0, 1)): the loss of one trainStep on each, their
//           relative difference, and the worst tensor afterwards (relative to its largest magnitude);
//   step    trainStep/s on the GPU, each reading its loss back: a warm-up, then windows of at
//           least 0.25 s until `--seconds` (1) have passed; the median window;
//   fit     updates/s of one `fit` over 8 batches' worth of examples, data kept on the GPU and
//           losses read every 32 updates;
//   encode  examples/s of the plan's first function on `--encode` (1024) examples, host to host
//           (`call`: inputs in, outputs out), the median of 3 calls after one untimed call;
//   torch   the module `repr compile --target pytorch` writes (repr's graph op by op), with the
//           GPU model's starting tensors and the same batch, in `--torch-dir` (one folder each).
// Then a matmul [n, n] × [n, n] (`--matmul 4096`; 256 with --quick) as a one-kernel graph: its
// result spot-checked against float64 dot products, and the dispatch timed alone (the operands
// stay on the GPU; `--matmul-reps` dispatches per submit, median of 5 submits): GFLOP/s.
// Prints a line of JSON per example as it ends, and one for the whole run. Run from the repository root:
//   npx tsx bench/gpu-examples.ts [--quick] [--only skipgram,transfer] [--torch-dir DIR]
// or bundled (bench/gpu-prepare.sh): node .gpu/gpu-examples.mjs ...
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { checkProgram } from "../compiler/check/check.js";
import { nodeFileHost, resolveImport, type FileHost } from "../compiler/check/file-host.js";
import { describePytorch, printPytorch } from "../compiler/emit/pytorch/index.js";
import { buildModelPlan } from "../compiler/plan/index.js";
import { Source } from "../language/source.js";
import type { ModelPlan, PlanInput } from "../runtime/api/plan.js";
import { stepFeeds } from "../runtime/api/step-feeds.js";
import { createWebGpuBackend, kernelWgsl } from "../runtime/backends/webgpu/index.js";
import { instantiateBatchGraph } from "../runtime/ir/batch-graph.js";
import { encodeSafetensors, type Tensor } from "../runtime/checkpoint/index.js";
import { IRBuilder } from "../runtime/ir/builder.js";
import { planKernelGraph } from "../runtime/kernel/plan.js";
import { Model } from "../runtime/index.js";

const args = process.argv.slice(2);
const option = (flag: string): string | undefined => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const quick = args.includes("--quick");
const SECONDS = Number(option("--seconds") ?? (quick ? 0.5 : 1));
const BATCH = option("--batch") !== undefined ? Number(option("--batch")) : quick ? 2 : null;
const ENCODE = Number(option("--encode") ?? (quick ? 8 : 1024));
const MATMUL = Number(option("--matmul") ?? (quick ? 256 : 4096));
const MATMUL_REPS = Number(option("--matmul-reps") ?? (quick ? 1 : 10));
const ONLY = option("--only")?.split(",");
const TORCH_DIR = option("--torch-dir");
const WINDOW_MS = 250;

const round = (x: number, digits = 4): number => +x.toPrecision(digits);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

/** Deterministic data: ids in their range, floats in [0, 1). */
function data(inputs: readonly PlanInput[], examples: number, salt: number): Record<string, Float32Array | Int32Array> {
  let seed = 1 + salt * 7919;
  const next = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  return Object.fromEntries(
    inputs.map((i) => {
      const n = examples * size(i.shape);
      const range = i.vocab ?? i.classes ?? 8;
      return [i.name, i.dtype === "i32" ? Int32Array.from({ length: n }, () => Math.floor(next() * range)) : Float32Array.from({ length: n }, next)];
    }),
  );
}

/** The worst |got − want| relative to the largest |want|. */
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

/** Dawn opens `libvulkan.so.1` by name: with SwiftShader asked for and no system loader, Chromium's (as test/webgpu/gpu.ts). */
function useChromiumVulkanLoader(): void {
  const icd = process.env["VK_ICD_FILENAMES"] ?? "";
  const loader = "/usr/lib/chromium/libvulkan.so.1";
  if (!icd.includes("swiftshader") || !existsSync(loader)) return;
  if (["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64"].some((d) => existsSync(`${d}/libvulkan.so.1`))) return;
  try {
    process.dlopen({ exports: {} }, loader, os.constants.dlopen.RTLD_NOW | os.constants.dlopen.RTLD_GLOBAL | 0x1000);
  } catch {
    // Expected: "Module did not self-register".
  }
}

/**
 * The file host, its standard library the repository's compiler/std: a bundle's own
 * `import.meta.url` (the checker's default) does not lead there.
 */
const host: FileHost = { ...nodeFileHost, resolve: (from, path) => resolveImport(from, path, join(process.cwd(), "compiler", "std")) };

/** Every (file, model) of examples/ with a training step, then those of bench/models/ (benchmark-only models: a 5×5 convolution with pooling). */
function exampleModels(): { file: string; model: string; plan: ModelPlan }[] {
  const out: { file: string; model: string; plan: ModelPlan }[] = [];
  const files = ["examples", join("bench", "models")].flatMap((dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".repr")).sort().map((f) => join(dir, f)) : []));
  for (const file of files) {
    const name = file.split("/").pop()!;
    const { program, diagnostics } = checkProgram(new Source(file, readFileSync(file, "utf8")), host);
    const errors = diagnostics.filter((d) => d.severity === "error");
    if (program === undefined || errors.length > 0) throw new Error(`${file} does not check: ${errors.map((d) => d.message).join("; ")}`);
    for (const m of program.models) {
      const key = `${name.replace(/\.repr$/, "")}/${m.name}`;
      if (ONLY !== undefined && !ONLY.some((o) => key.includes(o))) continue;
      let plan: ModelPlan;
      try {
        plan = buildModelPlan(program, m.name, BATCH === null ? {} : { trainBatch: BATCH });
      } catch (error) {
        console.error(`${key}: no plan: ${(error as Error).message.split("\n")[0]}`);
        continue;
      }
      if (plan.training.length > 0) out.push({ file, model: m.name, plan });
    }
  }
  return out;
}

/** Writes the generated PyTorch module with the model's tensors and one batch (noise tables included) into `folder`. */
async function writeTorch(folder: string, plan: ModelPlan, model: Model, batch: Record<string, Float32Array | Int32Array>, examples: number): Promise<string> {
  mkdirSync(folder, { recursive: true });
  const module = describePytorch([plan]);
  for (const [name, text] of printPytorch(module)) writeFileSync(join(folder, name), text);
  const asTensor = (shape: readonly number[], values: ArrayLike<number>, dtype: "f32" | "i32"): Tensor =>
    dtype === "f32" ? { dtype: "F32", shape: [...shape], data: Float32Array.from(values) } : { dtype: "I64", shape: [...shape], data: BigInt64Array.from(Array.from(values, (x) => BigInt(x))) };
  const tensors = new Map<string, Tensor>();
  for (const t of plan.tensors) {
    const c = await model.tensor(t.name);
    tensors.set(t.name, asTensor(c.shape, c.data, c.dtype));
  }
  writeFileSync(join(folder, "tensors.safetensors"), encodeSafetensors(tensors));
  const step = plan.training[0]!;
  const inputs = new Map<string, Tensor>();
  for (const i of step.inputs) inputs.set(i.name, asTensor([examples, ...i.shape], batch[i.name]!, i.dtype === "i32" ? "i32" : "f32"));
  for (const [name, feed] of stepFeeds(step, batch, 1000)) if (name !== step.updatesInput) inputs.set(name, asTensor(feed.shape, feed.data, feed.data instanceof Int32Array ? "i32" : "f32"));
  writeFileSync(join(folder, "inputs.safetensors"), encodeSafetensors(inputs));
  return module.classes[0]!.name;
}

/** One example's check and timings. */
async function benchExample(file: string, modelName: string, plan: ModelPlan): Promise<Record<string, unknown>> {
  const step = plan.training[0]!;
  const batch = step.batch;
  const batches = Array.from({ length: 8 }, (_, i) => data(step.inputs, batch, i));
  const t0 = performance.now();
  const gpu = await Model.create(plan, { backend: "webgpu", seed: 1 });
  const cpu = await Model.create(plan, { backend: "cpu", seed: 1 });
  // "colorization/Colorize", "conv-pool/ConvPool" (bench/models/ files named as examples are).
  const name = `${file.replace(/^(examples|bench\/models)\/|\.repr$/g, "")}/${modelName}`;
  let torchClass: string | null = null;
  if (TORCH_DIR !== undefined) torchClass = await writeTorch(join(TORCH_DIR, name.replace("/", "--")), plan, gpu, batches[0]!, batch);
  const lossCpu = await cpu.trainStep(step.name, batches[0]!);
  const t1 = performance.now();
  const lossGpu = await gpu.trainStep(step.name, batches[0]!);
  const firstStepMs = performance.now() - t1;
  let worst = { tensor: "", diff: 0 };
  for (const t of plan.tensors) {
    const diff = relativeDifference((await gpu.tensor(t.name)).data, (await cpu.tensor(t.name)).data);
    if (diff >= worst.diff) worst = { tensor: t.name, diff };
  }
  cpu.dispose();
  const check = { loss_cpu: lossCpu, loss_gpu: lossGpu, loss_rel_diff: round(Math.abs(lossGpu - lossCpu) / Math.max(1e-30, Math.abs(lossCpu)), 3), tensor_rel_diff: round(worst.diff, 3), tensor_worst: worst.tensor };
  console.error(`${name}: batch ${batch}, check ${JSON.stringify(check)}`);

  let k = 0;
  const next = () => batches[k++ % batches.length]!;
  for (let i = 0; i < 3; i++) await gpu.trainStep(step.name, next());
  const windows: number[] = [];
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000 || windows.length < 3) {
    const w = performance.now();
    let n = 0;
    do {
      await gpu.trainStep(step.name, next());
      n++;
    } while (performance.now() - w < WINDOW_MS);
    windows.push((1000 * n) / (performance.now() - w));
  }

  const all = data(step.inputs, 8 * batch, 99);
  const updates = Math.max(16, Math.min(2000, Math.round(median(windows) * SECONDS)));
  await gpu.fit(step.name, all, { updates: 8 });
  const t2 = performance.now();
  const fitted = await gpu.fit(step.name, all, { updates });
  const fitPerS = (1000 * fitted.updates) / (performance.now() - t2);

  let encode: Record<string, unknown> | null = null;
  const fn = plan.functions[0];
  if (fn !== undefined) {
    const inputs = data(fn.inputs, ENCODE, 5);
    await gpu.call(fn.name, inputs, ENCODE);
    const calls: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      await gpu.call(fn.name, inputs, ENCODE);
      calls.push(performance.now() - t);
    }
    encode = { function: fn.name, examples: ENCODE, ms: round(median(calls)), examples_per_s: round((1000 * ENCODE) / median(calls)) };
  }
  // Not disposed: a process that destroyed all its buffers and made a second large set once died in Dawn (shared GPU.md).
  keep.push(gpu);
  return {
    example: name,
    step: step.name,
    batch,
    kernels: stepKernels(step, batch),
    torch_class: torchClass,
    setup_ms: round(t1 - t0),
    first_step_ms: round(firstStepMs),
    check,
    train: { windows: windows.length, steps_per_s: round(median(windows)), ms_per_step: round(1000 / median(windows)) },
    fit: { updates: fitted.updates, read_every: 32, steps_per_s: round(fitPerS) },
    encode,
  };
}
const keep: Model[] = [];

/**
 * What the step runs on WebGPU, planned as the WebGPU home plans it: its
 * kernels, the attention and conv kernels among them, and how many of those
 * render whole (one flash-attention or implicit-GEMM dispatch each, a conv
 * with its epilogue and pool in one), so that
 * a GPU run says which kernels its numbers measure.
 */
function stepKernels(step: ModelPlan["training"][number], batch: number): Record<string, number> {
  const graph = planKernelGraph(instantiateBatchGraph(step.graph, batch), { attention: true, attentionBindings: gpuProbe!.device.limits.maxStorageBuffersPerShaderStage, wideViews: true });
  const shaders = kernelWgsl(graph, { maxBindings: gpuProbe!.device.limits.maxStorageBuffersPerShaderStage }).map((d) => d.wgsl.split("\n")[0]!);
  const count = (kind: string): number => graph.kernels.filter((k) => k.kind === kind).length;
  return {
    kernels: graph.kernels.length,
    dispatches: shaders.length,
    attention: count("attention"),
    attention_flash_dispatches: shaders.filter((c) => c.startsWith("// attention (flash")).length,
    conv: count("conv"),
    // A conv renders whole when no dispatch of its own pads or joins the windows: one whose result (its last op) is a pad or concat.
    window_copy_dispatches: shaders.filter((c) => /\b(pad|concat) (\(tiled\) )?→/.test(c)).length,
    // Convolutions whose epilogue and pool run in the same dispatch (wgsl-pool.ts).
    conv_pool_dispatches: shaders.filter((c) => c.startsWith("// convolution with")).length,
    // An attention kernel's backward pass as two flash dispatches (wgsl-attention-backward.ts).
    attention_backward_flash_dispatches: shaders.filter((c) => c.startsWith("// attention backward (flash")).length,
  };
}

/** `n` numbers in [−0.5, 0.5) from xorshift. */
function randomArray(n: number, seed: number): Float32Array {
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

/** The matmul: spot-checked, then its dispatch timed on the GPU. */
async function benchMatmul(n: number): Promise<Record<string, unknown>> {
  const backend = (await createWebGpuBackend())!;
  const b = new IRBuilder();
  const graph = planKernelGraph(b.graph({ y: b.matmul(b.input("x", [n, n]), b.param("w", [n, n])) }));
  const exe = backend.compile(graph);
  const x = randomArray(n * n, 1);
  const w = randomArray(n * n, 2);
  const got = (await exe.runAsync({ x: { shape: [n, n], data: x } }, { w: { shape: [n, n], data: w } }))["y"]!.data;
  // 64 entries against float64 dot products, relative to the largest magnitude a row of products can reach.
  let worst = 0;
  for (let s = 0; s < 64; s++) {
    const i = (s * 2654435761) % n;
    const j = (s * 40503 + 17) % n;
    let dot = 0;
    let scale = 0;
    for (let p = 0; p < n; p++) {
      dot += x[i * n + p]! * w[p * n + j]!;
      scale += Math.abs(x[i * n + p]! * w[p * n + j]!);
    }
    worst = Math.max(worst, Math.abs(got[i * n + j]! - dot) / scale);
  }
  const device = backend.device;
  const times: number[] = [];
  for (let r = 0; r < 6; r++) {
    const t = performance.now();
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (let q = 0; q < MATMUL_REPS; q++) exe.encode(pass);
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    if (r > 0) times.push((performance.now() - t) / MATMUL_REPS);
  }
  const ms = median(times);
  return { n, dispatches: graph.kernels.length, reps_per_submit: MATMUL_REPS, ms: round(ms), gflop_per_s: round((2 * n ** 3) / (ms * 1e6)), max_rel_err_of_64: round(worst, 3) };
}

/** A table of this script's JSON and bench/gpu_torch_anchors.py's, side by side. */
function table(files: readonly string[]): string {
  type Example = { example: string; batch?: number; error?: string; check?: { loss_rel_diff: number; tensor_rel_diff: number }; train?: { steps_per_s: number }; fit?: { steps_per_s: number }; encode?: { function: string; examples: number; examples_per_s: number } | null };
  type Step = { steps_per_s?: number; steps_per_s_nosync?: number; error?: string };
  type Repr = { adapter?: { description?: string; fallback?: boolean }; examples: Example[]; matmul: { n: number; gflop_per_s?: number; max_rel_err_of_64?: number; error?: string } };
  type Torch = { torch?: string; device?: string; gpu?: string; matmul?: { n: number; gflop_per_s?: number; error?: string }; steps?: Record<string, Step>; steps_error?: string };
  const found: { repr?: Repr; torch?: Torch; partial?: Example[] } = {};
  for (const f of files) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, "utf8").split("\n")) {
      if (!line.startsWith("{")) continue;
      const j = JSON.parse(line) as { bench?: string };
      if (j.bench === "gpu-examples") found.repr = j as unknown as Repr;
      if (j.bench === "gpu-example") (found.partial ??= []).push(j as unknown as Example);
      if (j.bench === "torch-anchors") found.torch = j as unknown as Torch;
    }
  }
  // Without the final line (the run was stopped), the examples that ended.
  const repr = found.repr ?? (found.partial ? { examples: found.partial, matmul: { n: MATMUL, error: "not reached (the run was stopped)" } } : null);
  const torch = found.torch ?? null;
  const cells = (xs: readonly (string | number | undefined)[]) => `| ${xs.map((x) => (x === undefined ? "—" : String(x))).join(" | ")} |`;
  const lines: string[] = [];
  if (repr !== null) lines.push(`repr on ${repr.adapter?.description ?? "?"}${repr.adapter?.fallback ? " (fallback)" : ""}`);
  if (torch !== null) lines.push(`PyTorch ${torch.torch} on ${torch.gpu ?? torch.device}, fp32, TF32 off${torch.steps_error ? `: ${torch.steps_error}` : ""}`);
  lines.push(cells(["example", "batch", "repr trainStep/s", "repr fit steps/s", "torch steps/s (loss.item)", "torch steps/s (no sync)", "repr / torch", "repr fit / torch no sync", "loss rel diff", "tensor rel diff", "repr encode ex/s"]));
  lines.push(cells(Array.from({ length: 11 }, () => "---")));
  for (const e of repr?.examples ?? []) {
    const t = torch?.steps?.[e.example];
    if (e.error !== undefined) {
      lines.push(cells([e.example, undefined, `error: ${e.error}`]));
      continue;
    }
    const ratio = t?.steps_per_s && e.train ? round(e.train.steps_per_s / t.steps_per_s, 3) : undefined;
    const fitRatio = t?.steps_per_s_nosync && e.fit ? round(e.fit.steps_per_s / t.steps_per_s_nosync, 3) : undefined;
    lines.push(cells([e.example, e.batch, e.train?.steps_per_s, e.fit?.steps_per_s, t?.steps_per_s ?? (t?.error ? `error: ${t.error}` : undefined), t?.steps_per_s_nosync, ratio, fitRatio, e.check?.loss_rel_diff, e.check?.tensor_rel_diff, e.encode ? `${e.encode.examples_per_s} (${e.encode.function}, ${e.encode.examples})` : undefined]));
  }
  if (repr !== null) {
    const m = repr.matmul;
    const tm = torch?.matmul;
    const ratio = m.gflop_per_s && tm?.gflop_per_s ? round(m.gflop_per_s / tm.gflop_per_s, 3) : undefined;
    lines.push("");
    lines.push(`matmul ${m.n}³ GFLOP/s: repr ${m.gflop_per_s ?? m.error}, PyTorch ${tm?.gflop_per_s ?? tm?.error ?? "—"}, repr / torch ${ratio ?? "—"} (max rel err of 64 entries ${m.max_rel_err_of_64 ?? "—"})`);
  }
  return lines.join("\n");
}

if (args.includes("--table")) {
  console.log(table(args.slice(args.indexOf("--table") + 1)));
  process.exit(0);
}

useChromiumVulkanLoader();
const gpuProbe = await createWebGpuBackend();
if (gpuProbe === null) {
  console.error("no WebGPU adapter");
  process.exit(2);
}
const adapter = gpuProbe.adapter;
const results: Record<string, unknown>[] = [];
for (const { file, model, plan } of exampleModels()) {
  try {
    const r = await benchExample(file, model, plan);
    // A line per example as it ends, so that a run stopped by its time limit keeps what it measured.
    console.log(JSON.stringify({ bench: "gpu-example", ...r }));
    results.push(r);
  } catch (error) {
    console.error(`${file} ${model}: failed: ${(error as Error).stack}`);
    results.push({ example: `${file} ${model}`, error: (error as Error).message.split("\n")[0] });
  }
}
let matmul: Record<string, unknown>;
try {
  matmul = await benchMatmul(MATMUL);
  console.error(`matmul: ${JSON.stringify(matmul)}`);
} catch (error) {
  matmul = { n: MATMUL, error: (error as Error).message.split("\n")[0] };
}
console.log(JSON.stringify({ bench: "gpu-examples", adapter: { vendor: adapter.vendor, description: adapter.description, fallback: adapter.isFallback }, node: process.version, date: new Date().toISOString(), seconds: SECONDS, examples: results, matmul }));
process.exit(0);
