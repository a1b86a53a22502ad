/**
 * The feeds a plan's training step asks the runtime to make
 * (runtime/api/step-feeds.ts): the noise tables of `skipgram` negatives and
 * the run's number of updates. A plan's step (its batch graph at the step's
 * batch size) fed with them on the CPU backend computes exactly what the step
 * lowered directly computes, fed with a table made here and the number of
 * updates baked in (as `repr train` ran steps before plans carried
 * pipelines): the skip-gram example's loss and updates, and the learning
 * rate of a `cosine` schedule over `epochs`. test/api/run-feeds.test.ts
 * shows that the training engine and `Model.fit` feed them alike.
 */
import { describe, expect, test } from "vitest";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { modelParams } from "../../compiler/lower/declare.js";
import { findModel, lowerModel } from "../../compiler/lower/model.js";
import { initGraph } from "../../compiler/lower/init.js";
import { lowerTrainStep } from "../../compiler/lower/step-graph.js";
import { findPipeline, stepLowering } from "../../compiler/lower/steps.js";
import { scheduledRateValue } from "../../compiler/optim/schedules.js";
import type { CheckedProgram } from "../../compiler/check/program.js";
import { initialTensors } from "../../runtime/api/init.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { Model } from "../../runtime/api/model.js";
import type { PlanTraining } from "../../runtime/api/plan.js";
import { noiseFeeds, stepFeedNames, stepFeeds, updatesFeed } from "../../runtime/api/step-feeds.js";
import type { Inputs } from "../../runtime/api/inputs.js";
import { ReprError } from "../../runtime/api/errors.js";
import type { TensorFeed, TensorValue } from "../../runtime/backends/backend.js";
import { cpuBackend } from "../../runtime/backends/cpu/index.js";
import { skipGramPairs, tokenizeWords, type Split } from "../../runtime/data/index.js";
import { negativeTable, tokenCounts } from "../../runtime/sampling/negative-table.js";
import { examplePrograms, intAt } from "../gradients/helpers.js";
import { checkedSource, kernelAt, pipelineTraining } from "./harness.js";
import { COSINE_OVER_EPOCHS, skipgramSource } from "./run-feed-sources.js";

const SEED = 11;

const SMALL_SKIPGRAM = skipgramSource();

/** `n` examples of every field of a data declaration: ids skewed towards small ones (so that counts differ), floats in [−1, 1). */
function splitOf(program: CheckedProgram, data: string, n: number): Split {
  const declaration = program.data.find((d) => d.name === data)!;
  const columns = new Map(
    declaration.fields.map((f) => {
      const shape = f.type.shape;
      const size = n * shape.reduce((p, d) => p * d, 1);
      const bound = f.type.vocab ?? f.type.classes;
      const values = Array.from({ length: size }, (_, k) => (bound !== undefined ? intAt(k, f.name, 1 + intAt(k, "range", bound)) : (intAt(k, f.name, 2000) - 1000) / 1000));
      const column = bound !== undefined ? { dtype: "i32" as const, shape, data: Int32Array.from(values) } : { dtype: "f32" as const, shape, data: Float32Array.from(values) };
      return [f.name, column] as const;
    }),
  );
  return { origin: "test", length: n, columns };
}

/** The split's columns as the runtime's `fit` takes its data. */
function inputsOf(split: Split): Inputs {
  return Object.fromEntries([...split.columns].map(([name, c]) => [name, c.data]));
}

/** The first `batch` examples of every column, as graph feeds. */
function batchFeeds(split: Split, names: readonly string[], batch: number): Map<string, TensorFeed> {
  return new Map(
    names.map((name) => {
      const c = split.columns.get(name)!;
      const per = c.shape.reduce((p, d) => p * d, 1);
      return [name, { shape: [batch, ...c.shape], data: c.data.subarray(0, batch * per) }];
    }),
  );
}

/**
 * One update of pipeline step `index` lowered directly, as `repr train` used to run it before plans carried
 * pipelines (its own lowering at the step's batch size, `updates` baked into the graph), with the negatives'
 * table made here from the counts of the context field (spec/objectives.md: negatives stand for contexts).
 */
