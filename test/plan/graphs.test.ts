/**
 * Every example's plans: each kernel graph is valid and survives JSON, and
 * every function's inputs and output agree with its graphs and with the
 * checker's types.
 */
import { describe, expect, test } from "vitest";
import { assertValidKernelGraph } from "../../runtime/kernel/validate.js";
import { kernelGraphFromJson, kernelGraphToJson, type KernelGraph } from "../../runtime/kernel/graph.js";
import type { ExampleType, PlanFunction } from "../../runtime/api/plan.js";
import { PLAN_FORMAT } from "../../runtime/api/plan.js";
import { stepFeedNames } from "../../runtime/api/step-feeds.js";
import type { CheckedModel } from "../../compiler/check/program.js";
import type { TensorType } from "../../compiler/check/types.js";
import { modelParams } from "../../compiler/lower/declare.js";
import { examplePlans, BATCH, TRAIN_BATCH } from "./harness.js";

/** What the checker says one example of `t` is, with masks off (a visible subset is the whole sequence). */
function checkerExample(t: TensorType): ExampleType {
  const shape = t.positions !== undefined ? [t.positions, ...t.shape.slice(1)] : [...t.shape];
  return { dtype: t.dtype === "f32" ? "f32" : "i32", shape, ...(t.classes !== undefined ? { classes: t.classes } : {}), ...(t.vocab !== undefined ? { vocab: t.vocab } : {}) };
}

/** The number spelling of `kernelGraphToJson` applied to a whole plan. */
function planToJson(plan: object): string {
  return JSON.stringify(plan, (_k, v: unknown) => (typeof v === "number" && (!Number.isFinite(v) || Object.is(v, -0)) ? { $num: Object.is(v, -0) ? "-0" : String(v) } : v));
}

function planFromJson(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    const num = typeof v === "object" && v !== null && Object.keys(v).length === 1 ? (v as { $num?: unknown }).$num : undefined;
    return typeof num === "string" ? (num === "-0" ? -0 : Number(num)) : v;
  });
}

function graphsOf(plan: ReturnType<typeof examplePlans>[number]["plan"]): [string, KernelGraph][] {
  return [
    ["init", plan.init],
    ...plan.functions.flatMap((f): [string, KernelGraph][] => [
      [`${f.name} (batch)`, f.graph],
      [`${f.name} (single)`, f.single],
    ]),
    ...plan.training.map((t): [string, KernelGraph] => [`training ${t.name}`, t.graph]),
  ];
}

/** The encode output shapes of the examples, written out. */
const ENCODED: Record<string, readonly number[]> = {
  Colorize: [64, 7, 7],
  Contrastive: [128],
  MAE: [49, 64],
  Autoencoder: [32],
  SkipGram: [100],
  TinyGPT: [63, 128],
  Classifier: [128],
};

function expectSignature(f: PlanFunction): void {
  for (const [graph, n] of [
    [f.graph, f.batch],
    [f.single, 1],
  ] as const) {
    expect(graph.inputs.map((i) => i.name)).toEqual(f.inputs.map((i) => i.name));
    f.inputs.forEach((input, k) => {
      expect(graph.inputs[k]!.shape).toEqual([n, ...input.shape]);
      expect(graph.inputs[k]!.dtype).toBe(input.dtype);
    });
    expect(graph.outputs.map((o) => o.name)).toEqual(["output"]);
    expect(graph.outputs[0]!.shape).toEqual([n, ...f.output.shape]);
    expect(graph.outputs[0]!.dtype).toBe(f.output.dtype);
  }
}

function expectModelInputs(model: CheckedModel, f: PlanFunction): void {
  expect(f.inputs.length).toBeGreaterThan(0);
  for (const input of f.inputs) {
    const declared = model.inputs.find((i) => i.name === input.name);
    expect(declared, `${f.name} reads '${input.name}', not a model input`).toBeDefined();
    expect({ ...input, name: undefined }).toEqual({ ...checkerExample(declared!.type), name: undefined });
  }
}

