/**
 * `Model` on training steps that need feeds made from a run's data
 * (runtime/api/step-feeds.ts): a `skipgram` step draws its negatives from
 * the token counts of all the data `fit` is given, not of a batch; a
 * `cosine` schedule over `epochs` runs the step's own number of passes by
 * default. test/plan/step-feeds.test.ts shows that these feeds give what
 * `repr train` computes; this shows that `Model` passes them.
 */
import { describe, expect, it } from "vitest";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { gatherExamples } from "../../runtime/api/inputs.js";
import { stepFeeds } from "../../runtime/api/step-feeds.js";
import { cpuBackend } from "../../runtime/backends/cpu/index.js";
import { Model, shuffledOrder } from "../../runtime/index.js";
import { COSINE_OVER_EPOCHS, skipgramSource } from "../plan/run-feed-sources.js";
import { programOf } from "./plans.js";

/** Token ids skewed towards small ones, so that the data's counts differ from any batch's. */
const ids = (n: number, salt: number): Int32Array => Int32Array.from({ length: n }, (_, i) => Math.floor((((i * 7 + salt) % 13) / 13) ** 2 * 10));

describe("feeds made from a run's data", () => {
  it("skipgram: fit draws negatives from the counts of all its data", async () => {
    const plan = buildModelPlan(programOf(skipgramSource()), "W", { pipeline: "P" });
    const step = plan.training.find((t) => t.name === "pretrain")!;
    expect(step.noise.length).toBe(1);
    const data = { center: ids(40, 1), context: ids(40, 5) };
    const model = await Model.create(plan, { backend: "cpu", seed: 3 });
    const weights = new Map(await Promise.all(model.tensorNames.map(async (n) => [n, await model.tensor(n)] as const)));
    const { losses } = await model.fit("pretrain", data, { updates: 1, seed: 4 });

    // The same update run by hand: the first shuffled batch, the noise of all 40 pairs.
    const feeds = stepFeeds(step, data, 1);
    const order = shuffledOrder(40, 4, 0, "pretrain").subarray(0, step.batch);
    for (const input of step.inputs) {
      const batch = new Int32Array(step.batch);
      gatherExamples(data[input.name as keyof typeof data], order, 1, batch);
      feeds.set(input.name, { shape: [step.batch], data: batch });
    }
    feeds.set("seed", { shape: [], data: Int32Array.of(3) });
    feeds.set("step", { shape: [], data: Int32Array.of(0) });
    const params = new Map([...weights].map(([n, t]) => [n, { shape: t.shape, data: t.data }]));
    for (const s of step.state) params.set(s.name, { shape: s.shape, data: new Float32Array(s.shape.reduce((p, d) => p * d, 1)) });
    const want = cpuBackend.compile(step.graph).run(feeds, params)["loss"]!.data[0]!;
    expect(losses[0]).toBe(Math.fround(want));

    // Noise from the batch alone would be another distribution, so another loss.
    const batchOnly = stepFeeds(step, { center: feeds.get("center")!.data as Int32Array, context: feeds.get("context")!.data as Int32Array }, 1);
    for (const [name, feed] of batchOnly) feeds.set(name, feed);
    expect(cpuBackend.compile(step.graph).run(feeds, params)["loss"]!.data[0]).not.toBe(want);

    // trainStep and evaluate before any fit make their own feeds.
    const fresh = await Model.create(plan, { backend: "cpu" });
    expect(Number.isFinite(await fresh.trainStep("pretrain", { center: data.center.subarray(0, 4), context: data.context.subarray(0, 4) }))).toBe(true);
    expect(Number.isFinite(await fresh.evaluate("pretrain", data))).toBe(true);
  });

  it("cosine over epochs: fit runs the step's epochs by default, over the data given", async () => {
    const plan = buildModelPlan(programOf(COSINE_OVER_EPOCHS), "M", { pipeline: "P" });
    const step = plan.training.find((t) => t.name === "pretrain")!;
    expect([step.updates, step.epochs, step.updatesInput]).toEqual([0, 3, "updates"]);
    const model = await Model.create(plan, { backend: "cpu" });
    const x = Float32Array.from({ length: 4 * 12 }, (_, i) => Math.sin(i));
    const first = await model.fit("pretrain", { x });
    expect(first.updates).toBe(3 * Math.floor(12 / 5));
    expect(first.losses[first.updates - 1]!).toBeLessThan(first.losses[0]!);
    const second = await model.fit("pretrain", { x }, { updates: 4 });
    expect(second.updates).toBe(4);
    expect(Array.from(second.losses).every(Number.isFinite)).toBe(true);
  });
});
