/**
 * A whole training step on WebGPU: the MNIST autoencoder's step graph
 * (forward, mse loss, backward, adam update) runs three updates on the CPU and
 * WebGPU backends from the same float32 initial weights and batches, each
 * feeding its own updated tensors back. Losses, gradients and updated tensors
 * agree within the tolerances of test/gradients/cpu-train-step.test.ts (both
 * backends are float32 here, with different summation orders).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import { initialize, lowerModel, lowerTrainStep } from "../../compiler/lower/index.js";
import { Source } from "../../language/source.js";
import type { TensorFeed, TensorValue } from "../../runtime/backends/backend.js";
import { compileCpu } from "../../runtime/backends/cpu/index.js";
import { kernelWgsl } from "../../runtime/backends/webgpu/index.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { numbers, relativeError } from "../cpu/compare.js";
import { gpu, skipReason, shaderGroups } from "./gpu.js";

const STEPS = 3;
const TOL = 1e-4;
const GRAD_TOL = 1e-3;
const LR = 1e-3;
const BATCH = 16;

type Run = (feeds: Record<string, TensorFeed>, params: Record<string, TensorFeed>) => Promise<Record<string, TensorValue>>;

/** STEPS updates on one backend, feeding `new:` outputs back; every step's outputs, copied. */
async function train(run: Run, initial: Record<string, TensorFeed>, batches: Record<string, TensorFeed>[]): Promise<Record<string, TensorValue>[]> {
  const params = { ...initial };
  const outputs: Record<string, TensorValue>[] = [];
  for (const batch of batches) {
    const out = await run(batch, params);
    const copy = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { shape: v.shape, dtype: v.dtype, data: v.data.slice() }]));
    outputs.push(copy);
    for (const [name, v] of Object.entries(copy)) if (name.startsWith("new:")) params[name.slice(4)] = { shape: v.shape, data: v.data };
  }
  return outputs;
}

describe.skipIf(skipReason !== null)("webgpu on a whole training step", () => {
  it("the MNIST autoencoder: three adam steps agree with the CPU backend", async () => {
    const path = "examples/mnist-autoencoder.repr";
    const { program } = checkProgram(new Source(path, readFileSync(path, "utf8")), nodeFileHost);
    const lowered = lowerModel(program!, "Autoencoder", { batch: BATCH, mode: "train" });
    const step = lowerTrainStep(lowered, null);
    const graph = lowered.builder.graph({
      ...Object.fromEntries(step.graph.outputs.map((o) => [o.name, o.node])),
      ...Object.fromEntries([...step.grads].map(([name, g]) => [`grad:${name}`, g])),
    });
    const kg = planKernelGraph(graph);
    expect(kernelWgsl(kg).length).toBe(shaderGroups(kg).length);

    const initial: Record<string, TensorFeed> = {};
    for (const [name, data] of initialize(lowered.params, 1)) {
      const p = lowered.params.find((q) => q.name === name)!;
      initial[name] = { shape: p.shape, data: Float32Array.from(data) };
    }
    for (const s of step.state) initial[s.name] = { shape: s.node.shape, data: new Float32Array(s.node.shape.reduce((a, d) => a * d, 1)) };
    const batches = Array.from({ length: STEPS }, (_, t) =>
      Object.fromEntries(
        kg.inputs.map((i) => {
          const n = i.shape.reduce((a, d) => a * d, 1);
          const data = i.dtype === "i32" ? Int32Array.from({ length: n }, () => t) : Float32Array.from(numbers(n, 100 + t, 0, 1));
          return [i.name, { shape: i.shape, data }];
        }),
      ),
    );

    const cpuExe = compileCpu(kg);
    const cpu = await train(async (f, p) => cpuExe.run(f, p), initial, batches);
    const gpuExe = gpu!.compile(kg);
    const web = await train((f, p) => gpuExe.runAsync(f, p), initial, batches);
    gpuExe.destroy();

    // Adam divides by √v: where rounding moves a gradient element by a fraction d of itself,
    // the update moves by up to about lr·min(2, 2d); parameters get that allowance on top of TOL.
    const allowance = new Map<string, Float64Array>();
    for (let t = 0; t < STEPS; t++) {
      const loss = [cpu[t]!["loss"]!.data[0]!, web[t]!["loss"]!.data[0]!];
      expect(Number.isFinite(loss[1]), `webgpu loss at step ${t}`).toBe(true);
      expect(Math.abs(loss[1]! - loss[0]!), `loss at step ${t}`).toBeLessThanOrEqual(TOL * Math.max(1, Math.abs(loss[0]!)));
      const names = Object.keys(cpu[t]!).sort((a, b) => Number(b.startsWith("grad:")) - Number(a.startsWith("grad:")));
      for (const name of names) {
        const [r, g] = [cpu[t]![name]!, web[t]![name]!];
        if (name.startsWith("grad:")) {
          let scale = 0;
          for (const v of r.data) scale = Math.max(scale, Math.abs(v));
          const slack = allowance.get(name.slice(5)) ?? new Float64Array(r.data.length);
          let worst = 0;
          r.data.forEach((v, j) => {
            const d = Math.abs(g.data[j]! - v);
            worst = Math.max(worst, d / Math.max(scale, 1e-30));
            slack[j]! += LR * Math.min(2, (2 * d) / Math.max(Math.abs(v), 1e-30));
          });
          allowance.set(name.slice(5), slack);
          const tol = t === 0 ? GRAD_TOL : 10 * GRAD_TOL;
          if (scale > 1e-12 && !(worst <= tol)) expect.fail(`step ${t}, ${name}: error ${worst} of the largest gradient ${scale}`);
        } else if (allowance.has(name.slice(4))) {
          const slack = allowance.get(name.slice(4))!;
          let scale = 1;
          for (const v of r.data) scale = Math.max(scale, Math.abs(v));
          r.data.forEach((v, j) => {
            const d = Math.abs(g.data[j]! - v);
            if (!(d <= TOL * scale + slack[j]!)) expect.fail(`step ${t}, ${name}[${j}]: webgpu ${g.data[j]}, cpu ${v}`);
          });
        } else {
          const err = relativeError(g.data, r.data);
          if (!(err <= TOL)) expect.fail(`step ${t}, ${name}: relative error ${err} > ${TOL}`);
        }
      }
    }
    // Training moved the loss on both backends.
    expect(web[STEPS - 1]!["loss"]!.data[0]).not.toBe(web[0]!["loss"]!.data[0]);
  });
});