function directUpdate(program: CheckedProgram, pipeline: string, index: number, split: Split, t: number, updates: number): Record<string, TensorValue> {
  const step = findPipeline(program, pipeline).steps[index]!;
  if (step.kind !== "pretrain" && step.kind !== "adapt") throw new Error("not a training step");
  const lowering = stepLowering(program, pipeline, index);
  const batch = lowering.options.batch;
  const lowered = lowerModel(program, lowering.model, { ...lowering.options, batch, prediction: false });
  const trainStep = lowerTrainStep(lowered, step.settings, lowering.options.frozen ?? new Set(), updates);
  const graph = planKernelGraph(trainStep.graph);
  const declaration = program.data.find((d) => d.name === step.data.data)!;
  const context = declaration.fields.find((f) => f.name === "context")!;
  const feeds = new Map<string, TensorFeed>();
  for (const input of graph.inputs.filter((i) => i.name.startsWith("negatives.") && i.name.endsWith(".prob"))) {
    const table = negativeTable(tokenCounts([split.columns.get(context.name)!.data], context.type.vocab!));
    feeds.set(input.name, { shape: input.shape, data: Float32Array.from(table.prob) });
    feeds.set(`${input.name.slice(0, -".prob".length)}.alias`, { shape: input.shape, data: table.alias });
  }
  for (const [name, feed] of batchFeeds(split, lowered.inputs.filter((i) => i.kind === "data").map((i) => i.name), batch)) feeds.set(name, feed);
  feeds.set("seed", { shape: [], data: Int32Array.of(SEED) });
  feeds.set("step", { shape: [], data: Int32Array.of(t) });
  const state = trainStep.state.map((s) => ({ name: s.name, shape: s.node.shape }));
  return copy(cpuBackend.compile(graph).run(feeds, weights(program, lowering.model, state)));
}

/** One update of a plan's training step as the runtime runs it: the batch, `seed`, `step` and `stepFeeds` of the whole split. */
function planUpdate(program: CheckedProgram, model: string, step: PlanTraining, split: Split, t: number, updates: number): Record<string, TensorValue> {
  const feeds = stepFeeds(step, inputsOf(split), updates);
  for (const [name, feed] of batchFeeds(split, step.inputs.map((i) => i.name), step.batch)) feeds.set(name, feed);
  feeds.set("seed", { shape: [], data: Int32Array.of(SEED) });
  feeds.set("step", { shape: [], data: Int32Array.of(t) });
  return copy(cpuBackend.compile(kernelAt(step.graph, step.batch)).run(feeds, weights(program, model, step.state)));
}

/** The model's initial tensors (seed 3) and zero optimizer state. */
function weights(program: CheckedProgram, model: string, state: readonly { name: string; shape: readonly number[] }[]): Map<string, TensorFeed> {
  const params = modelParams(findModel(program, model));
  const initial = initialTensors({ tensors: params.map((p) => ({ name: p.name, dtype: p.dtype, shape: p.shape, owner: p.owner })), init: planKernelGraph(initGraph(params)) }, 3);
  const out = new Map<string, TensorFeed>(initial);
  for (const s of state) out.set(s.name, { shape: s.shape, data: new Float32Array(s.shape.reduce((p, d) => p * d, 1)) });
  return out;
}

/** Outputs copied out of the executable's buffers. */
function copy(outputs: Record<string, TensorValue>): Record<string, TensorValue> {
  return Object.fromEntries(Object.entries(outputs).map(([name, v]) => [name, { ...v, data: v.data.slice() }]));
}

/** The first element where two outputs differ in their bits (−1 when none do); `toEqual` on a million elements takes seconds. */
function firstDifference(a: TensorValue, b: TensorValue): number {
  if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join() || a.data.byteLength !== b.data.byteLength) return 0;
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** The probability of each id under an alias table: column c gives c with prob[c] and alias[c] otherwise, each column 1/size. */
function distribution(table: { prob: ArrayLike<number>; alias: ArrayLike<number> }): number[] {
  const size = table.prob.length;
  const p = new Array<number>(size).fill(0);
  for (let c = 0; c < size; c++) {
    p[c]! += table.prob[c]! / size;
    p[table.alias[c]!]! += (1 - table.prob[c]!) / size;
  }
  return p;
}

