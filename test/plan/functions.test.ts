/**
 * The functions of the examples' plans, run on the reference backend with the
 * model's initial weights: they compute what the model computes (the lowered
 * prediction, each part as applied inside the model with masks off), and each
 * function's batch graph at several examples and at one agrees row by row.
 */
import { describe, expect, test } from "vitest";
import { initialize } from "../../compiler/lower/init.js";
import { modelParams } from "../../compiler/lower/declare.js";
import { lowerModel } from "../../compiler/lower/model.js";
import { Session } from "../../compiler/lower/context.js";
import { ModelLowerer } from "../../compiler/lower/model-scope.js";
import type { CheckedModel } from "../../compiler/check/program.js";
import type { TensorFeed } from "../../runtime/backends/backend.js";
import { run } from "../../runtime/backends/reference/evaluate.js";
import { BATCH, examplePlans, expectTensorsClose, inputData, kernelAt, row, runGraph, type Tensor } from "./harness.js";

const TOL = 1e-12;

/** Data for `n` examples of each model input, by name. */
function modelData(model: CheckedModel, n: number): Record<string, Tensor> {
  return Object.fromEntries(
    model.inputs.map((i) => {
      const t = i.type;
      return [i.name, inputData({ name: i.name, dtype: t.dtype === "f32" ? "f32" : "i32", shape: t.shape, ...(t.vocab !== undefined ? { vocab: t.vocab } : {}), ...(t.classes !== undefined ? { classes: t.classes } : {}) }, n)];
    }),
  );
}

function plainTensor(v: { shape: readonly number[]; data: ArrayLike<number> }): Tensor {
  return { shape: [...v.shape], data: Array.from(v.data) };
}

const cases = examplePlans().filter((c) => c.pipeline === null);

describe.each(cases.map((c) => [c.label, c] as const))("%s", (_label, c) => {
  const { plan, model, program } = c;
  const params = modelParams(model);
  const values = initialize(params, 1);
  const weights = new Map<string, TensorFeed>(params.map((p) => [p.name, { shape: p.shape, data: values.get(p.name)! }]));
  const data = modelData(model, BATCH);
  const fn = (name: string) => plan.functions.find((f) => f.name === name);
  const call = (name: string, feeds: Record<string, Tensor>): Tensor => runGraph(kernelAt(fn(name)!.graph, feeds[fn(name)!.inputs[0]!.name]!.shape[0]!), feeds, weights)["output"]!;

  test("the init graph gives initialize(params, seed)", () => {
    const seed = 7;
    const out = runGraph(plan.init, { seed: { shape: [], data: [seed] } }, {});
    const expected = initialize(params, seed);
    for (const p of params) expectTensorsClose(out[p.name]!, { shape: [...p.shape], data: Array.from(expected.get(p.name)!) }, TOL, p.name);
  });

  test("the graph at several examples and at one agree row by row", () => {
    for (const f of plan.functions) {
      const feeds = Object.fromEntries(f.inputs.map((i) => [i.name, inputData(i, BATCH)]));
      const batched = runGraph(kernelAt(f.graph, BATCH), feeds, weights)["output"]!;
      const single = kernelAt(f.graph, 1);
      for (let r = 0; r < BATCH; r++) {
        const one = runGraph(single, Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, row(v, r)])), weights)["output"]!;
        expectTensorsClose(one, row(batched, r), TOL, `${f.name} row ${r}`);
      }
    }
  });

  test("forward equals the lowered prediction", () => {
    const lowered = lowerModel(program, model.name, { batch: BATCH, mode: "eval", objectives: [], prediction: true });
    expect(lowered.inputs.every((i) => i.kind === "data")).toBe(true);
    const feeds = Object.fromEntries(lowered.inputs.map((i) => [i.name, data[i.name]!]));
    const expected = run(lowered.graph, { ...Object.fromEntries(weights), ...feeds })["prediction"]!;
    const f = fn("forward")!;
    expect(f.inputs.map((i) => i.name).sort()).toEqual(lowered.inputs.map((i) => i.name).sort());
    expectTensorsClose(call("forward", feeds), plainTensor(expected), TOL, "forward");
  });

  test("decode(encode(x)) is the prediction when the prediction decodes the code", () => {
    const parts = model.prediction?.parts ?? [];
    const decodesCode = fn("decode") !== undefined && parts.length > 0 && model.parts.find((p) => p.name === parts[parts.length - 1])?.role === "decoder";
    expect(decodesCode).toBe(["Autoencoder", "Colorize", "SparseAE"].includes(model.name));
    if (!decodesCode) return;
    const code = call("encode", data);
    expect(code.shape).toEqual([BATCH, ...fn("encode")!.output.shape]);
    expectTensorsClose(call("decode", { code }), call("forward", data), TOL, "decode(encode(x))");
  });

  test("decode and each head equal the part as the model applies it, masks off", () => {
    const partFunctions = plan.functions.filter((f) => f.name !== "encode" && f.name !== "forward");
    expect(partFunctions.length).toBe(model.parts.filter((p) => p.role === "decoder" || p.role === "head").length);
    for (const f of partFunctions) {
      const part = f.name === "decode" ? model.parts.find((p) => p.role === "decoder")! : model.parts.find((p) => p.name === f.name)!;
      const s = new Session(BATCH, null);
      const m = new ModelLowerer(s, model, { mode: "eval", frozen: new Set(), partModes: new Map(), replaced: new Map() });
      const app = m.applicationsOf(part.name)[0]!;
      const graph = s.b.graph({ input: m.worlds.plain.value(app.input).x, output: m.worlds.plain.value(app.id).x });
      const inside = run(graph, { ...Object.fromEntries(weights), ...data, seed: { shape: [], data: [5] }, step: { shape: [], data: [0] } });
      const alone = call(f.name, { [f.inputs[0]!.name]: plainTensor(inside["input"]!) });
      expectTensorsClose(alone, plainTensor(inside["output"]!), TOL, f.name);
    }
  });
});
