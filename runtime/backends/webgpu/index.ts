/**
 * The WebGPU backend: WGSL generated per kernel (`wgsl.ts`), run on a device
 * from `device.ts`. See runtime/README.md.
 */
export { createWebGpuBackend, type WebGpuBackend, type WebGpuOptions } from "./device.js";
export { compileWebGpu, type DispatchTime, type WebGpuCompileOptions, type WebGpuExecutable } from "./executor.js";
export { planShaderGroups, type FusedGroup, type ShaderGroupOptions } from "./shader-groups.js";
export { kernelWgsl, planDispatches, renderGroup, renderKernel, OP_RENDERERS, type Dispatch, type DispatchOptions, type RenderedKernel, type TensorType } from "./wgsl.js";