describe.each(examplePlans().map((c) => [c.label, c] as const))("%s", (_label, c) => {
  const { plan, model } = c;

  test("is plain data naming the model, its parts and tensors", () => {
    expect(plan.format).toBe(PLAN_FORMAT);
    expect(plan.model).toBe(model.name);
    expect(plan.doc).toBe(model.doc);
    expect(plan.parts).toEqual(model.parts.map((p) => ({ name: p.name, role: p.role, doc: p.doc })));
    if (c.pipeline === null) expect(plan.tensors.map((t) => [t.name, t.shape])).toEqual(modelParams(model).map((p) => [p.name, p.shape]));
    // Plain JSON would turn the −∞ of a causal mask into null: a plan is written as kernel graphs are.
    expect(planFromJson(planToJson(plan))).toEqual(plan);
  });

  test("every kernel graph is valid and round-trips through JSON", () => {
    for (const [what, g] of graphsOf(plan)) {
      expect(() => assertValidKernelGraph(g), what).not.toThrow();
      expect(kernelGraphFromJson(kernelGraphToJson(g)), what).toEqual(g);
    }
  });

  test("the init graph has input seed and one output per tensor", () => {
    expect(plan.init.inputs.map((i) => [i.name, i.shape, i.dtype])).toEqual([["seed", [], "i32"]]);
    expect(plan.init.outputs.map((o) => [o.name, o.shape])).toEqual(plan.tensors.map((t) => [t.name, t.shape]));
  });

  test("functions' inputs and outputs match their graphs and the checker's types", () => {
    const names = plan.functions.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const f of plan.functions) {
      expect(f.batch).toBe(BATCH);
      expect(f.name).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      expectSignature(f);
      // Every parameter is one of the model's tensors, with its shape.
      const tensors = new Map(plan.tensors.map((t) => [t.name, t.shape]));
      for (const p of [...f.graph.params, ...f.single.params]) expect(tensors.get(p.name), p.name).toEqual(p.shape);
    }
    const byName = new Map(plan.functions.map((f) => [f.name, f]));
    const encode = byName.get("encode");
    expect(encode, "encode").toBeDefined();
    expectModelInputs(model, encode!);
    expect(encode!.output.shape).toEqual(ENCODED[model.name]);
    const forward = byName.get("forward");
    expect(forward !== undefined).toBe(model.prediction !== null);
    if (forward) {
      expectModelInputs(model, forward);
      expect(forward.output).toEqual(checkerExample(model.prediction!.type));
    }
    const decoder = model.parts.find((p) => p.role === "decoder");
    expect(byName.has("decode")).toBe(decoder !== undefined);
    const parts: [string, (typeof model.parts)[number]][] = [
      ...(decoder ? [["decode", decoder] as [string, typeof decoder]] : []),
      ...model.parts.filter((p) => p.role === "head").map((p): [string, typeof p] => [p.name, p]),
    ];
    for (const [name, part] of parts) {
      const f = byName.get(name)!;
      expect(f, name).toBeDefined();
      expect(f.doc).toBe(part.doc);
      expect(f.inputs).toEqual([{ name: name === "decode" ? "code" : "features", ...checkerExample(part.input!) }]);
      if (c.pipeline === null) expect(f.output).toEqual(checkerExample(part.output!));
    }
  });

  test("training steps list their data inputs, the inputs the runtime makes, state and parts", () => {
    for (const t of plan.training) {
      const made = stepFeedNames(t);
      for (const name of made) expect(t.graph.inputs.map((i) => i.name), name).toContain(name);
      const graphInputs = t.graph.inputs.filter((i) => i.name !== "seed" && i.name !== "step" && !made.includes(i.name));
      expect(graphInputs.map((i) => i.name)).toEqual(t.inputs.map((i) => i.name));
      t.inputs.forEach((input, k) => expect(graphInputs[k]!.shape).toEqual([t.batch, ...input.shape]));
      expect(t.batch).toBe(c.pipeline === null ? TRAIN_BATCH : t.batch);
      const params = new Map(t.graph.params.map((p) => [p.name, p.shape]));
      for (const s of t.state) expect(params.get(s.name), s.name).toEqual(s.shape);
      for (const p of t.trainable) expect(t.frozen).not.toContain(p);
    }
  });
});
