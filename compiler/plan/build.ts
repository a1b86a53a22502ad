/**
 * `buildModelPlan`: a checked model as a `ModelPlan` (runtime/api/plan.ts),
 * the plain data a generated module embeds, the runtime's `Model` runs and
 * the training engine runs pipelines from (`repr train` builds one too).
 * Every decision is made here — which functions exist and what they are
 * called, their graphs, the model's own training step, every step of its
 * pipelines — so that the emitter and the runtime only follow the plan.
 */
import { PLAN_FORMAT, type ModelPlan, type PlanFunction, type PlanPipeline, type PlanTensor, type PlanTraining } from "../../runtime/api/plan.js";
import type { DataSpec } from "../../runtime/data/spec.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { instantiateBatchGraph, type BatchGraph } from "../../runtime/ir/batch-graph.js";
import type { CheckedPipeline, CheckedProgram, LayerNode } from "../check/program.js";
import { LowerError } from "../lower/context.js";
import { modelParams } from "../lower/declare.js";
import { initGraph } from "../lower/init.js";
import { findModel } from "../lower/model.js";
import { DEFAULT_BATCH, findPipeline } from "../lower/steps.js";
import { dataSpecOf } from "./data.js";
import { planFunctions } from "./functions-plan.js";
import { planSampling } from "./sampling.js";
import { planPipeline, replacedByPipeline } from "./pipeline.js";
import { modelTraining } from "./training.js";

export { DECODE_INPUT, HEAD_INPUT } from "./functions-plan.js";

/** What to build. */
export interface PlanOptions {
  /** The default batch size of the model's own training step (`train`); default 32. */
  readonly trainBatch?: number;
  /**
   * The pipelines over this model to include, by name (default: every one
   * of the program), or pipelines given as checked ones (`repr train
   * --model` makes one).
   */
  readonly pipelines?: readonly (string | CheckedPipeline)[];
  /**
   * Plan the model as it is after this pipeline (its replaced heads, in
   * their new shapes): its tensors, functions and own training step. What
   * `repr compile --pipeline` makes, so the class loads that run's weights.
   */
  readonly afterPipeline?: string;
}

/** Builds the plan of model `modelName` of a checked program. Throws `LowerError` for what cannot be planned. */
export function buildModelPlan(program: CheckedProgram, modelName: string, options: PlanOptions = {}): ModelPlan {
  const trainBatch = checkBatch("trainBatch", options.trainBatch ?? DEFAULT_BATCH);
  const model = findModel(program, modelName);
  const replaced = options.afterPipeline === undefined ? new Map<string, LayerNode>() : replacedByPipeline(findPipeline(program, options.afterPipeline));
  const training = modelTraining(program, model, trainBatch, replaced);
  const params = modelParams(model, replaced);
  const tensors: PlanTensor[] = params.map((p) => ({ name: p.name, dtype: p.dtype, shape: [...p.shape], owner: p.owner }));
  const functions = planFunctions(model, replaced);
  const chosen = (options.pipelines ?? program.pipelines.filter((p) => p.model === model.name)).map((p) => {
    if (typeof p !== "string") return p;
    const found = program.pipelines.find((q) => q.name === p);
    if (!found) throw new LowerError(`there is no pipeline '${p}' (pipelines: ${program.pipelines.map((q) => q.name).join(", ") || "none"})`);
    if (found.model !== model.name) throw new LowerError(`pipeline '${p}' trains ${found.model === null ? "no model" : `model '${found.model}'`}, not '${model.name}'`);
    return found;
  });
  const withPipeline = chosen.some((p) => !program.pipelines.includes(p)) ? { ...program, pipelines: [...program.pipelines, ...chosen.filter((p) => !program.pipelines.includes(p))] } : program;
  const pipelines = chosen.map((p) => planPipeline(withPipeline, model, p));
  const data = dataOf(program, pipelines);

  for (const f of functions) checkParams(tensors, `function '${f.name}'`, f.graph);
  for (const t of training) checkParams(tensors, `training step '${t.name}'`, t.graph, new Set(t.state.map((s) => s.name)));

  return {
    format: PLAN_FORMAT,
    model: model.name,
    doc: model.doc,
    source: program.files[0] ?? "",
    parts: model.parts.map((p) => ({ name: p.name, role: p.role, doc: p.doc })),
    tensors,
    init: planKernelGraph(initGraph(params)),
    functions,
    training,
    data,
    pipelines,
    sampling: planSampling(model, functions),
  };
}

/** The data declarations the pipelines read, in the program's order. */
function dataOf(program: CheckedProgram, pipelines: readonly PlanPipeline[]): DataSpec[] {
  const used = new Set(pipelines.flatMap((p) => p.steps.flatMap((s) => ("data" in s ? [s.data.data] : []))));
  return program.data.filter((d) => used.has(d.name)).map(dataSpecOf);
}

function checkBatch(option: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new LowerError(`the plan option '${option}' must be an integer ≥ 1, got ${n}`);
  return n;
}

/** Every parameter a graph reads (but optimizer `state`) must be one of the plan's tensors, with its shape: one weights file serves every graph. */
function checkParams(tensors: readonly PlanTensor[], what: string, graph: BatchGraph, state: ReadonlySet<string> = new Set()): void {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const planned = planKernelGraph(instantiateBatchGraph(graph, 1));
  for (const p of planned.params) {
    if (state.has(p.name)) continue;
    const t = byName.get(p.name);
    if (!t) throw new LowerError(`internal error: ${what} reads tensor '${p.name}', which the model does not have`);
    if (t.shape.join() !== p.shape.join()) throw new LowerError(`internal error: ${what} reads tensor '${p.name}' as [${p.shape}] but the model has it as [${t.shape}]`);
  }
}

export type { PlanFunction, PlanTraining };
