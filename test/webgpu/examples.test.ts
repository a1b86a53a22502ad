/**
 * Every example model's training step (batch 2), planned as the WebGPU home
 * plans it (attention joined into `attention` kernels), compiles for WebGPU,
 * and one step agrees with the CPU backend (planned for every backend): the loss within float32 tolerance, every
 * parameter's gradient within 1e-3 of its largest element (the tolerances of
 * test/gradients/cpu-train-step.test.ts). The slowest file here: SwiftShader
 * compiles every kernel's shader (about a minute in all on two cores).
 */
import { describe, expect, it } from "vitest";
import { initialize, lowerModel, lowerTrainStep, STEP_INPUT } from "../../compiler/lower/index.js";
import type { TensorFeed } from "../../runtime/backends/backend.js";
import { compileCpu } from "../../runtime/backends/cpu/index.js";
import { kernelWgsl } from "../../runtime/backends/webgpu/index.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { examplePrograms, modelFeeds } from "../gradients/helpers.js";
import { gpu, skipReason } from "./gpu.js";

const TOL = 1e-4;
const GRAD_TOL = 1e-3;

describe.skipIf(skipReason !== null)("every example model's training step on webgpu", () => {
  for (const { file, program } of examplePrograms()) {
    for (const model of program.models) {
      it(`${file}: ${model.name}`, async () => {
        const lowered = lowerModel(program, model.name, { batch: 2, mode: "train" });
        const step = lowerTrainStep(lowered, null);
        const graph = lowered.builder.graph({
          ...Object.fromEntries(step.graph.outputs.map((o) => [o.name, o.node])),
          ...Object.fromEntries([...step.grads].map(([name, g]) => [`grad:${name}`, g])),
        });
        const kg = planKernelGraph(graph);
        const params: Record<string, TensorFeed> = {};
        for (const [name, data] of initialize(lowered.params, 1)) {
          const p = lowered.params.find((q) => q.name === name)!;
          params[name] = { shape: p.shape, data: p.dtype === "i32" ? Int32Array.from(data) : Float32Array.from(data) };
        }
        for (const s of step.state) params[s.name] = { shape: s.node.shape, data: new Float32Array(s.node.shape.reduce((a, d) => a * d, 1)) };
        const feeds: Record<string, TensorFeed> = { ...modelFeeds(lowered, model) };
        if (kg.inputs.some((i) => i.name === STEP_INPUT)) feeds[STEP_INPUT] = { shape: [], data: [0] };
        const cpu = compileCpu(kg).run(feeds, params);
        // Planned as the WebGPU home plans: attention joined into one kernel (tiny-gpt's every head).
        const forGpu = planKernelGraph(graph, { attention: true, attentionBindings: gpu!.device.limits.maxStorageBuffersPerShaderStage, wideViews: true });
        if (file.includes("tiny-gpt")) {
          const joined = forGpu.kernels.filter((k) => k.kind === "attention").length;
          expect(joined).toBeGreaterThan(0);
          // Each runs whole, as one flash-attention dispatch, and its backward as two flash dispatches (the device's binding limit).
          const heads = kernelWgsl(forGpu, { maxBindings: gpu!.device.limits.maxStorageBuffersPerShaderStage }).map((s) => s.wgsl.split("\n")[0]!);
          expect(heads.filter((h) => h.startsWith("// attention (flash")).length).toBe(joined);
          expect(heads.filter((h) => h.startsWith("// attention backward (flash")).length).toBe(2 * joined);
        }
        if (file.includes("colorization")) {
          // Its two convolutions run with their bias, activation and max pool, each as one dispatch.
          expect(kernelWgsl(forGpu).filter((s) => s.wgsl.startsWith("// convolution with max pool")).length).toBe(2);
        }
        const exe = gpu!.compile(forGpu);
        const web = await exe.runAsync(feeds, params);
        exe.destroy();
        const [lc, lw] = [cpu["loss"]!.data[0]!, web["loss"]!.data[0]!];
        expect(Math.abs(lw - lc), `loss: webgpu ${lw}, cpu ${lc}`).toBeLessThanOrEqual(TOL * Math.max(1, Math.abs(lc)));
        for (const o of kg.outputs.filter((o) => o.name.startsWith("grad:"))) {
          const [c, w] = [cpu[o.name]!.data, web[o.name]!.data];
          let scale = 0;
          for (const v of c) scale = Math.max(scale, Math.abs(v));
          let worst = 0;
          c.forEach((v, j) => (worst = Math.max(worst, Math.abs(w[j]! - v))));
          if (!(worst <= Math.max(GRAD_TOL * scale, 1e-6))) expect.fail(`${o.name}: error ${worst} of the largest gradient ${scale}`);
        }
      }, 240_000); // SwiftShader compiles a few hundred shaders per model: tens of seconds for the largest.
    }
  }
});
