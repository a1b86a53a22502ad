/**
 * Which backend a `Model` runs on, and the home of its tensors there.
 * `"auto"` takes WebGPU where a GPU adapter is available (`navigator.gpu` in a
 * browser, Dawn through the `webgpu` package in Node), else in Node the onnx
 * backend where `onnxruntime-node` and `protobufjs` are installed (measured
 * faster than the CPU backend on every workload of bench/onnx.ts), and the
 * CPU everywhere else. A software adapter (SwiftShader) counts as none for `"auto"`: the
 * CPU backend is faster than a GPU emulated on the same CPU. Asked for by
 * name, `"webgpu"` takes any adapter, software ones included; in Node it
 * needs the `webgpu` package (an optional peer dependency), and says so.
 */
import { cpuBackend } from "../backends/cpu/index.js";
import { referenceBackend } from "../backends/reference/executor.js";
import { createOnnxBackend, type OnnxBackend } from "../backends/onnx/index.js";
import { createWebGpuBackend, type WebGpuBackend } from "../backends/webgpu/index.js";
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

/** The home of a model's tensors on the backend `choice` names. */
export async function openHome(choice: BackendChoice = "auto"): Promise<TensorHome> {
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
      // ONNX Runtime where it is installed, in Node: measured 1.1–7 times the CPU backend on every
      // example's training step and the autoencoder's encoder (bench/onnx.ts, bench/RESULTS.md).
      const native = isNode() ? await onnx().catch(() => null) : null;
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
