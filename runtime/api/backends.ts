/**
 * Which backend a `Model` runs on, and the home of its tensors there.
 * `"auto"` takes WebGPU where a GPU adapter is available (`navigator.gpu` in a
 * browser, Dawn through the `webgpu` package in Node), else in Node the onnx
 * backend where `onnxruntime-node` and `protobufjs` are installed and the
 * model's training steps suit it (`onnxSuits`: measured faster than the CPU
 * backend on every workload of bench/onnx.ts but one kind), and the CPU
 * everywhere else. A software adapter (SwiftShader) counts as none for `"auto"`: the
 * CPU backend is faster than a GPU emulated on the same CPU. Asked for by
 * name, `"webgpu"` takes any adapter, software ones included; in Node it
 * needs the `webgpu` package (an optional peer dependency), and says so.
 */
import { cpuBackend } from "../backends/cpu/index.js";
import { referenceBackend } from "../backends/reference/executor.js";
import { createOnnxBackend, type OnnxBackend } from "../backends/onnx/index.js";
import { createWebGpuBackend, type WebGpuBackend } from "../backends/webgpu/index.js";
import { instantiateBatchGraph, type BatchGraph } from "../ir/batch-graph.js";
import { topoSort, type Node } from "../ir/node.js";
import { MissingPackageError } from "../optional-packages.js";
import { ReprError } from "./errors.js";
import type { TensorHome } from "./home.js";
import { hostHome } from "./host-home.js";
import { webGpuHome } from "./webgpu-home.js";

/** The backends a model can ask for: `auto` picks the best one available. */
export type BackendChoice = "auto" | "cpu" | "reference" | "webgpu" | "onnx";

const CHOICES: readonly BackendChoice[] = ["auto", "cpu", "reference", "webgpu", "onnx"];

/** The onnx backend of this process (ONNX Runtime, shared by every model), or the package it lacks. */
let sharedOnnx: Promise<OnnxBackend | MissingPackageError> | undefined;

function onnx(): Promise<OnnxBackend | MissingPackageError> {
  return (sharedOnnx ??= createOnnxBackend().catch((error: unknown) => {
    if (error instanceof MissingPackageError) return error;
    sharedOnnx = undefined;
    throw error;
  }));
}

/** The WebGPU backend of this process (one device, shared by every model), null without an adapter, or the package it lacks. */
let sharedWebGpu: Promise<WebGpuBackend | MissingPackageError | null> | undefined;

function webGpu(): Promise<WebGpuBackend | MissingPackageError | null> {
  return (sharedWebGpu ??= createWebGpuBackend().catch((error: unknown) => (error instanceof MissingPackageError ? error : null)));
}

/** A training step a home will run: its graph, symbolic in the batch, and its batch. */
export interface StepGraph {
  readonly graph: BatchGraph;
  readonly batch: number;
}

/**
 * Whether ONNX Runtime suits these training steps better than the CPU
 * backend. Measured side by side (bench/onnx.ts; bench/RESULTS.md,
 * 2026-12-08): ONNX Runtime ran the dense examples' training steps and the
 * autoencoder's encoder faster than the CPU backend with its threads, but
 * not two kinds of step:
 * - skip-gram's, gathers and scatters of embedding tables with no matrix
 *   product: ONNX Runtime copies a whole table at every ScatterND
 *   (bench/onnx-profile.ts), where the CPU backend adds rows in place. So a
 *   step suits it only while the elements its scatters write are at most a
 *   thousandth of its matmuls' flops (skip-gram: 1.5 M elements, no flops;
 *   the masked autoencoder and tiny-gpt, which scatter into their
 *   embeddings too: 18,000 and 51,000 flops per element);
 * - steps made mostly of convolutions, whose windows the CPU backend's
 *   implicit GEMMs read in place: colorization's (79% of its matmul flops
 *   read windows) ran 0.81× as fast on ONNX Runtime, contrastive's (47%)
 *   1.00× and byol's (50%) 1.07×. So a step suits it only while at most
 *   two thirds of its matmul flops read windows.
 */
export function onnxSuits(steps: readonly StepGraph[]): boolean {
  let [flops, windowed, scattered] = [0, 0, 0];
  for (const s of steps) {
    const w = work(s);
    flops += w.flops;
    windowed += w.windowed;
    scattered += w.scattered;
  }
  return scattered * 1000 <= flops && windowed * 3 <= flops * 2;
}

/** A step's matmul flops, those of them that read an image's windows, and the elements its scatters write. */
interface StepWork {
  readonly flops: number;
  readonly windowed: number;
  readonly scattered: number;
}

