/**
 * `Model` on training steps that need feeds made from a run's data
 * (runtime/api/step-feeds.ts): a `skipgram` step draws its negatives from
 * the token counts of all the data `fit` is given, not of a batch; a
 * `cosine` schedule over `epochs` runs the step's own number of passes by
 * default. test/plan/step-feeds.test.ts shows that these feeds give what the
 * step lowered directly computes; this shows that `Model` passes them, and
 * that the training engine (what `repr train` and `Pipeline` run) computes
 * the same updates as `Model.fit` from the same examples.
 */
import { describe, expect, it } from "vitest";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { gatherExamples } from "../../runtime/api/inputs.js";
import { stepFeeds } from "../../runtime/api/step-feeds.js";
import { cpuBackend } from "../../runtime/backends/cpu/index.js";
import { Model, Pipeline, shuffledOrder, type ModelPlan, type PlanTraining } from "../../runtime/index.js";
import { COSINE_OVER_EPOCHS, skipgramSource } from "../plan/run-feed-sources.js";
import { kernelAt, pipelineTraining } from "../plan/harness.js";
import { programOf } from "./plans.js";

/** Token ids skewed towards small ones, so that the data's counts differ from any batch's. */
const ids = (n: number, salt: number): Int32Array => Int32Array.from({ length: n }, (_, i) => Math.floor((((i * 7 + salt) % 13) / 13) ** 2 * 10));

/** The plan with `step` (a pipeline's training step) as its one training step, so that `Model` runs it. */
const withTraining = (plan: ModelPlan, step: PlanTraining): ModelPlan => ({ ...plan, training: [step] });

/** Every tensor of a model, by name. */
async function tensorsOf(model: Model): Promise<Map<string, Float32Array | Int32Array>> {
  return new Map(await Promise.all(model.tensorNames.map(async (n) => [n, (await model.tensor(n)).data] as const)));
}

/** Expects two models' tensors to be equal bit for bit. */
async function expectSameTensors(a: Model, b: Model): Promise<void> {
  const [x, y] = [await tensorsOf(a), await tensorsOf(b)];
  expect([...x.keys()].sort()).toEqual([...y.keys()].sort());
  for (const [name, data] of x) expect(new Uint8Array(data.buffer), name).toEqual(new Uint8Array(y.get(name)!.buffer));
}

describe("feeds made from a run's data", () => {
  it("skipgram: fit draws negatives from the counts of all its data", async () => {
    // The model's own step: its negatives count the model's token inputs (a pipeline's steps run in the engine).
    const plan = buildModelPlan(programOf(skipgramSource()), "W", { trainBatch: 4 });
    const step = plan.training.find((t) => t.name === "train")!;
    expect(step.noise.length).toBe(1);
    const data = { center: ids(40, 1), context: ids(40, 5) };
    const model = await Model.create(plan, { backend: "cpu", seed: 3 });
    const weights = new Map(await Promise.all(model.tensorNames.map(async (n) => [n, await model.tensor(n)] as const)));
    const { losses } = await model.fit("train", data, { updates: 1, seed: 4 });

    // The same update run by hand: the first shuffled batch, the noise of all 40 pairs.
    const feeds = stepFeeds(step, data, 1);
    const order = shuffledOrder(40, 4, 0, "train").subarray(0, step.batch);
    for (const input of step.inputs) {
      const batch = new Int32Array(step.batch);
      gatherExamples(data[input.name as keyof typeof data], order, 1, batch);
      feeds.set(input.name, { shape: [step.batch], data: batch });
    }
    feeds.set("seed", { shape: [], data: Int32Array.of(3) });
    feeds.set("step", { shape: [], data: Int32Array.of(0) });
    const params = new Map([...weights].map(([n, t]) => [n, { shape: t.shape, data: t.data }]));
    for (const s of step.state) params.set(s.name, { shape: s.shape, data: new Float32Array(s.shape.reduce((p, d) => p * d, 1)) });
    const graph = kernelAt(step.graph, step.batch);
    const want = cpuBackend.compile(graph).run(feeds, params)["loss"]!.data[0]!;
    expect(losses[0]).toBe(Math.fround(want));

    // Noise from the batch alone would be another distribution, so another loss.
    const batchOnly = stepFeeds(step, { center: feeds.get("center")!.data as Int32Array, context: feeds.get("context")!.data as Int32Array }, 1);
    for (const [name, feed] of batchOnly) feeds.set(name, feed);
    expect(cpuBackend.compile(graph).run(feeds, params)["loss"]!.data[0]).not.toBe(want);

    // trainStep and evaluate before any fit make their own feeds.
    const fresh = await Model.create(plan, { backend: "cpu" });
    expect(Number.isFinite(await fresh.trainStep("train", { center: data.center.subarray(0, 4), context: data.context.subarray(0, 4) }))).toBe(true);
    expect(Number.isFinite(await fresh.evaluate("train", data))).toBe(true);
    model.dispose();
    fresh.dispose();
  });

  it("cosine over epochs: fit runs the step's epochs by default, over the data given", async () => {
    const plan = buildModelPlan(programOf(COSINE_OVER_EPOCHS), "M");
    const step = pipelineTraining(plan, "P").find((t) => t.name === "pretrain")!;
    expect([step.updates, step.epochs, step.updatesInput]).toEqual([0, 3, "updates"]);
    const model = await Model.create(withTraining(plan, step), { backend: "cpu" });
    const x = Float32Array.from({ length: 4 * 12 }, (_, i) => Math.sin(i));
    const first = await model.fit("pretrain", { x });
    // Changed with the training engine: a pass now ends with a smaller batch of the examples left (12 in
    // batches of 5: 5, 5, 2), as `repr train` always did, so 3 passes are 3 · ⌈12 / 5⌉ updates, not 3 · ⌊12 / 5⌋.
    expect(first.updates).toBe(3 * Math.ceil(12 / 5));
    expect(first.losses[first.updates - 1]!).toBeLessThan(first.losses[0]!);
    const second = await model.fit("pretrain", { x }, { updates: 4 });
    expect(second.updates).toBe(4);
    expect(Array.from(second.losses).every(Number.isFinite)).toBe(true);
    model.dispose();
  });
});

