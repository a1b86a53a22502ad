/**
 * The runtime's `Model` (runtime/api/model.ts) on plans built from real
 * models: calls against the reference backend, batching, input checks with
 * their exact messages, weights in and out, training, freezing, replacing a
 * head, and disposal.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onnxMissing } from "../onnx/available.js";
import { initialValues, modelParams } from "../../compiler/lower/index.js";
import { findModel } from "../../compiler/lower/index.js";
import { decodeSafetensors } from "../../runtime/checkpoint/safetensors.js";
import { encodeSafetensors } from "../../runtime/checkpoint/safetensors.js";
import { Model, ReprError, PLAN_FORMAT, REPR_VERSION, type ModelPlan } from "../../runtime/index.js";
import { VERSION } from "../../cli/version.js";
import { runCli } from "../cli/run-cli.js";
import { relativeError } from "../cpu/compare.js";
import { autoencoderPlan, embedPlan, exampleProgram, tinyPlan } from "./plans.js";

/** Deterministic pixels in [0, 1]. */
function pixels(examples: number): Float32Array {
  return Float32Array.from({ length: examples * 784 }, (_, i) => ((i * 7919) % 1000) / 1000);
}

/** Deterministic tiny-model examples: x in [−1, 1), labels 0..2 that depend on x. */
function tinyData(n: number, offset = 0): { x: Float32Array; label: Int32Array } {
  const x = Float32Array.from({ length: 4 * n }, (_, i) => Math.sin((i + offset * 4 + 1) * 12.9898) % 1);
  const label = Int32Array.from({ length: n }, (_, r) => (x[4 * r]! > 0 ? (x[4 * r + 1]! > 0 ? 2 : 1) : 0));
  return { x, label };
}

/** Asserts two arrays hold the same numbers bit for bit (fast for large arrays). */
function expectSame(got: Float32Array | Int32Array, want: Float32Array | Int32Array): void {
  expect(got.length).toBe(want.length);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  let first = -1;
  for (let i = 0; i < a.length && first < 0; i++) if (a[i] !== b[i]) first = i;
  expect(first, first < 0 ? "" : `element ${first}: ${got[first]} ≠ ${want[first]}`).toBe(-1);
}

function expectReprError(f: () => unknown, message: string): void {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ReprError);
  expect((error as Error).message).toBe(message);
}

async function expectRejects(p: Promise<unknown>, message: string): Promise<void> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ReprError);
  expect((error as Error).message).toBe(message);
}

let auto: ModelPlan;
beforeAll(() => {
  auto = autoencoderPlan(4, 8);
});

describe("Model.create", () => {
  it("refuses another plan format, unknown backends and bad seeds", async () => {
    await expectRejects(
      Model.create({ ...auto, format: (PLAN_FORMAT + 1) as typeof PLAN_FORMAT }),
      `this model plan has format ${PLAN_FORMAT + 1}, but this runtime runs format ${PLAN_FORMAT}; compile the model again with this version of repr`,
    );
    await expectRejects(Model.create(auto, { backend: "gpu" as "cpu" }), "there is no backend 'gpu'; choose auto, cpu, reference, webgpu or onnx");
    await expectRejects(Model.create(auto, { seed: -1 }), "the seed must be a whole number in [0, 2^32), got -1");
  });

  it("picks the onnx backend for auto where ONNX Runtime is installed, else the CPU, and starts from the plan's initialization (seed 0 by default)", async () => {
    const model = await Model.create(auto);
    expect(model.backend).toBe((await onnxMissing()) === null ? "onnx" : "cpu");
    expect(model.functions).toEqual(["encode", "reconstruct"]);
    const params = modelParams(findModel(exampleProgram("mnist-autoencoder.repr"), "Autoencoder"));
    for (const p of params) {
      const t = (await model.tensor(p.name));
      expect(t.shape).toEqual(p.shape);
      expectSame(t.data, initialValues(p, 0, new Float32Array(t.data.length)));
    }
  });
});