/** Per step graph and batch, its work. */
const worked = new WeakMap<BatchGraph, Map<number, StepWork>>();

function work(s: StepGraph): StepWork {
  const byBatch = worked.get(s.graph) ?? worked.set(s.graph, new Map()).get(s.graph)!;
  const known = byBatch.get(s.batch);
  if (known !== undefined) return known;
  let [flops, windowed, scattered] = [0, 0, 0];
  const g = instantiateBatchGraph(s.graph, s.batch);
  for (const n of topoSort(g.outputs.map((o) => o.node))) {
    const size = n.shape.reduce((a, d) => a * d, 1);
    if (n.op === "matmul") {
      const f = 2 * size * (n.inputs[0]!.shape.at(-1) ?? 1);
      flops += f;
      if (n.inputs.some(readsWindows)) windowed += f;
    } else if (n.op === "scatter_add") scattered += size;
  }
  const w = { flops, windowed, scattered };
  byBatch.set(s.batch, w);
  return w;
}

/** Whether a matmul operand is an image's windows: through reshapes and permutes, a concat of slices (a convolution's columns). */
function readsWindows(n: Node): boolean {
  const under = (x: Node): Node => (x.op === "reshape" || x.op === "permute" ? under(x.inputs[0]!) : x);
  const cols = under(n);
  return cols.op === "concat" && cols.inputs.every((x) => under(x).op === "slice");
}

/**
 * The home of a model's tensors on the backend `choice` names; for `auto`,
 * `steps` are the training steps it will run (none: a model that only
 * evaluates), which decide between ONNX Runtime and the CPU (`onnxSuits`).
 */
export async function openHome(choice: BackendChoice = "auto", steps: readonly StepGraph[] = []): Promise<TensorHome> {
  if (!CHOICES.includes(choice)) throw new ReprError(`there is no backend '${String(choice)}'; choose ${CHOICES.slice(0, -1).join(", ")} or ${CHOICES.at(-1)!}`);
  switch (choice) {
    case "cpu":
      return hostHome(cpuBackend);
    case "reference":
      return hostHome(referenceBackend);
    case "onnx": {
      if (!isNode()) throw new ReprError("the onnx backend runs in Node only (it needs the onnxruntime-node package); use backend 'auto' or 'cpu'");
      const backend = await onnx();
      if (backend instanceof MissingPackageError) throw new MissingPackageError(backend.packageName, { cause: backend });
      return hostHome(backend);
    }
    case "webgpu": {
      const gpu = await webGpu();
      if (gpu instanceof MissingPackageError) throw new MissingPackageError(gpu.packageName, { cause: gpu });
      if (gpu === null) throw new ReprError("the webgpu backend cannot run here: no WebGPU adapter is available (use backend 'auto' or 'cpu')");
      return webGpuHome(gpu);
    }
    case "auto": {
      // Without the webgpu package (an optional peer dependency), quietly the next choice.
      const gpu = (await mayHaveGpu()) ? await webGpu() : null;
      if (gpu !== null && !(gpu instanceof MissingPackageError) && !gpu.adapter.isFallback) return webGpuHome(gpu);
      // ONNX Runtime where it is installed, in Node, and the steps suit it (`onnxSuits`).
      if (!isNode() || !onnxSuits(steps)) return hostHome(cpuBackend);
      const native = await onnx().catch(() => null);
      return native !== null && !(native instanceof MissingPackageError) ? hostHome(native) : hostHome(cpuBackend);
    }
  }
}

/** Whether this is Node (where the onnx backend can run). */
function isNode(): boolean {
  return (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== undefined;
}

/**
 * Whether asking for a GPU adapter can succeed: in a browser, where
 * `navigator.gpu` exists; in Node on Linux, where a Vulkan loader is
 * installed (without one Dawn finds no adapter and prints a warning);
 * elsewhere in Node (Metal, D3D12), always.
 */
export async function mayHaveGpu(): Promise<boolean> {
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (nav?.gpu !== undefined && nav.gpu !== null) return true;
  const proc = (globalThis as { process?: { versions?: { node?: string }; platform?: string; env?: Record<string, string | undefined> } }).process;
  if (proc?.versions?.node === undefined) return false;
  if (proc.platform !== "linux") return true;
  // A computed specifier, so that browser bundlers leave the Node-only module alone.
  const fsName = "node:fs";
  const { existsSync } = (await import(fsName)) as { existsSync: (path: string) => boolean };
  const dirs = [...(proc.env?.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean), "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu", "/lib64", "/usr/local/lib"];
  return dirs.some((d) => existsSync(`${d}/libvulkan.so.1`));
}
