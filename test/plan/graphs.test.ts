/**
 * Every example's plans: each graph is valid and survives JSON (batch graphs
 * also once instantiated and planned at two batch sizes), and every
 * function's inputs and output agree with its graphs and with the checker's
 * types.
 */
import { describe, expect, test } from "vitest";
import { assertValidKernelGraph } from "../../runtime/kernel/validate.js";
import { kernelGraphFromJson, kernelGraphToJson, type KernelGraph } from "../../runtime/kernel/graph.js";
import { batchGraphFromJson, batchGraphProblems, batchGraphToJson, type BatchGraph } from "../../runtime/ir/batch-graph.js";
import type { ExampleType, ModelPlan, PlanFunction } from "../../runtime/api/plan.js";
import { PLAN_FORMAT } from "../../runtime/api/plan.js";
import { stepFeedNames } from "../../runtime/api/step-feeds.js";
import type { CheckedModel } from "../../compiler/check/program.js";
import type { TensorType } from "../../compiler/check/types.js";
import { modelParams } from "../../compiler/lower/declare.js";
import { examplePlans, kernelAt, BATCH, TRAIN_BATCH } from "./harness.js";

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

/** The plan's kernel graphs: the model's initialization, and each new head's and each model after a pipeline's. */
function kernelGraphsOf(plan: ModelPlan): [string, KernelGraph][] {
  return [
    ["init", plan.init],
    ...plan.pipelines.flatMap((p) => [
      ...p.steps.flatMap((s, i): [string, KernelGraph][] => (s.kind === "replace" ? [[`${p.name} step ${i + 1} init`, s.head.init]] : [])),
      ...(p.after ? [[`${p.name} after: init`, p.after.init] as [string, KernelGraph]] : []),
    ]),
  ];
}

/** The plan's batch graphs: functions, training steps and test steps, the pipelines' included. */
function batchGraphsOf(plan: ModelPlan): [string, BatchGraph][] {
  return [
    ...plan.functions.map((f): [string, BatchGraph] => [f.name, f.graph]),
    ...plan.training.map((t): [string, BatchGraph] => [`training ${t.name}`, t.graph]),
    ...plan.pipelines.flatMap((p) => [
      ...p.steps.flatMap((s, i): [string, BatchGraph][] =>
        s.kind === "pretrain" || s.kind === "adapt" ? [[`${p.name} step ${i + 1} (${s.training.name})`, s.training.graph]] : s.kind === "test" ? [[`${p.name} step ${i + 1} (test)`, s.graph]] : [],
      ),
      ...(p.after?.functions ?? []).map((f): [string, BatchGraph] => [`${p.name} after: ${f.name}`, f.graph]),
    ]),
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
  BYOL: [128],
  SparseAE: [196],
};

function expectSignature(f: PlanFunction): void {
  for (const n of [BATCH, 1]) {
    const graph = kernelAt(f.graph, n);
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

// A model's plan carries its pipelines: what concerns the whole plan is checked once per model.
describe.each(examplePlans().filter((c) => c.pipeline === null).map((c) => [c.label, c] as const))("%s (the whole plan)", (_label, c) => {
  const { plan, model } = c;

  test("is plain data naming the model, its parts, tensors and pipelines", () => {
    expect(plan.format).toBe(PLAN_FORMAT);
    expect(plan.model).toBe(model.name);
    expect(plan.doc).toBe(model.doc);
    expect(plan.parts).toEqual(model.parts.map((p) => ({ name: p.name, role: p.role, doc: p.doc })));
    // The model's own tensors: a pipeline's replaced heads are in its own `after` and `replace` steps.
    expect(plan.tensors.map((t) => [t.name, t.shape])).toEqual(modelParams(model).map((p) => [p.name, p.shape]));
    expect(plan.pipelines.map((p) => p.name)).toEqual(c.program.pipelines.filter((p) => p.model === model.name).map((p) => p.name));
    // Plain JSON would turn the −∞ of a causal mask into null: a plan is written as kernel graphs are.
    expect(planFromJson(planToJson(plan))).toEqual(plan);
  });

  test("every kernel graph is valid and round-trips through JSON", () => {
    for (const [what, g] of kernelGraphsOf(plan)) {
      expect(() => assertValidKernelGraph(g), what).not.toThrow();
      expect(kernelGraphFromJson(kernelGraphToJson(g)), what).toEqual(g);
    }
  });

  test("every batch graph is valid, round-trips through JSON, and plans into a valid kernel graph at B and at 1", () => {
    for (const [what, g] of batchGraphsOf(plan)) {
      expect(batchGraphProblems(g), what).toEqual([]);
      expect(batchGraphFromJson(batchGraphToJson(g)), what).toEqual(g);
      for (const n of [BATCH, 1]) expect(() => assertValidKernelGraph(kernelAt(g, n)), `${what} at ${n}`).not.toThrow();
    }
  });

  test("each init graph has input seed and one output per tensor", () => {
    const inits = [
      { what: "the model", init: plan.init, tensors: plan.tensors },
      ...plan.pipelines.flatMap((p) => [
        ...p.steps.flatMap((s, i) => (s.kind === "replace" ? [{ what: `${p.name} step ${i + 1}`, init: s.head.init, tensors: s.head.tensors }] : [])),
        ...(p.after ? [{ what: `${p.name} after`, init: p.after.init, tensors: p.after.tensors }] : []),
      ]),
    ];
    for (const { what, init, tensors } of inits) {
      expect(init.inputs.map((i) => [i.name, i.shape, i.dtype]), what).toEqual([["seed", [], "i32"]]);
      expect(init.outputs.map((o) => [o.name, o.shape]), what).toEqual(tensors.map((t) => [t.name, t.shape]));
    }
  });
});

describe.each(examplePlans().map((c) => [c.label, c] as const))("%s", (_label, c) => {
  const { model } = c;

  test("functions' inputs and outputs match their graphs and the checker's types", () => {
    const names = c.functions.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const f of c.functions) {
      expect(f.name).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      expectSignature(f);
      // Every parameter is one of the model's tensors (after the pipeline), with its shape.
      const tensors = new Map(c.tensors.map((t) => [t.name, t.shape]));
      for (const p of [...kernelAt(f.graph, BATCH).params, ...kernelAt(f.graph, 1).params]) expect(tensors.get(p.name), p.name).toEqual(p.shape);
    }
    const byName = new Map(c.functions.map((f) => [f.name, f]));
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
    for (const t of c.training) {
      const graph = kernelAt(t.graph, t.batch);
      const made = stepFeedNames(t);
      for (const name of made) expect(graph.inputs.map((i) => i.name), name).toContain(name);
      const graphInputs = graph.inputs.filter((i) => i.name !== "seed" && i.name !== "step" && !made.includes(i.name));
      expect(graphInputs.map((i) => i.name)).toEqual(t.inputs.map((i) => i.name));
      t.inputs.forEach((input, k) => expect(graphInputs[k]!.shape).toEqual([t.batch, ...input.shape]));
      expect(t.batch).toBe(c.pipeline === null ? TRAIN_BATCH : t.batch);
      const params = new Map(graph.params.map((p) => [p.name, p.shape]));
      for (const s of t.state) expect(params.get(s.name), s.name).toEqual(s.shape);
      for (const p of t.trainable) expect(t.frozen).not.toContain(p);
    }
  });
});
