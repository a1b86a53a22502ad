/**
 * The training steps of the examples' plans (the model's own, and its
 * pipelines' `pretrain` and `adapt` steps): one update of each runs on the
 * reference backend (fed what `stepFeeds` makes besides the batch) and
 * updates exactly the tensors of its trainable parts; which steps a plan
 * carries, their names, settings and extra feeds; option errors.
 */
import { describe, expect, test } from "vitest";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { LowerError } from "../../compiler/lower/context.js";
import { initialize } from "../../compiler/lower/init.js";
import { modelParams } from "../../compiler/lower/declare.js";
import { lowerModel } from "../../compiler/lower/model.js";
import { stepLowering } from "../../compiler/lower/steps.js";
import type { TensorFeed } from "../../runtime/backends/backend.js";
import { stepFeeds } from "../../runtime/api/step-feeds.js";
import type { PlanTraining } from "../../runtime/api/plan.js";
import { checkedSource, examplePlans, inputData, kernelAt, pipelineTraining, runGraph } from "./harness.js";
import { skipgramSource } from "./run-feed-sources.js";

const plans = examplePlans();
/** The training steps of a model alone (`pipeline` null) or of one of its pipelines. */
const trainingOf = (model: string, pipeline: string | null) => plans.find((c) => c.model.name === model && c.pipeline === pipeline)!.training;

/**
 * The plans whose steps run here: every model alone (at batch 2) and the small
 * models' pipelines. The other pipelines train at their own batches (up to
 * 256), which the float64 interpreter takes minutes over; their structure is
 * checked in graphs.test.ts.
 */
const SMALL = new Set(["Classifier", "Autoencoder"]);
const running = plans.filter((c) => c.training.length > 0 && (c.pipeline === null || SMALL.has(c.model.name)));

describe.each(running.map((c) => [c.label, c] as const))("%s", (_label, c) => {
  test("each training step runs once, updating the tensors of its trainable parts only", () => {
    const params = modelParams(c.model);
    const kinds = new Map(params.map((p) => [p.name, p]));
    const values = initialize(params, 1);
    for (const t of c.training) {
      const weights = new Map<string, TensorFeed>(params.map((p) => [p.name, { shape: p.shape, data: values.get(p.name)! }]));
      for (const s of t.state) weights.set(s.name, { shape: s.shape, data: new Float64Array(s.shape.reduce((a, d) => a * d, 1)) });
      const batch = Object.fromEntries(t.inputs.map((i) => [i.name, inputData(i, t.batch)]));
      const extra = stepFeeds(t, Object.fromEntries(Object.entries(batch).map(([name, x]) => [name, x.data])), 10);
      const feeds = { ...batch, ...Object.fromEntries(extra), seed: { shape: [], data: [5] }, step: { shape: [], data: [0] } };
      const graph = kernelAt(t.graph, t.batch);
      const out = runGraph(graph, feeds, weights);
      expect(Number.isFinite(out["loss"]!.data[0]), `${t.name}: loss`).toBe(true);
      const read = new Set(graph.params.map((p) => p.name));
      const learned = [...read].filter((n) => kinds.get(n)?.kind === "weight");
      expect(t.trainable.length, t.name).toBeGreaterThan(0);
      for (const name of learned) {
        const owner = kinds.get(name)!.owner;
        const updated = `new:${name}` in out;
        if (t.trainable.includes(owner)) expect(updated, `${t.name}: new:${name}`).toBe(true);
        if (t.frozen.includes(owner)) expect(updated, `${t.name}: frozen ${name} is updated`).toBe(false);
      }
      // One step moves the weights it updates.
      const moved = learned.filter((n) => out[`new:${n}`]?.data.some((v, k) => v !== values.get(n)![k]));
      expect(moved.length, t.name).toBeGreaterThan(0);
      for (const s of t.state) expect(out[`new:${s.name}`]?.shape, s.name).toEqual(s.shape);
    }
  });
});

