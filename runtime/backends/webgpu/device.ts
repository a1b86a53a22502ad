/// <reference types="@webgpu/types" />
/**
 * Acquiring a WebGPU device: `navigator.gpu` in a browser, the `webgpu`
 * package (Dawn for Node) elsewhere. Device creation is asynchronous, so the
 * backend comes from `await createWebGpuBackend()`; its `compile` is then
 * synchronous like every backend's, and its executables run with `runAsync`.
 */
import { isMissingPackage, MissingPackageError, type OptionalPackage } from "../../optional-packages.js";
import type { Backend } from "../backend.js";
import { compileWebGpu, type WebGpuCompileOptions, type WebGpuExecutable } from "./executor.js";

/** The WebGPU backend: a `Backend` whose executables also have `runAsync` (and whose `run` throws). */
export interface WebGpuBackend extends Backend {
  readonly device: GPUDevice;
  /** What the adapter says of itself: vendor, architecture, and whether it is a software fallback (SwiftShader). */
  readonly adapter: { readonly vendor: string; readonly architecture: string; readonly description: string; readonly isFallback: boolean };
  compile(graph: Parameters<Backend["compile"]>[0], options?: WebGpuCompileOptions): WebGpuExecutable;
  /** Destroys the device. */
  destroy(): void;
}

/** Options of `createWebGpuBackend`. */
export interface WebGpuOptions {
  /** Use this device rather than requesting one. */
  readonly device?: GPUDevice;
  /** Dawn's options in Node (`create(options)` of the `webgpu` package), e.g. `["backend=vulkan"]`. */
  readonly dawnOptions?: readonly string[];
  /** False: compile one dispatch per kernel, unfused (a compile's own `fuse` option wins). */
  readonly fuse?: boolean;
}

/**
 * Every Dawn instance made here. Dawn's adapters and devices do not keep their
 * instance alive, and a collected instance leaves them pointing at freed
 * memory (the process then dies in `ProcessEvents`), so instances live as long
 * as the process: on `globalThis`, because a module can be evaluated more than
 * once in one process (a test runner isolating test files does so) and a
 * module-level list would be collected with its module.
 */
const DAWN_INSTANCES = Symbol.for("repr.webgpu.dawnInstances");
const dawnInstances: GPU[] = ((globalThis as Record<symbol, GPU[] | undefined>)[DAWN_INSTANCES] ??= []);

/**
 * The WebGPU entry point: `navigator.gpu` where it exists, else the `webgpu`
 * package's, or null when Dawn does not start. Throws `MissingPackageError`
 * where there is no `navigator.gpu` and the package is not installed (an
 * optional peer dependency: see optional-packages.ts).
 */
async function findGpu(dawnOptions: readonly string[]): Promise<GPU | null> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu !== undefined) return nav.gpu;
  // A computed specifier, so that browser bundlers leave the Node-only package alone.
  const name: OptionalPackage = "webgpu";
  try {
    const dawn = (await import(name)) as { create: (options: string[]) => GPU; globals: object };
    Object.assign(globalThis, dawn.globals);
    const gpu = dawn.create([...dawnOptions]);
    dawnInstances.push(gpu);
    return gpu;
  } catch (error) {
    if (isMissingPackage(error, name)) throw new MissingPackageError(name, { cause: error });
    return null;
  }
}

/** Creates the WebGPU backend, or null when no adapter is available; `MissingPackageError` in Node without the `webgpu` package. */
export async function createWebGpuBackend(options: WebGpuOptions = {}): Promise<WebGpuBackend | null> {
  let device = options.device;
  let about: WebGpuBackend["adapter"] = { vendor: "", architecture: "", description: "a device given by the caller", isFallback: false };
  if (device === undefined) {
    const gpu = await findGpu(options.dawnOptions ?? []);
    const adapter = gpu === null ? null : await gpu.requestAdapter({ powerPreference: "high-performance" });
    if (adapter === null) return null;
    const info = adapter.info as GPUAdapterInfo & { readonly isFallbackAdapter?: boolean };
    const legacy = (adapter as GPUAdapter & { readonly isFallbackAdapter?: boolean }).isFallbackAdapter;
    about = {
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description,
      isFallback: info.isFallbackAdapter === true || legacy === true,
    };
    // The adapter's own limits where they matter: bindings per kernel (concat) and buffer sizes.
    const { maxStorageBuffersPerShaderStage, maxStorageBufferBindingSize, maxBufferSize } = adapter.limits;
    device = await adapter.requestDevice({ requiredLimits: { maxStorageBuffersPerShaderStage, maxStorageBufferBindingSize, maxBufferSize } });
  }
  const dev = device;
  return {
    name: "webgpu",
    device: dev,
    adapter: about,
    compile: (graph, compileOptions) => compileWebGpu(dev, graph, { fuse: options.fuse, ...compileOptions }),
    destroy: () => dev.destroy(),
  };
}