describe("the training engine's step computes what Model.fit computes from the same examples", () => {
  it("skipgram: one update over the whole split, its negatives from all of it, bit for bit", async () => {
    const n = 40;
    const seed = 4;
    const plan = buildModelPlan(programOf(skipgramSource(`steps: 1, batch: ${n}`)), "W");
    const step = pipelineTraining(plan, "P")[0]!;
    // Negatives stand for contexts: the table counts the context field only (spec/objectives.md).
    expect(step.noise.map((t) => t.fields)).toEqual([["context"]]);
    const split = { center: ids(n, 1), context: ids(n, 5) };
    const pipeline = await Pipeline.create(plan, "P", { backend: "cpu" });
    const run = await pipeline.run({ data: { pairs: { train: split, test: split } }, seed });
    if (run.kind !== "done") throw new Error("the run stopped");
    expect(run.history.series.map((s) => s.losses.length)).toEqual([1]);

    // The engine shuffles the split with stream `pairs.train`, `fit` with the step's name: lay the data out
    // so that fit's one batch holds the engine's examples in the engine's order.
    const engineOrder = shuffledOrder(n, seed, 0, "pairs.train");
    const fitOrder = shuffledOrder(n, seed, 0, "pretrain");
    const data = { center: new Int32Array(n), context: new Int32Array(n) };
    for (let j = 0; j < n; j++) {
      data.center[fitOrder[j]!] = split.center[engineOrder[j]!]!;
      data.context[fitOrder[j]!] = split.context[engineOrder[j]!]!;
    }
    const model = await Model.create(withTraining(plan, step), { backend: "cpu", seed });
    const { losses } = await model.fit("pretrain", data, { seed });
    expect(losses.length).toBe(1);
    expect(losses[0]).toBe(run.history.series[0]!.losses[0]);
    await expectSameTensors(run.model, model);
    run.model.dispose();
    model.dispose();
  });

  it("cosine over epochs: the same updates, batch sizes and schedule, bit for bit", async () => {
    const plan = buildModelPlan(programOf(COSINE_OVER_EPOCHS), "M");
    const step = pipelineTraining(plan, "P")[0]!;
    // Every example alike, so that the two runs' different shuffles give the same batches.
    const n = 12;
    const x = Float32Array.from({ length: 4 * n }, (_, i) => Math.sin(i % 4) + 0.5);
    const progress: number[] = [];
    const pipeline = await Pipeline.create(plan, "P", { backend: "cpu" });
    const run = await pipeline.run({
      data: { d: { train: { x }, test: { x } } },
      onProgress: (e) => void (e.kind === "update" && progress.push(e.examples)),
    });
    if (run.kind !== "done") throw new Error("the run stopped");
    // 3 passes of 5, 5 and 2 examples; the schedule decays over the run's 9 updates.
    expect(progress).toEqual([5, 5, 2, 5, 5, 2, 5, 5, 2]);
    const model = await Model.create(withTraining(plan, step), { backend: "cpu" });
    const { losses } = await model.fit("pretrain", { x });
    expect(Array.from(losses)).toEqual(run.history.series[0]!.losses);
    await expectSameTensors(run.model, model);
    run.model.dispose();
    model.dispose();
  });
});