describe("noise tables", () => {
  const program = checkedSource(SMALL_SKIPGRAM);
  const step = pipelineTraining(buildModelPlan(program, "W"), "P")[0]!;
  const noiseFeedsOf = (data: Inputs) => noiseFeeds(`training step '${step.name}'`, step.noise, data);

  test("the step's extra inputs are its noise table's two", () => {
    expect(stepFeedNames(step)).toEqual(["negatives.sgns.prob", "negatives.sgns.alias"]);
  });

  test("the table of the counts of the context ids, over all the data given", () => {
    expect(step.noise.map((n) => [n.fields, n.vocab])).toEqual([[["context"], 10]]);
    const data = { center: [0, 0, 0, 1, 2, 2], context: [1, 1, 9, 0, 0, 0] };
    const feeds = noiseFeedsOf(data);
    const expected = negativeTable([3, 2, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(feeds.get("negatives.sgns.prob")).toEqual({ shape: [16], data: Float32Array.from(expected.prob) });
    expect(feeds.get("negatives.sgns.alias")).toEqual({ shape: [16], data: expected.alias });
    // Only the counts matter: the same ids in another order give the same table.
    expect(noiseFeedsOf({ center: [2, 0, 1, 0, 2, 0], context: [0, 9, 0, 1, 0, 1] })).toEqual(feeds);
  });

  test("word2vec's noise: a tiny corpus's table, counted by hand, is the one a plan's step makes (repr train and apps run the same plan)", () => {
    // "a b a c": word2vec's unigram table counts each occurrence once: a 2, b 1, c 1 (ids by frequency: a 0, b 1, c 2).
    const { ids } = tokenizeWords("a b a c", 10);
    expect([...ids]).toEqual([0, 1, 0, 2]);
    const byHand = [2, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    // The pairs (window 5: every word with every other) hold each occurrence as a context 3 times: a 6, b 3, c 3.
    const pairs = skipGramPairs(ids);
    const split: Split = { origin: "corpus", length: pairs.center.length, columns: new Map([["center", { dtype: "i32", shape: [], data: pairs.center }], ["context", { dtype: "i32", shape: [], data: pairs.context }]]) };
    const plan = noiseFeedsOf(inputsOf(split));
    const want = distribution(negativeTable(byHand));
    for (const feeds of [plan]) {
      const got = distribution({ prob: feeds.get("negatives.sgns.prob")!.data as Float32Array, alias: feeds.get("negatives.sgns.alias")!.data as Int32Array });
      got.forEach((p, id) => expect(p, `id ${id}`).toBeCloseTo(want[id]!, 6));
    }
    expect(want.slice(0, 3).map((p) => p / want[0]!)).toEqual([1, 0.5 ** 0.75, 0.5 ** 0.75].map((x) => expect.closeTo(x, 6)));
  });

  test("centers are not counted: pairs whose centers differ from their contexts give the contexts' table", () => {
    const data = { center: Int32Array.of(0, 0, 0, 0), context: Int32Array.of(1, 1, 2, 1) };
    const split: Split = { origin: "pairs", length: 4, columns: new Map([["center", { dtype: "i32", shape: [], data: data.center }], ["context", { dtype: "i32", shape: [], data: data.context }]]) };
    const contexts = negativeTable([0, 3, 1, 0, 0, 0, 0, 0, 0, 0]);
    const both = negativeTable([4, 3, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(both.prob).not.toEqual(contexts.prob);
    expect(split.length).toBe(4);
    for (const feeds of [noiseFeedsOf(data)]) {
      expect(feeds.get("negatives.sgns.prob")!.data).toEqual(Float32Array.from(contexts.prob));
      expect(feeds.get("negatives.sgns.alias")!.data).toEqual(contexts.alias);
    }
  });

  test("tokenCounts counts ids in range only", () => {
    expect([...tokenCounts([[0, 1, 1], Int32Array.of(3, 7, -1)], 4)]).toEqual([1, 2, 0, 1]);
  });

  test("a step without negatives or a data-dependent schedule needs nothing", () => {
    const plain = pipelineTraining(buildModelPlan(checkedSource(COSINE_OVER_EPOCHS.replace("cosine(warmup: 2)", "constant")), "M"), "P")[0]!;
    expect(stepFeedNames(plain)).toEqual([]);
    expect(stepFeeds(plain, { x: [0, 0, 0, 0] }, 7).size).toBe(0);
  });

  test("a missing field, a plan that disagrees with its graph and a bad number of updates are ReprErrors", async () => {
    expect(() => noiseFeedsOf({ center: [0] })).toThrow(ReprError);
    expect(() => noiseFeedsOf({ center: [0] })).toThrow(/training step 'pretrain': its negatives count the input 'context', which was not given/);
    // noiseFeeds no longer sees the graph: a table the graph does not take must be refused where the step runs.
    const plan = buildModelPlan(program, "W");
    const own = plan.training[0]!;
    const wrong = { ...plan, training: [{ ...own, noise: [{ ...own.noise[0]!, vocab: 40 }] }] };
    const model = await Model.create(wrong, { backend: "cpu" });
    const fit = () => model.fit("train", { center: Int32Array.of(0, 1), context: Int32Array.of(1, 0) }, { updates: 1 });
    await expect(fit()).rejects.toThrow(ReprError);
    await expect(fit()).rejects.toThrow(/feeds 'negatives.sgns.prob' as f32\[64\], but its graph has f32\[16\]/);
    model.dispose();
    const cosine = pipelineTraining(buildModelPlan(checkedSource(COSINE_OVER_EPOCHS), "M"), "P")[0]!;
    expect(() => updatesFeed(cosine, 2.5)).toThrow(/a whole number in \[0, 2\^31\), got 2.5/);
    expect(() => updatesFeed(cosine, -1)).toThrow(ReprError);
  });
});

describe("a plan's step, fed by stepFeeds, computes what the step lowered directly computes", () => {
  test("the skip-gram example: the same loss and updates, bit for bit", () => {
    const { program } = examplePrograms().find((e) => e.file === "skipgram.repr")!;
    const step = pipelineTraining(buildModelPlan(program, "SkipGram"), "Train")[0]!;
    expect(step.noise.length).toBe(1);
    const split = splitOf(program, "corpus", 3000);
    const ours = planUpdate(program, "SkipGram", step, split, 7, 15);
    const theirs = directUpdate(program, "Train", 0, split, 7, 15);
    expect(Number.isFinite(ours["loss"]!.data[0])).toBe(true);
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
    for (const name of Object.keys(theirs)) expect(firstDifference(ours[name]!, theirs[name]!), name).toBe(-1);
    // The table matters: one made from other data draws other negatives.
    const other = stepFeeds(step, inputsOf(splitOf(program, "corpus", 50)), 15);
    const feeds = new Map([...batchFeeds(split, ["center", "context"], step.batch), ...other]);
    feeds.set("seed", { shape: [], data: Int32Array.of(SEED) });
    feeds.set("step", { shape: [], data: Int32Array.of(7) });
    const elsewhere = cpuBackend.compile(kernelAt(step.graph, step.batch)).run(feeds, weights(program, "SkipGram", step.state));
    expect(elsewhere["loss"]!.data[0]).not.toBe(ours["loss"]!.data[0]);
  });

  test("cosine over epochs: the learning rate at an update is the one a lowering bakes in for the same number of updates", () => {
    const program = checkedSource(COSINE_OVER_EPOCHS);
    const step = pipelineTraining(buildModelPlan(program, "M"), "P")[0]!;
    expect(stepFeedNames(step)).toEqual(["updates"]);
    const split = splitOf(program, "d", 20);
    const updates = 12;
    const weight = weights(program, "M", []).get("f.weight")!.data;
    // Plain SGD on a fixed batch and weights: the update is lrₜ · g with g the same at every t.
    const delta = (out: Record<string, TensorValue>): number => weight[0]! - out["new:f.weight"]!.data[0]!;
    const first = planUpdate(program, "M", step, split, 0, updates);
    for (const t of [1, 5, 11]) {
      const ours = planUpdate(program, "M", step, split, t, updates);
      const theirs = directUpdate(program, "P", 0, split, t, updates);
      for (const name of Object.keys(theirs)) expect(firstDifference(ours[name]!, theirs[name]!), `t = ${t}: ${name}`).toBe(-1);
      const lr0 = scheduledRateValue(0.1, { kind: "cosine", warmup: 2 }, 0, updates);
      const rate = (delta(ours) / delta(first)) * lr0;
      expect(Math.abs(rate - scheduledRateValue(0.1, { kind: "cosine", warmup: 2 }, t, updates)), `t = ${t}`).toBeLessThan(1e-6);
    }
    // Another number of updates is another schedule.
    expect(delta(planUpdate(program, "M", step, split, 5, 30))).not.toBe(delta(planUpdate(program, "M", step, split, 5, updates)));
  });
});