describe("call", () => {
  it("agrees with the reference backend, for counts the batch does not divide", async () => {
    const cpu = await Model.create(auto, { backend: "cpu" });
    const ref = await Model.create(auto, { backend: "reference" });
    for (const count of [1, 4, 7]) {
      const image = pixels(count);
      for (const fn of ["encode", "reconstruct"]) {
        const got = await cpu.call(fn, { image });
        const want = await ref.call(fn, { image });
        expect(got).toBeInstanceOf(Float32Array);
        expect(got.length).toBe(count * (fn === "encode" ? 32 : 784));
        expect(relativeError(got, want)).toBeLessThan(1e-5);
      }
    }
  });

  it("gives each example the same result in a full batch as alone", async () => {
    const model = await Model.create(auto);
    const image = pixels(7);
    const all = await model.call("encode", { image });
    for (let e = 0; e < 7; e++) {
      const one = await model.call("encode", { image: image.subarray(e * 784, (e + 1) * 784) });
      expect(relativeError(one, all.subarray(e * 32, (e + 1) * 32))).toBeLessThan(1e-6);
    }
    expect(await model.call("encode", { image: new Float32Array(0) })).toEqual(new Float32Array(0));
    expect(await model.call("encode", { image: Array.from(image.subarray(0, 784 * 2)) }, 2)).toEqual(all.subarray(0, 64));
  });

  it("returns a new array the caller owns on every call", async () => {
    const model = await Model.create(auto);
    const image = pixels(5);
    const a = await model.call("encode", { image });
    const b = await model.call("encode", { image });
    expect(a).not.toBe(b);
    expect(a.buffer).not.toBe(b.buffer);
    const copy = a.slice();
    b.fill(123);
    expect(await model.call("encode", { image })).toEqual(copy);
    expect(a).toEqual(copy);
  });

  it("says exactly what is wrong with the inputs", async () => {
    const model = await Model.create(auto);
    await expectRejects(model.call("encdoe", { image: pixels(1) }), "model 'Autoencoder' has no function 'encdoe'; did you mean 'encode'?");
    await expectRejects(model.call("predict", { image: pixels(1) }), "model 'Autoencoder' has no function 'predict' (functions: encode, reconstruct)");
    await expectRejects(model.call("encode", {}), "function 'encode': input 'image' was not given (inputs: image)");
    await expectRejects(model.call("encode", { image: pixels(1), label: [1] }), "function 'encode' has no input 'label' (inputs: image)");
    await expectRejects(model.call("encode", { image: new Float32Array(1000) }),
      "function 'encode': input 'image' has 1000 numbers, not a whole number of examples of 784 (f32[1, 28, 28])",
    );
    await expectRejects(model.call("encode", { image: pixels(2) }, 3),
      "function 'encode': input 'image' (f32[1, 28, 28]) takes 784 numbers per example, so 3 examples take 2352, but it has 1568",
    );
    const bad = pixels(2);
    bad[900] = NaN;
    await expectRejects(model.call("encode", { image: bad }),
      "function 'encode': input 'image' is f32[1, 28, 28], but its element 900 is NaN; inputs must be finite numbers",
    );
    await expectRejects(model.call("encode", { image: pixels(1) }, 0.5), "function 'encode': the number of examples must be a whole number ≥ 0, got 0.5");

    const embed = await Model.create(embedPlan());
    expect((await embed.call("embed", { t: Int32Array.of(1, 2, 3, 9, 0) })).length).toBe(20);
    expect(await embed.call("embed", { t: [3] })).toEqual((await embed.call("embed", { t: Int32Array.of(1, 2, 3, 9, 0) })).subarray(8, 12));
    await expectRejects(embed.call("embed", { t: [1, 10] }), "function 'embed': input 't' is i32[] (vocab 10), but its element 1 is 10, outside 0 … 9");
    await expectRejects(embed.call("embed", { t: [1.5] }), "function 'embed': input 't' is i32[] (vocab 10), but its element 0 is 1.5, not an integer");
    await expectRejects(embed.call("embed", { t: [NaN] }), "function 'embed': input 't' is i32[] (vocab 10), but its element 0 is NaN, not an integer");
  });
});