describe("the training entries a plan carries", () => {
  test("the model alone: one step `train` over every loss, updates left to the caller", () => {
    const training = trainingOf("Classifier", null);
    expect(training.map((t) => [t.name, t.batch, t.updates, t.frozen])).toEqual([["train", 2, 0, []]]);
    expect(training[0]!.trainable).toEqual(["f", "W"]);
    expect(training[0]!.inputs).toEqual([
      { name: "image", dtype: "f32", shape: [1, 28, 28] },
      { name: "label", dtype: "i32", shape: [], classes: 5 },
    ]);
  });

  test("a pipeline: its pretrain and adapt steps, with their batches, frozen parts and updates", () => {
    // A model's plan carries every pipeline over it; `training` is the model's own step only.
    const plan = plans.find((c) => c.model.name === "Classifier" && c.pipeline === null)!.plan;
    expect(plan.pipelines.map((p) => p.name)).toEqual(["Transfer", "FromScratch"]);
    expect(plan.training.map((t) => t.name)).toEqual(["train"]);
    expect(pipelineTraining(plan, "Transfer").map((t) => t.name)).toEqual(["pretrain", "adapt"]);
    const transfer = trainingOf("Classifier", "Transfer");
    expect(transfer.map((t) => [t.name, t.batch, t.trainable, t.frozen])).toEqual([
      ["pretrain", 128, ["f", "W"], []],
      ["adapt", 50, ["W"], ["f"]],
    ]);
    expect(trainingOf("Contrastive", "LinearProbe").map((t) => [t.name, t.inputs.map((i) => i.name), t.frozen])).toEqual([
      ["pretrain", ["image"], []],
      ["adapt", ["image", "label"], ["f"]],
    ]);
    const gpt = trainingOf("TinyGPT", "Train");
    expect(gpt.map((t) => [t.name, t.updates])).toEqual([["pretrain", 5000]]);
  });

  test("the state of a step is its optimizer's, as lowerTrainStep makes it", () => {
    const adapt = trainingOf("Classifier", "Transfer")[1]!;
    expect(adapt.state.map((s) => s.name).sort()).toEqual(["W.bias.adam.m", "W.bias.adam.v", "W.weight.adam.m", "W.weight.adam.v"]);
  });

  test("a step that draws skipgram negatives names its noise table: the context fields counted and the table's vocabulary", () => {
    const c = plans.find((p) => p.model.name === "SkipGram" && p.pipeline === null)!;
    expect(lowerModel(c.program, "SkipGram", { batch: 2, mode: "train" }).inputs.some((i) => i.kind === "negatives")).toBe(true);
    const table = { prob: "negatives.sgns.prob", alias: "negatives.sgns.alias", fields: ["context"], vocab: 5000 };
    expect(c.plan.training.map((t) => [t.name, t.noise, t.updatesInput])).toEqual([["train", [table], null]]);
    expect(trainingOf("SkipGram", "Train").map((t) => [t.name, t.noise, t.updatesInput])).toEqual([["pretrain", [table], null]]);
    const inputs = graphInputs(trainingOf("SkipGram", "Train")[0]!);
    expect(inputs.get(table.prob)).toEqual("f32[8192]");
    expect(inputs.get(table.alias)).toEqual("i32[8192]");
    expect(c.plan.functions.map((f) => f.name)).toEqual(["encode", "forward"]);
  });

  test("a cosine schedule over epochs reads the run's number of updates from the input `updates`", () => {
    const c = plans.find((p) => p.model.name === "MAE" && p.pipeline === "LinearProbe")!;
    expect(stepLowering(c.program, "LinearProbe", 0).settings?.schedule?.name).toBe("cosine");
    expect(c.training.map((t) => [t.name, t.updates, t.updatesInput, t.noise])).toEqual([
      ["pretrain", 0, "updates", []],
      ["adapt", 0, null, []],
    ]);
    expect(graphInputs(c.training[0]!).get("updates")).toBe("i32[]");
    expect(graphInputs(c.training[1]!).has("updates")).toBe(false);
    // Over `steps` too the number is read from the input (changed with the training engine: it used to be
    // the setting's, baked into the graph); the run's own length sets it, so `--steps` stretches the schedule.
    expect(trainingOf("TinyGPT", "Train").map((t) => [t.updates, t.updatesInput])).toEqual([[5000, "updates"]]);
    expect(graphInputs(trainingOf("TinyGPT", "Train")[0]!).get("updates")).toBe("i32[]");
    expect(trainingOf("MAE", "FromScratch").map((t) => [t.name, t.updatesInput])).toEqual([["pretrain", null]]);
  });

  test("a skipgram step counts only its context's field: other token fields of its data do not keep it out of the plan", () => {
    const src = (extra: string) => skipgramSource("steps: 3, batch: 4", extra);
    const carried = pipelineTraining(buildModelPlan(checkedSource(src("")), "W"), "P");
    expect(carried.map((t) => [t.name, t.noise.map((n) => [n.fields, n.vocab])])).toEqual([["pretrain", [[["context"], 10]]]]);
    const withTopic = pipelineTraining(buildModelPlan(checkedSource(src("topic: token(vocab: 10)")), "W"), "P");
    expect(withTopic.map((t) => [t.name, t.noise.map((n) => [n.fields, n.vocab])])).toEqual([["pretrain", [[["context"], 10]]]]);
  });

  test("later steps of one kind are numbered: adapt, adapt2", () => {
    const program = checkedSource(`
model M {
  input x: f32[4]
  input y: label(classes: 3)
  encoder f = dense(8) -> relu
  head W = classifier(classes: 3)
  loss l = cross_entropy(W(f(x)), y)
}
data d {
  x: f32[4]
  y: label(classes: 3)
}
pipeline P {
  pretrain M on d.train { steps: 3, batch: 4 }
  freeze f
  adapt on d.train { steps: 2, batch: 5 }
  unfreeze f
  adapt on d.train { batch: 6 }
  test on d.test
}
`);
    const plan = buildModelPlan(program, "M", { pipelines: ["P"] });
    expect(pipelineTraining(plan, "P").map((t) => [t.name, t.batch, t.updates, t.trainable, t.frozen])).toEqual([
      ["pretrain", 4, 3, ["f", "W"], []],
      ["adapt", 5, 2, ["W"], ["f"]],
      ["adapt2", 6, 0, ["f", "W"], []],
    ]);
    expect(plan.functions.map((f) => f.name)).toEqual(["encode", "forward", "W"]);
  });
});

