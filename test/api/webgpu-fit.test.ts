/**
 * The host side of training on WebGPU (issue 17, item 1), on SwiftShader:
 * float inputs are checked for numbers that are not finite on the GPU (a
 * scan whose flag is read with the loss) and rejected with the CPU's message
 * word for word; `fit` keeps its data on the GPU, gathers its batches there
 * and reads losses back once per window, and still agrees with the CPU; and
 * the NaN guard holds on the GPU: a loss made non-finite at a chosen update,
 * in the middle of a window, is named, and the weights are those of the
 * update before it (the same as a run that stopped there).
 */
import { describe, expect, it } from "vitest";
import { shuffledOrder } from "../../runtime/data/shuffle.js";
import { Model, ReprError } from "../../runtime/index.js";
import { relativeError } from "../cpu/compare.js";
import { skipReason } from "../webgpu/gpu.js";
import { autoencoderPlan, tinyPlan } from "./plans.js";

/** Deterministic tiny-model examples: x in [−1, 1), labels 0..2 that depend on x. */
function tinyData(n: number): { x: Float32Array; label: Int32Array } {
  const x = Float32Array.from({ length: 4 * n }, (_, i) => Math.sin((i + 1) * 12.9898) % 1);
  const label = Int32Array.from({ length: n }, (_, r) => (x[4 * r]! > 0 ? (x[4 * r + 1]! > 0 ? 2 : 1) : 0));
  return { x, label };
}

/** Deterministic pixels in [0, 1]. */
function pixels(examples: number, salt = 0): Float32Array {
  return Float32Array.from({ length: examples * 784 }, (_, i) => (((i + salt * 31) * 7919) % 1000) / 1000);
}

/** The message a promise rejects with. */
async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(ReprError);
    return (error as Error).message;
  }
  throw new Error("it did not reject");
}

async function weights(model: Model): Promise<Map<string, Float32Array | Int32Array>> {
  return new Map(await Promise.all(model.tensorNames.map(async (name) => [name, (await model.tensor(name)).data] as const)));
}

