/**
 * `Model` on the WebGPU backend (Dawn on SwiftShader, test/webgpu/gpu.ts):
 * weights and optimizer state live in GPU buffers, so these tests check that
 * every operation gives what the CPU backend gives for the same plan, seed
 * and data, that frozen parts and refused updates leave the GPU copy as it
 * was, and that `auto` does not take a software adapter.
 */
import { describe, expect, it } from "vitest";
import { mayHaveGpu } from "../../runtime/api/backends.js";
import { Model, ReprError } from "../../runtime/index.js";
import { relativeError } from "../cpu/compare.js";
import { gpu, skipReason } from "../webgpu/gpu.js";
import { autoencoderPlan, tinyPlan } from "./plans.js";

/** Deterministic pixels in [0, 1]. */
function pixels(examples: number, salt = 0): Float32Array {
  return Float32Array.from({ length: examples * 784 }, (_, i) => (((i + salt * 31) * 7919) % 1000) / 1000);
}

/** Deterministic tiny-model examples: x in [−1, 1), labels 0..2 that depend on x. */
function tinyData(n: number): { x: Float32Array; label: Int32Array } {
  const x = Float32Array.from({ length: 4 * n }, (_, i) => Math.sin((i + 1) * 12.9898) % 1);
  const label = Int32Array.from({ length: n }, (_, r) => (x[4 * r]! > 0 ? (x[4 * r + 1]! > 0 ? 2 : 1) : 0));
  return { x, label };
}

describe.skipIf(skipReason !== null)("Model on WebGPU", () => {
  it("runs functions as the CPU does, for counts the batch does not divide", async () => {
    const plan = autoencoderPlan(4, 8);
    const [onGpu, onCpu] = await Promise.all([Model.create(plan, { backend: "webgpu", seed: 1 }), Model.create(plan, { backend: "cpu", seed: 1 })]);
    expect(onGpu.backend).toBe("webgpu");
    for (const count of [1, 4, 7]) {
      const image = pixels(count);
      for (const fn of ["encode", "reconstruct"]) {
        const got = await onGpu.call(fn, { image });
        expect(got.length).toBe(count * (fn === "encode" ? 32 : 784));
        expect(relativeError(got, await onCpu.call(fn, { image }))).toBeLessThan(1e-5);
      }
    }
    onGpu.dispose();
  });

  it("trains as the CPU does: the same losses, and the same weights after the updates", async () => {
    const plan = autoencoderPlan(4, 8);
    const models = await Promise.all(["webgpu", "cpu"].map((backend) => Model.create(plan, { backend: backend as "webgpu" | "cpu", seed: 2 })));
    const losses = await Promise.all(
      models.map(async (m) => {
        const out: number[] = [];
        for (let i = 0; i < 5; i++) out.push(await m.trainStep("train", { image: pixels(8, i) }));
        return out;
      }),
    );
    for (let i = 0; i < 5; i++) expect(Math.abs(losses[0]![i]! - losses[1]![i]!) / losses[1]![i]!).toBeLessThan(1e-4);
    expect(losses[0]![4]!).toBeLessThan(losses[0]![0]!);
    for (const name of ["f.1.weight", "g.0.bias"]) {
      const [g, c] = await Promise.all(models.map((m) => m.tensor(name)));
      expect(relativeError(g!.data, c!.data)).toBeLessThan(1e-4);
    }
    expect(await models[0]!.evaluate("train", { image: pixels(8, 9) })).toBeCloseTo(await models[1]!.evaluate("train", { image: pixels(8, 9) }), 4);
  });

  it("keeps frozen parts bit-identical on the GPU, and refuses a non-finite loss without changing a tensor", async () => {
    const model = await Model.create(tinyPlan(4), { backend: "webgpu" });
    const f = (await model.tensor("f.0.weight")).data;
    const w = (await model.tensor("W.weight")).data;
    model.freeze("f");
    await model.fit("train", tinyData(12), { epochs: 3 });
    expect((await model.tensor("f.0.weight")).data).toEqual(f);
    expect((await model.tensor("W.weight")).data).not.toEqual(w);
    const saved = await model.save();
    await expect(model.trainStep("train", { x: new Float32Array(16).fill(3e38), label: tinyData(4).label })).rejects.toThrow(ReprError);
    expect(Buffer.compare(await model.save(), saved)).toBe(0);
  });

  it("saves, loads and replaces heads through GPU buffers", async () => {
    const plan = tinyPlan(4);
    const a = await Model.create(plan, { backend: "webgpu", seed: 3 });
    await a.fit("train", tinyData(12), { epochs: 2 });
    const bytes = await a.save();
    const onCpu = await Model.create(plan, { backend: "cpu", weights: bytes });
    expect(Buffer.compare(await onCpu.save(), bytes)).toBe(0);
    const b = await Model.create(plan, { backend: "webgpu", seed: 4 });
    await b.load(bytes);
    expect(Buffer.compare(await b.save(), bytes)).toBe(0);
    await b.replaceHead("W", 7);
    const fresh = await Model.create(plan, { backend: "cpu", seed: 7 });
    expect((await b.tensor("W.weight")).data).toEqual((await fresh.tensor("W.weight")).data);
    expect((await b.tensor("f.0.weight")).data).toEqual((await a.tensor("f.0.weight")).data);
    b.dispose();
    await expect(b.call("predict", { x: new Float32Array(4) })).rejects.toThrow("the model was disposed");
  });

  it("runs operations in the order they were asked for, without waiting for each", async () => {
    const model = await Model.create(tinyPlan(4), { backend: "webgpu" });
    const x = new Float32Array(4).fill(0.5);
    const before = model.call("predict", { x });
    const step = model.trainStep("train", tinyData(4));
    const after = model.call("predict", { x });
    const [b, , a] = await Promise.all([before, step, after]);
    const cpu = await Model.create(tinyPlan(4), { backend: "cpu" });
    expect(relativeError(b, await cpu.call("predict", { x }))).toBeLessThan(1e-5);
    await cpu.trainStep("train", tinyData(4));
    expect(relativeError(a, await cpu.call("predict", { x }))).toBeLessThan(1e-5);
  });

  it("auto leaves a software adapter to the host backends (onnx where installed, else the CPU)", async () => {
    // Chromium's Vulkan loader where auto looks for one, so that auto asks Dawn for an adapter and gets SwiftShader.
    const saved = process.env.LD_LIBRARY_PATH;
    process.env.LD_LIBRARY_PATH = "/usr/lib/chromium";
    try {
      expect(await mayHaveGpu()).toBe(true);
      const model = await Model.create(tinyPlan(4));
      expect(gpu!.adapter.isFallback).toBe(true);
      expect(["cpu", "onnx"]).toContain(model.backend);
    } finally {
      if (saved === undefined) delete process.env.LD_LIBRARY_PATH;
      else process.env.LD_LIBRARY_PATH = saved;
    }
  });
});