/** A training step's graph inputs as `dtype[shape]` by name. */
function graphInputs(t: PlanTraining): Map<string, string> {
  return new Map(kernelAt(t.graph, t.batch).inputs.map((i) => [i.name, `${i.dtype}[${i.shape.join(", ")}]`]));
}

describe("errors", () => {
  const { program } = plans.find((p) => p.model.name === "Classifier")!;
  test.each([
    ["an unknown model", () => buildModelPlan(program, "Nope"), /no model 'Nope'/],
    ["an unknown pipeline", () => buildModelPlan(program, "Classifier", { pipelines: ["Nope"] }), /no pipeline 'Nope'/],
    // Functions no longer have a batch size (`batch` is gone): the train batch is the one left to check.
    ["a train batch of 0", () => buildModelPlan(program, "Classifier", { trainBatch: 0 }), /'trainBatch' must be an integer ≥ 1/],
    ["a fractional train batch", () => buildModelPlan(program, "Classifier", { trainBatch: 2.5 }), /'trainBatch' must be an integer ≥ 1/],
  ])("%s is a LowerError", (_what, f, message) => {
    expect(f).toThrow(LowerError);
    expect(f).toThrow(message);
  });

  test("a pipeline over another model is a LowerError", () => {
    const src = `
model A {
  input x: f32[4]
  encoder f = dense(4)
  loss l = mse(f(x), x)
}
model B {
  input x: f32[4]
  encoder g = dense(4)
  loss l = mse(g(x), x)
}
data d {
  x: f32[4]
}
pipeline P {
  pretrain A on d.train { steps: 1 }
}
`;
    expect(() => buildModelPlan(checkedSource(src), "B", { pipelines: ["P"] })).toThrow(/pipeline 'P' trains model 'A', not 'B'/);
    // By default a plan carries the pipelines over its own model only.
    expect(buildModelPlan(checkedSource(src), "B").pipelines).toEqual([]);
    expect(buildModelPlan(checkedSource(src), "A").pipelines.map((p) => p.name)).toEqual(["P"]);
  });
});
