/**
 * The training engine through the runtime's public API (issue 11): an app
 * runs a transfer pipeline — pretrain, freeze, replace the head with one of
 * another shape, adapt, test — on typed arrays; a stopped run resumes to
 * the uninterrupted run's weights bit for bit; the NaN guard names the first
 * bad update and applies nothing; and `repr train` on the same pipeline
 * writes exactly the weights the app gets.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Pipeline, TrainingDiverged, type ModelPlan, type PipelineRunOptions, type RunState } from "../../runtime/index.js";
import { mnistDigits } from "../../runtime/node.js";
import type { ModelTensor } from "../../runtime/api/weights.js";
import { runCli } from "../cli/run-cli.js";
import { readTensors, tempDir } from "../train/helpers.js";
import { bits, digitArrays, expectSameBits, TRANSFER, transferPlan } from "./helpers.js";

describe("a pipeline run by an app", () => {
  let plan: ModelPlan;
  let data: PipelineRunOptions["data"];
  beforeAll(async () => {
    plan = transferPlan();
    data = await digitArrays(600);
  });

  it("pretrains, freezes, replaces the head with one of another shape, adapts and tests", async () => {
    const pipeline = await Pipeline.create(plan, "Transfer", { backend: "cpu" });
    expect(pipeline.backend).toBe("cpu");
    const weightsAt = new Map<number, Map<string, ModelTensor>>();
    const events: string[] = [];
    const result = await pipeline.run({
      data,
      onProgress: (e) => void (e.kind !== "update" && events.push(`${e.kind} ${e.step}`)),
      onStepEnd: async (end) => void weightsAt.set(end.step, await end.weights()),
    });
    expect(result.kind).toBe("done");
    if (result.kind !== "done") return;
    // The new head: 3 classes on 16 features; the model after the pipeline has its shape.
    const head = await result.model.tensor("W.weight");
    expect(head.shape).toEqual([3, 16]);
    expect(await result.model.call("forward", { image: new Float32Array(2 * 784) })).toHaveLength(2 * 3);
    // f is frozen: bit-identical from the end of pretraining to the end of adaptation, while W changed.
    const pretrained = weightsAt.get(1)!;
    const adapted = weightsAt.get(4)!;
    for (const name of ["f.1.weight", "f.1.bias"]) expect(bits(adapted.get(name)!).equals(bits(pretrained.get(name)!)), name).toBe(true);
    expect(pretrained.get("W.weight")!.shape).toEqual([5, 16]);
    expect(bits(adapted.get("W.weight")!).equals(bits(weightsAt.get(3)!.get("W.weight")!))).toBe(false);
    // The history: every step, with losses and the test's accuracy over the 3 classes.
    expect(result.history.steps.map((s) => s.kind)).toEqual(["pretrain", "freeze", "replace", "adapt", "test"]);
    expect(result.history.series.map((s) => s.losses.length)).toEqual([40, 12]);
    const test = result.history.steps.find((s) => s.kind === "test")!;
    if (test.kind !== "test") throw new Error("no test step");
    expect(test.metrics["accuracy"]).toBeGreaterThan(1 / 3);
    expect(events).toEqual(["step-start 1", "step-end 1", "step-end 2", "step-end 3", "step-start 4", "step-end 4", "step-start 5", "step-end 5"]);
    result.model.dispose();
  }, 120_000);

  it("resumes a stopped run to the uninterrupted run's weights, bit for bit, at any boundary", async () => {
    const pipeline = await Pipeline.create(plan, "Transfer", { backend: "cpu" });
    const whole = await pipeline.run({ data });
    if (whole.kind !== "done") throw new Error("the whole run stopped");
    const expected = new Map(await Promise.all(whole.model.plan.tensors.map(async (t) => [t.name, await whole.model.tensor(t.name)] as const)));
    whole.model.dispose();
    // Stop in the middle of pretraining, after its last update, and after the first update of adapt.
    for (const stopAt of [{ step: 1, update: 17 }, { step: 1, update: 40 }, { step: 4, update: 1 }]) {
      const controller = new AbortController();
      const first = await pipeline.run({
        data,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.kind === "update" && e.step === stopAt.step && e.update + 1 === stopAt.update) controller.abort();
        },
      });
      expect(first.kind, JSON.stringify(stopAt)).toBe("stopped");
      if (first.kind !== "stopped") return;
      const state: RunState = first.state;
      const second = await pipeline.run({ data, resume: state });
      if (second.kind !== "done") throw new Error("the resumed run stopped");
      const got = new Map(await Promise.all(second.model.plan.tensors.map(async (t) => [t.name, await second.model.tensor(t.name)] as const)));
      expectSameBits(expected, got);
      expect(second.history.series).toEqual(whole.history.series);
      second.model.dispose();
    }
  }, 180_000);

  it("resumes a run stopped before its first step (no tensors yet) from the start", async () => {
    const pipeline = await Pipeline.create(plan, "Transfer", { backend: "cpu" });
    const controller = new AbortController();
    controller.abort();
    const first = await pipeline.run({ data, signal: controller.signal });
    if (first.kind !== "stopped") throw new Error("the run did not stop");
    expect([first.state.stepIndex, first.state.next, first.state.tensors.size]).toEqual([0, 0, 0]);
    const resumed = await pipeline.run({ data, resume: first.state });
    const whole = await pipeline.run({ data });
    if (resumed.kind !== "done" || whole.kind !== "done") throw new Error("a run stopped");
    expect(resumed.history.series).toEqual(whole.history.series);
    resumed.model.dispose();
    whole.model.dispose();
  }, 120_000);

  it("stops at the first non-finite loss, names it, and keeps the last good weights", async () => {
    const diverging = transferPlan(TRANSFER.replace("steps: 12, batch: 8, optimizer: adam(lr: 1e-2)", "steps: 12, batch: 8, optimizer: sgd(lr: 1e38)"));
    const pipeline = await Pipeline.create(diverging, "Transfer", { backend: "cpu" });
    let lastGood: Map<string, ModelTensor> | null = null;
    let applied = 0;
    const error = await pipeline
      .run({
        data,
        onProgress: (e) => void (e.kind === "update" && e.step === 4 && applied++),
        onStepEnd: async (end) => void (end.step === 3 && (lastGood = await end.weights())),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDiverged);
    const d = error as TrainingDiverged;
    expect(d.step).toBe(4);
    expect(d.phase).toBe("adapt");
    expect(d.update).toBe(applied + 1);
    expect(Number.isFinite(d.loss)).toBe(false);
    // What the app kept at the last step boundary is whole and finite: the run never applied a bad update.
    expect(lastGood).not.toBeNull();
    for (const [name, t] of lastGood!) expect(Array.from(t.data).every(Number.isFinite), name).toBe(true);
  }, 120_000);

  it("refuses data that does not fit its declaration, naming the field", async () => {
    const pipeline = await Pipeline.create(plan, "Transfer", { backend: "cpu" });
    const d = await mnistDigits();
    const bad = { digits: { train: { image: d.train.images.subarray(0, 100 * 784 + 3), label: d.train.labels.subarray(0, 100) }, test: { image: d.test.images, label: d.test.labels } } };
    await expect(pipeline.run({ data: bad })).rejects.toThrow(/data 'digits', split 'train': field 'image' has 78403 numbers, not a whole number of examples of 784/);
    await expect(Pipeline.create(plan, "Transfr")).rejects.toThrow(/has no pipeline 'Transfr'; did you mean 'Transfer'\?/);
  });
});

describe("repr train and an app", () => {
  const dir = tempDir("engine");
  it("produce bit-identical weights for one pipeline on one backend", async () => {
    const file = join(dir, "transfer.repr");
    writeFileSync(file, TRANSFER);
    const out = join(dir, "cli");
    const r = runCli(["train", file, "--out", out, "--limit", "600", "--backend", "cpu", "--plain"]);
    expect(r.status, r.stderr).toBe(0);
    // The CLI reads the embedded digits as an app does, and --limit keeps the first 600 of each split after selection.
    const pipeline = await Pipeline.create(transferPlan(readFileSync(file, "utf8")), "Transfer", { backend: "cpu" });
    const d = await mnistDigits();
    const result = await pipeline.run({ data: { digits: { train: { image: d.train.images, label: d.train.labels }, test: { image: d.test.images, label: d.test.labels } } }, limit: 600 });
    if (result.kind !== "done") throw new Error("stopped");
    const fromCli = new Map([...readTensors(join(out, "4-adapt.safetensors"))].map(([n, t]) => [n, { shape: t.shape, data: t.data as Float32Array }] as const));
    const fromApp = new Map(await Promise.all(result.model.plan.tensors.map(async (t) => [t.name, await result.model.tensor(t.name)] as const)));
    expectSameBits(fromApp, fromCli);
    const metrics = JSON.parse(readFileSync(join(out, "metrics.json"), "utf8")) as { steps: { kind: string; metrics?: Record<string, number> }[] };
    const appTest = result.history.steps.find((s) => s.kind === "test");
    expect(metrics.steps.find((s) => s.kind === "test")!.metrics).toEqual(appTest && appTest.kind === "test" ? appTest.metrics : null);
    result.model.dispose();
  }, 120_000);
});