describe("weights", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "repr-api-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("round-trips through save and load bit-identically", async () => {
    const a = await Model.create(auto, { seed: 3 });
    const bytes = await a.save();
    const b = await Model.create(auto, { seed: 4 });
    expect((await b.tensor("f.1.weight")).data[0]).not.toBe((await a.tensor("f.1.weight")).data[0]);
    await b.load(bytes);
    for (const name of a.tensorNames) expectSame((await b.tensor(name)).data, (await a.tensor(name)).data);
    const c = await Model.create(auto, { weights: bytes.slice().buffer });
    expect(Buffer.compare(await c.save(), bytes)).toBe(0);
    const metadata = decodeSafetensors(bytes, "saved").metadata;
    expect(metadata).toEqual({ format: "pt", "repr.model": "Autoencoder", "repr.phase": "init", "repr.seed": "3", "repr.step": "0", "repr.version": REPR_VERSION });
    expect(REPR_VERSION).toBe(VERSION);
  });

  it("reads the weights `repr train` writes", async () => {
    const out = join(dir, "run");
    const result = runCli(["train", "examples/mnist-autoencoder.repr", "--steps", "2", "--limit", "64", "--out", out, "--plain"]);
    expect(result.status, result.stderr).toBe(0);
    const file = new Uint8Array(readFileSync(join(out, "1-pretrain.safetensors")));
    const model = await Model.create(auto, { weights: file });
    const stored = decodeSafetensors(file, "file").tensors;
    for (const name of model.tensorNames) expectSame((await model.tensor(name)).data, stored.get(name)!.data as Float32Array);
    expect((await model.call("reconstruct", { image: pixels(2) })).length).toBe(2 * 784);
    const saved = decodeSafetensors(await model.save(), "saved").metadata;
    expect(saved["repr.step"]).toBe("2");
    expect(saved["repr.phase"]).toBe("pretrain");
  }, 60_000);

  it("lists everything that does not fit the plan, and changes nothing", async () => {
    const model = await Model.create(auto);
    const tensors = decodeSafetensors(await model.save(), "x").tensors;
    tensors.delete("g.0.bias");
    const w = tensors.get("f.1.weight")!;
    tensors.delete("f.1.weight");
    tensors.set("f.1.wieght", w);
    tensors.set("z.weight", { dtype: "F32", shape: [64, 32], data: new Float32Array(64 * 32) });
    const before = (await model.tensor("z.weight")).data;
    await expectRejects(model.load(encodeSafetensors(tensors)),
      [
        "weights: the checkpoint does not fit the model: 2 missing, 1 unexpected, 1 tensor with the wrong shape",
        "  missing: 'f.1.weight', F32 [256, 784]",
        "  missing: 'g.0.bias', F32 [64]",
        "  unexpected: 'f.1.wieght', F32 [256, 784]; did you mean 'f.1.weight'?",
        "  wrong shape: 'z.weight' is [64, 32] in the file, the model expects [32, 64] (transposed? repr stores a dense weight as [out, in])",
      ].join("\n"),
    );
    expect((await model.tensor("z.weight")).data).toEqual(before);
    await expectRejects(
      Model.create(auto, { weights: new Uint8Array(3) }),
      "weights: the file is 3 bytes long, too short for the 8-byte header length a safetensors file starts with",
    );
  });

  it("refuses weights that are not finite, naming the tensor and the first bad element, and changes nothing", async () => {
    const model = await Model.create(auto, { seed: 1 });
    const tensors = decodeSafetensors(await model.save(), "x").tensors;
    const w = tensors.get("f.1.weight")!.data as Float32Array;
    const before = (await model.tensor("f.1.weight")).data;
    w[785] = Number.NaN;
    w[900] = Number.POSITIVE_INFINITY;
    await expectRejects(model.load(encodeSafetensors(tensors)), "weights: tensor 'f.1.weight' holds NaN at element 785 ([1, 1]); weights must be finite");
    expect((await model.tensor("f.1.weight")).data).toEqual(before);
    w[785] = 0;
    await expectRejects(Model.create(auto, { weights: encodeSafetensors(tensors) }), "weights: tensor 'f.1.weight' holds Infinity at element 900 ([1, 116]); weights must be finite");
    const tiny = await Model.create(tinyPlan());
    const map = new Map<string, { shape: readonly number[]; data: ArrayLike<number> }>(await Promise.all(tiny.tensorNames.map(async (n) => [n, await tiny.tensor(n)] as const)));
    map.set("W.bias", { shape: [3], data: [0, -Infinity, 0] });
    await expectRejects(Model.create(tinyPlan(), { weights: map }), "weights: tensor 'W.bias' holds -Infinity at element 1 ([1]); weights must be finite");
  });

  it("takes tensors by name", async () => {
    const tiny = tinyPlan();
    const a = await Model.create(tiny, { seed: 5 });
    const map = new Map(await Promise.all(a.tensorNames.map(async (n) => [n, await a.tensor(n)] as const)));
    const b = await Model.create(tiny, { weights: map });
    for (const n of a.tensorNames) expect((await b.tensor(n)).data).toEqual((await a.tensor(n)).data);
    map.set("W.bias", { dtype: "f32", shape: [3], data: Float32Array.of(1, 2) });
    await expectRejects(Model.create(tiny, { weights: map }), "weights: tensor 'W.bias' has shape [3] of 3 elements, but 2 numbers");
  });

  it("copies tensors out, and names unknown ones", async () => {
    const model = await Model.create(tinyPlan());
    const t = (await model.tensor("W.bias"));
    t.data.fill(9);
    expect((await model.tensor("W.bias")).data).not.toEqual(t.data);
    await expectRejects(model.tensor("W.bais"), "model 'Tiny' has no tensor 'W.bais'; did you mean 'W.bias'?");
  });
});

