/**
 * The WebGPU device the tests share: Dawn (the `webgpu` package) on
 * SwiftShader, Chromium's software Vulkan, so the tests need no GPU. Where no
 * adapter comes up, `gpu` is null and the tests skip, saying why.
 */
import { existsSync } from "node:fs";
import { constants } from "node:os";
import type { TensorFeeds, TensorValue } from "../../runtime/backends/backend.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import { createWebGpuBackend, planShaderGroups, type FusedGroup, type ShaderGroupOptions, type WebGpuBackend } from "../../runtime/backends/webgpu/index.js";
import { primitiveGraph } from "../../runtime/backends/webgpu/primitive-graph.js";
import type { Graph } from "../../runtime/ir/node.js";
import type { KernelGraph } from "../../runtime/kernel/graph.js";
import { planKernelGraph, type PlanOptions } from "../../runtime/kernel/plan.js";
import { expectOutputsAgree } from "../cpu/compare.js";

const CHROMIUM = "/usr/lib/chromium";

/** Points Vulkan at SwiftShader before Dawn makes its instance, and loads Chromium's Vulkan loader where the system has none. */
function useSwiftShader(): void {
  if (!existsSync(`${CHROMIUM}/vk_swiftshader_icd.json`)) return;
  process.env.VK_ICD_FILENAMES ??= `${CHROMIUM}/vk_swiftshader_icd.json`;
  // Dawn opens "libvulkan.so.1" by name; once a library of that soname is loaded, the name finds it.
  // process.dlopen throws because it is no Node module, but RTLD_NODELETE (0x1000) keeps it loaded.
  try {
    process.dlopen({ exports: {} }, `${CHROMIUM}/libvulkan.so.1`, constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL | 0x1000);
  } catch {
    // Expected: "Module did not self-register".
  }
}

useSwiftShader();

/** The shared backend, or null when there is no adapter. */
export const gpu: WebGpuBackend | null = await createWebGpuBackend();

/** Why the WebGPU tests skip, or null when they run. */
export const skipReason: string | null = gpu === null ? "no WebGPU adapter (the webgpu package found no Vulkan/SwiftShader)" : null;
if (skipReason !== null) console.warn(`test/webgpu: skipped: ${skipReason}`);

/** Runs `kg` on the WebGPU backend (fused unless `fuse` is false). */
export async function runGpu(kg: KernelGraph, feeds: TensorFeeds, params: TensorFeeds = {}, fuse = true): Promise<Record<string, TensorValue>> {
  const exe = gpu!.compile(kg, { fuse });
  try {
    return await exe.runAsync(feeds, params);
  } finally {
    exe.destroy();
  }
}

/** Runs `graph` on the reference and WebGPU backends and expects agreement: i32 exactly, f32 within `tol` relative to the output's scale. */
export async function expectAgree(graph: Graph, feeds: TensorFeeds = {}, tol = 1e-6, params: TensorFeeds = {}, plan: PlanOptions = {}): Promise<KernelGraph> {
  const kg = planKernelGraph(graph, plan);
  const ref = compileReference(kg).run(feeds, params);
  const got = await runGpu(kg, feeds, params);
  expectOutputsAgree("gpu", graph.outputs.map((o) => o.name), got, ref, tol);
  return kg;
}

/** The shader groups of a (fused) kernel graph, over its ops spread out one per kernel (`graph`). */
export function shaderGroups(kg: KernelGraph, options: Omit<ShaderGroupOptions, "partition"> = {}): FusedGroup[] & { graph: KernelGraph } {
  const { graph, partition } = primitiveGraph(kg);
  return Object.assign(planShaderGroups(graph, { ...options, partition }), { graph });
}
