/**
 * Model plans for the runtime API's tests, built with the compiler's
 * lowering (the tests' stand-in for compiler/plan/): functions from a
 * model's prediction or a named value in eval mode, training steps with
 * every loss (or a chosen frozen set), and the initialization graph.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Source } from "../../language/source.js";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import { checkProgram } from "../../compiler/check/check.js";
import type { CheckedProgram } from "../../compiler/check/program.js";
import { initGraph, lowerModel, lowerTrainStep, modelParams, findModel } from "../../compiler/lower/index.js";
import { fitBatchGraph } from "../../compiler/plan/index.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import type { KernelGraph } from "../../runtime/kernel/graph.js";
import type { Graph } from "../../runtime/ir/node.js";
import { PLAN_FORMAT, type ModelPlan, type PlanFunction, type PlanInput, type PlanTraining } from "../../runtime/api/plan.js";
import { memoryHost } from "../compiler/harness.js";

const root = join(import.meta.dirname, "..", "..");

/** Checks source text (which must be valid). */
export function programOf(text: string, name = "main.repr"): CheckedProgram {
  const { program, diagnostics } = checkProgram(new Source(name, text), memoryHost());
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new Error(renderDiagnostics(errors));
  return program;
}

/** Checks an example file. */
export function exampleProgram(file: string): CheckedProgram {
  return programOf(readFileSync(join(root, "examples", file), "utf8"), file);
}

/** A function to compile: the prediction, or a `let` value. */
export interface FunctionSpec {
  readonly name: string;
  readonly value?: string;
  /** Ranges of i32 inputs, by input name. */
  readonly ranges?: Readonly<Record<string, { classes?: number; vocab?: number }>>;
}

/** A training step to compile. */
export interface TrainingSpec {
  readonly name: string;
  readonly batch: number;
  readonly frozen?: readonly string[];
  readonly updates?: number;
  readonly ranges?: Readonly<Record<string, { classes?: number; vocab?: number }>>;
}

function inputsOf(graph: KernelGraph, names: readonly string[], ranges: FunctionSpec["ranges"] = {}): PlanInput[] {
  return graph.inputs
    .filter((i) => !names.includes(i.name))
    .map((i) => ({ name: i.name, dtype: i.dtype, shape: i.shape.slice(1), ...(ranges[i.name] ?? {}) }));
}

function functionGraph(program: CheckedProgram, model: string, spec: FunctionSpec, batch: number): Graph {
  const lowered = lowerModel(program, model, { batch, mode: "eval", objectives: [], prediction: spec.value === undefined, values: spec.value ? [spec.value] : [] });
  const node = spec.value ? lowered.outputs.values[spec.value]! : lowered.outputs.prediction!;
  return lowered.builder.graph({ output: node });
}

function trainGraph(program: CheckedProgram, model: string, spec: TrainingSpec, batch: number): ReturnType<typeof lowerTrainStep> {
  const frozen = new Set(spec.frozen ?? []);
  const lowered = lowerModel(program, model, { batch, mode: "train", prediction: false, frozen });
  return lowerTrainStep(lowered, null, frozen, spec.updates ?? 10);
}

/** A plan of model `model` with the given functions and training steps (`batch` is the size their inputs are read at). */
export function planOf(program: CheckedProgram, model: string, functions: readonly FunctionSpec[], batch: number, training: readonly TrainingSpec[] = []): ModelPlan {
  const checked = findModel(program, model);
  const params = modelParams(checked);
  const fns: PlanFunction[] = functions.map((spec) => {
    const probe = planKernelGraph(functionGraph(program, model, spec, batch));
    const out = probe.outputs.find((o) => o.name === "output")!;
    return {
      name: spec.name,
      doc: null,
      inputs: inputsOf(probe, [], spec.ranges),
      output: { dtype: out.dtype, shape: out.shape.slice(1) },
      graph: fitBatchGraph((b) => functionGraph(program, model, spec, b), `function '${spec.name}'`),
    };
  });
  const steps: PlanTraining[] = training.map((spec) => {
    const frozen = new Set(spec.frozen ?? []);
    const step = trainGraph(program, model, spec, spec.batch);
    const probe = planKernelGraph(step.graph);
    return {
      name: spec.name,
      doc: null,
      inputs: inputsOf(probe, ["step", "seed"], spec.ranges).filter((i) => !probe.params.some((p) => p.name === i.name)),
      batch: spec.batch,
      graph: fitBatchGraph((b) => trainGraph(program, model, spec, b).graph, `training step '${spec.name}'`),
      trainable: checked.parts.map((p) => p.name).filter((p) => !frozen.has(p)),
      frozen: [...frozen],
      state: step.state.map((s) => ({ name: s.name, shape: s.node.shape })),
      updates: spec.updates ?? 10,
      noise: [],
      updatesInput: null,
      epochs: 1,
    };
  });
  return {
    format: PLAN_FORMAT,
    model,
    doc: checked.doc,
    source: "main.repr",
    parts: checked.parts.map((p) => ({ name: p.name, role: p.role, doc: p.doc })),
    tensors: params.map((p) => ({ name: p.name, dtype: p.dtype, shape: p.shape, owner: p.owner })),
    init: planKernelGraph(initGraph(params)),
    functions: fns,
    training: steps,
    data: [],
    pipelines: [],
    sampling: null,
  };
}

/** The mnist autoencoder: `encode` (image → code) and `reconstruct` (image → image), training step `train`. */
export function autoencoderPlan(batch = 4, trainBatch = 8): ModelPlan {
  return planOf(exampleProgram("mnist-autoencoder.repr"), "Autoencoder", [{ name: "encode", value: "code" }, { name: "reconstruct" }], batch, [
    { name: "train", batch: trainBatch },
  ]);
}

/** A tiny model for fast loops: x (f32[4]) → dense(4) → relu → dense(3); and a token embedding. */
export const TINY = `
model Tiny {
  input x: f32[4]
  input label: label(classes: 3)
  encoder f = dense(4) -> relu
  head W = classifier(classes: 3)
  loss classify = cross_entropy(W(f(x)), label)
  output W(f(x))
}

model Embed {
  input t: token(vocab: 10)
  encoder f = embedding(vocab: 10, dim: 4)
  output f(t)
}
`;

/** The tiny classifier: function `predict`, training steps `train` (both parts) and `head` (f frozen by the plan). */
export function tinyPlan(batch = 4): ModelPlan {
  const ranges = { label: { classes: 3 } };
  return planOf(programOf(TINY), "Tiny", [{ name: "predict" }], batch, [
    { name: "train", batch, ranges },
    { name: "head", batch, frozen: ["f"], ranges },
  ]);
}

/** The token embedding: function `embed` with an i32 input of vocabulary 10. */
export function embedPlan(batch = 4): ModelPlan {
  return planOf(programOf(TINY), "Embed", [{ name: "embed", ranges: { t: { vocab: 10 } } }], batch);
}