describe.skipIf(skipReason !== null)("training on WebGPU: the host side", () => {
  it("checks a batch's numbers on the GPU, with the CPU's message, and applies nothing", async () => {
    const plan = tinyPlan(4);
    const [gpu, cpu] = await Promise.all([Model.create(plan, { backend: "webgpu" }), Model.create(plan, { backend: "cpu" })]);
    const before = await gpu.save();
    for (const [at, value] of [[5, NaN], [0, Infinity], [15, -Infinity]] as const) {
      const data = tinyData(4);
      data.x[at] = value;
      const message = await rejection(gpu.trainStep("train", data));
      expect(message).toBe(await rejection(cpu.trainStep("train", data)));
      expect(message).toBe(`training step 'train': input 'x' is f32[4], but its element ${at} is ${value}; inputs must be finite numbers`);
    }
    expect(Buffer.compare(await gpu.save(), before)).toBe(0);
    // A finite batch still trains, as on the CPU.
    const data = tinyData(4);
    expect(Math.abs((await gpu.trainStep("train", data)) - (await cpu.trainStep("train", data)))).toBeLessThan(1e-5);
    gpu.dispose();
    cpu.dispose();
  });

  it("checks a function's inputs on the GPU, chunk by chunk, naming the element as the CPU does", async () => {
    const plan = autoencoderPlan(4, 8);
    const [gpu, cpu] = await Promise.all([Model.create(plan, { backend: "webgpu" }), Model.create(plan, { backend: "cpu" })]);
    // 7 examples run as chunks of 4, 2 and 1: the bad number lies in the second.
    const image = pixels(7);
    image[5 * 784 + 300] = NaN;
    const message = await rejection(gpu.call("encode", { image }));
    expect(message).toBe(await rejection(cpu.call("encode", { image })));
    expect(message).toContain(`its element ${5 * 784 + 300} is NaN`);
    // Arrays of other types are converted, as before.
    const plain = Array.from(pixels(3));
    expect(relativeError(await gpu.call("encode", { image: plain }), await cpu.call("encode", { image: plain }))).toBeLessThan(1e-5);
    gpu.dispose();
    cpu.dispose();
  });

  it("fits with the data on the GPU as on the CPU, whatever the window of losses read back", async () => {
    const plan = tinyPlan(4);
    const data = tinyData(10);
    const cpu = await Model.create(plan, { backend: "cpu", seed: 5 });
    const want = await cpu.fit("train", data, { epochs: 4 });
    expect(want.updates).toBe(12);
    const results: Map<string, Float32Array | Int32Array>[] = [];
    for (const readEvery of [1, 5, 32]) {
      const gpu = await Model.create(plan, { backend: "webgpu", seed: 5 });
      const seen: number[] = [];
      const got = await gpu.fit("train", data, { epochs: 4, readEvery, onUpdate: (t) => void seen.push(t) });
      expect(got.updates).toBe(12);
      expect(seen).toEqual([...Array(12).keys()]);
      expect(relativeError(got.losses, want.losses), `readEvery ${readEvery}`).toBeLessThan(1e-4);
      const w = await weights(gpu);
      for (const [name, c] of await weights(cpu)) expect(relativeError(w.get(name)!, c), name).toBeLessThan(1e-4);
      results.push(w);
      if (readEvery === 32) {
        // The update counter went on (Adam's bias correction reads it): the next update is the 13th on both.
        const batch = tinyData(4);
        await Promise.all([gpu.trainStep("train", batch), cpu.trainStep("train", batch)]);
        const [after, cpuAfter] = await Promise.all([weights(gpu), weights(cpu)]);
        for (const [name, c] of cpuAfter) expect(relativeError(after.get(name)!, c), name).toBeLessThan(1e-4);
      }
      gpu.dispose();
    }
    // The window changes when losses are read, not what is computed.
    for (const [name, w] of results[0]!) for (const other of results.slice(1)) expect(other.get(name), name).toEqual(w);
    cpu.dispose();
  });

  it("rejects a data set with a number that is not finite before any update, with the CPU's message", async () => {
    const plan = tinyPlan(4);
    const [gpu, cpu] = await Promise.all([Model.create(plan, { backend: "webgpu" }), Model.create(plan, { backend: "cpu" })]);
    const data = tinyData(10);
    data.x[37] = NaN;
    const before = await gpu.save();
    const message = await rejection(gpu.fit("train", data, { epochs: 1 }));
    expect(message).toBe(await rejection(cpu.fit("train", data, { epochs: 1 })));
    expect(message).toBe("training step 'train': input 'x' is f32[4], but its element 37 is NaN; inputs must be finite numbers");
    expect(Buffer.compare(await gpu.save(), before)).toBe(0);
    gpu.dispose();
    cpu.dispose();
  });

  for (const readEvery of [1, 4, 32]) {
    it(`names the first update whose loss is not finite and keeps the update before it (losses read every ${readEvery})`, async () => {
      const plan = tinyPlan(4);
      const n = 40;
      const bad = 6; // of 10 updates per pass: in the middle of the second window of 4
      // The example that update `bad` of the first pass takes first gets a number so large that its loss overflows.
      const data = tinyData(n);
      const victim = shuffledOrder(n, 0, 0, "train")[bad * 4]!;
      data.x.fill(3e38, victim * 4, victim * 4 + 4);
      const gpu = await Model.create(plan, { backend: "webgpu" });
      const seen: number[] = [];
      const message = await rejection(gpu.fit("train", data, { epochs: 2, readEvery, onUpdate: readEvery === 1 ? (t) => void seen.push(t) : undefined }));
      expect(message).toMatch(new RegExp(`^training step 'train': the loss is (NaN|-?Infinity) at update ${bad + 1}; the update was not applied, so the weights are as they were before it`));
      if (readEvery === 1) expect(seen).toEqual([...Array(bad).keys()]);
      // The CPU stops at the same update.
      const cpu = await Model.create(plan, { backend: "cpu" });
      expect(await rejection(cpu.fit("train", data, { epochs: 2 }))).toMatch(new RegExp(`at update ${bad + 1};`));
      // The weights are those of a run of exactly `bad` updates, on the GPU bit for bit, and the CPU's within float32.
      const stopped = await Model.create(plan, { backend: "webgpu" });
      expect((await stopped.fit("train", data, { updates: bad })).updates).toBe(bad);
      const [got, want, cpuWeights] = await Promise.all([weights(gpu), weights(stopped), weights(cpu)]);
      for (const [name, w] of want) {
        expect(got.get(name), name).toEqual(w);
        expect(relativeError(w, cpuWeights.get(name)!), name).toBeLessThan(1e-4);
      }
      // The checkpoint it saves records the updates applied.
      const saved = await Model.create(plan, { backend: "cpu", weights: await gpu.save() });
      expect(Buffer.compare(await saved.save(), await stopped.save())).toBe(0);
      for (const m of [gpu, cpu, stopped, saved]) m.dispose();
    });
  }

  it("keeps frozen parts bit-identical when fit commits on the GPU", async () => {
    const model = await Model.create(tinyPlan(4), { backend: "webgpu" });
    const f = (await model.tensor("f.0.weight")).data;
    const w = (await model.tensor("W.weight")).data;
    model.freeze("f");
    await model.fit("train", tinyData(12), { epochs: 3, readEvery: 2 });
    expect((await model.tensor("f.0.weight")).data).toEqual(f);
    expect((await model.tensor("W.weight")).data).not.toEqual(w);
    model.dispose();
  });
});