describe("training", () => {
  const plan = tinyPlan(4);
  const batch = tinyData(4);

  it("lowers the loss over updates on a fixed batch, and evaluate sees the same loss without updating", async () => {
    const model = await Model.create(plan);
    const before = (await model.tensor("W.weight")).data;
    const evaluated = await model.evaluate("train", batch);
    expect((await model.tensor("W.weight")).data).toEqual(before);
    const losses: number[] = [];
    for (let i = 0; i < 150; i++) losses.push(await model.trainStep("train", batch));
    expect(losses[0]).toBeCloseTo(evaluated, 6);
    expect(losses[149]!).toBeLessThan(losses[0]! * 0.8);
    for (let i = 1; i < 150; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    expect(await model.evaluate("train", batch)).toBeLessThan(evaluated);
  });

  it("evaluate counts every example: batches in order, the last one smaller, each weighted by its size", async () => {
    // Changed with the training engine: evaluate used to average the data's full batches only.
    const model = await Model.create(plan);
    const data = tinyData(10);
    const part = (from: number, to: number) => ({ x: data.x.subarray(4 * from, 4 * to), label: data.label.subarray(from, to) });
    const losses = [await model.evaluate("train", part(0, 4)), await model.evaluate("train", part(4, 8)), await model.evaluate("train", part(8, 10))];
    expect(await model.evaluate("train", data)).toBe((0 + losses[0]! * 4 + losses[1]! * 4 + losses[2]! * 2) / 10);
    // One batch of all ten is the same mean, up to float32 rounding.
    expect(await model.evaluate("train", data, { batch: 10 })).toBeCloseTo(await model.evaluate("train", data), 6);
    await expectRejects(model.evaluate("train", data, { batch: 1.5 }), "evaluate: batch must be a whole number ≥ 1, got 1.5");
    model.dispose();
  });

  it("checks the batch and refuses a non-finite loss without changing a tensor", async () => {
    const model = await Model.create(plan);
    // Changed with batch graphs: a step takes any number of examples (it used to take exactly its batch of 4);
    // the inputs must agree on how many.
    const other = await Model.create(plan);
    expect(Number.isFinite(await other.trainStep("train", tinyData(3)))).toBe(true);
    expect(Number.isFinite(await other.trainStep("train", tinyData(1)))).toBe(true);
    other.dispose();
    await expectRejects(model.trainStep("train", batch, 3),
      "training step 'train': input 'x' (f32[4]) takes 4 numbers per example, so 3 examples take 12, but it has 16",
    );
    await expectRejects(model.trainStep("train", { x: new Float32Array(0), label: new Int32Array(0) }), "training step 'train': a batch needs at least one example");
    await expectRejects(model.trainStep("train", { x: batch.x, label: [0, 1, 3, 0] }),
      "training step 'train': input 'label' is i32[] (classes 3), but its element 2 is 3, outside 0 … 2",
    );
    await expectRejects(model.trainStep("tran", batch), "model 'Tiny' has no training step 'tran'; did you mean 'train'?");
    const saved = await model.save();
    await expectRejects(model.trainStep("train", { x: new Float32Array(16).fill(3e38), label: batch.label }),
      "training step 'train': the loss is NaN at update 1; the update was not applied, so the weights are as they were before it (a smaller learning rate or `clip` may help)",
    );
    expect(Buffer.compare(await model.save(), saved)).toBe(0);
  });

  it("fits in shuffled batches, the last of a pass smaller, and stops when onUpdate says so or the signal aborts", async () => {
    const model = await Model.create(plan);
    const data = tinyData(10);
    const seen: number[] = [];
    // Changed with the training engine: a pass over 10 examples in batches of 4 is 3 updates (4, 4, 2), as
    // `repr train` always did; fit used to run full batches only (2 per pass).
    const result = await model.fit("train", data, { epochs: 3, onUpdate: (t) => void seen.push(t) });
    expect(result.updates).toBe(9);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(result.losses.length).toBe(9);
    expect((await model.fit("train", data, { epochs: 2, batch: 3 })).updates).toBe(8);
    expect((await model.fit("train", data, { epochs: 1, batch: 64 })).updates).toBe(1);
    const stopped = await model.fit("train", data, { updates: 100, onUpdate: (t) => t < 2 });
    expect(stopped.updates).toBe(3);
    const controller = new AbortController();
    const aborted = await model.fit("train", data, { updates: 100, signal: controller.signal, onUpdate: (t) => (t === 4 ? controller.abort() : undefined) });
    expect(aborted.updates).toBe(5);
    expect((await model.fit("train", data, { updates: 0 })).updates).toBe(0);
    expect((await model.fit("train", data)).updates).toBe(10);
    // Fewer examples than the step's batch train in batches of all of them (it used to be an error).
    expect((await model.fit("train", tinyData(3))).updates).toBe(10);
    await expectRejects(model.fit("train", data, { batch: 0 }), "fit: batch must be a whole number ≥ 1, got 0");
    await expectRejects(model.fit("train", { x: new Float32Array(0), label: new Int32Array(0) }), "training step 'train': the data has no examples");
    await expectRejects(model.fit("train", data, { epochs: 1, updates: 1 }), "fit: give epochs or updates, not both");
  });

  it("is deterministic: the same seed and data give the same weights", async () => {
    const runs = await Promise.all([0, 1].map(async () => {
      const model = await Model.create(plan, { seed: 2 });
      await model.fit("train", tinyData(12), { epochs: 4 });
      return await model.save();
    }));
    expect(Buffer.compare(runs[0]!, runs[1]!)).toBe(0);
  });

  it("keeps frozen parts bit-identical, whether the plan or the model freezes them", async () => {
    const model = await Model.create(plan);
    const f = (await model.tensor("f.0.weight")).data;
    const w = (await model.tensor("W.weight")).data;
    model.freeze("f");
    expect(model.frozen).toEqual(["f"]);
    await model.fit("train", tinyData(12), { epochs: 3 });
    expect((await model.tensor("f.0.weight")).data).toEqual(f);
    expect((await model.tensor("f.0.bias")).data).toEqual((await model.tensor("f.0.bias")).data);
    expect((await model.tensor("W.weight")).data).not.toEqual(w);
    model.unfreeze("f");
    await model.fit("head", tinyData(12), { epochs: 3 });
    expect((await model.tensor("f.0.weight")).data).toEqual(f);
    await model.fit("train", tinyData(12), { epochs: 1 });
    expect((await model.tensor("f.0.weight")).data).not.toEqual(f);
    expectReprError(() => model.freeze("encoder"), "model 'Tiny' has no part 'encoder' (parts: f, W)");
  });

  it("replaces a head with the initial values of another seed, leaving the rest", async () => {
    const model = await Model.create(plan);
    await model.fit("train", tinyData(12), { epochs: 5 });
    const f = (await model.tensor("f.0.weight")).data;
    await model.replaceHead("W", 7);
    const fresh = await Model.create(plan, { seed: 7 });
    expect((await model.tensor("W.weight")).data).toEqual((await fresh.tensor("W.weight")).data);
    expect((await model.tensor("W.bias")).data).toEqual((await fresh.tensor("W.bias")).data);
    expect((await model.tensor("f.0.weight")).data).toEqual(f);
    // The optimizer starts again: the first update after the replacement is update 1.
    await expect(model.trainStep("train", { x: new Float32Array(16).fill(3e38), label: tinyData(4).label })).rejects.toThrow("at update 1;");
  });
});

describe("dispose", () => {
  it("releases the model; any later use throws", async () => {
    const model = await Model.create(tinyPlan());
    await model.call("predict", { x: new Float32Array(4) });
    model.dispose();
    await expectRejects(model.call("predict", { x: new Float32Array(4) }), "the model was disposed");
    await expectRejects(model.save(), "the model was disposed");
    await expectRejects(model.trainStep("train", tinyData(4)), "the model was disposed");
    model.dispose();
    const other = await Model.create(tinyPlan());
    other[Symbol.dispose]();
    await expectRejects(other.tensor("W.bias"), "the model was disposed");
  });
});

describe("plans", () => {
  it("refuses a plan whose graphs read what the plan does not describe", async () => {
    const plan = tinyPlan();
    const broken: ModelPlan = { ...plan, functions: [{ ...plan.functions[0]!, inputs: [] }] };
    const model = await Model.create(broken);
    await expectRejects(model.call("predict", {}), "function 'predict' has no inputs, so the number of examples must be given");
    await expectRejects(model.call("predict", {}, 1), "function 'predict': its graph reads the input 'x', which the plan does not describe");
  });
});
