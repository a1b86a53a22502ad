/**
 * `buildModelPlan`: a checked model as a `ModelPlan` (runtime/api/plan.ts),
 * the plain data a generated module embeds and the runtime's `Model` runs.
 * Every decision is made here — which functions exist and what they are
 * called, their graphs at both batch sizes, the training steps — so that the
 * emitter and the runtime only follow the plan.
 */
import { PLAN_FORMAT, type ModelPlan, type PlanFunction, type PlanTensor } from "../../runtime/api/plan.js";
import type { KernelGraph } from "../../runtime/kernel/graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import type { CheckedModel, CheckedProgram, LayerNode } from "../check/program.js";
import { LowerError } from "../lower/context.js";
import { modelParams } from "../lower/declare.js";
import { initGraph } from "../lower/init.js";
import { findModel } from "../lower/model.js";
import { DEFAULT_BATCH } from "../lower/steps.js";
import { encodePath, lowerEncode, lowerForward, lowerPartAlone, type LoweredFunction } from "./functions.js";
import { headMethodNames } from "./names.js";
import { modelTraining, pipelineTraining } from "./training.js";

/** The batch size functions are compiled at, besides 1. */
export const DEFAULT_FUNCTION_BATCH = 64;

/** What to build. */
export interface PlanOptions {
  /** The batch size of the functions' batch graphs (they also get a graph at batch 1); default 64. */
  readonly batch?: number;
  /** The batch size of the model's own training step (`train`), without `pipeline`; default 32. */
  readonly trainBatch?: number;
  /** A pipeline of the program over this model: its `pretrain` and `adapt` steps become the training entries. */
  readonly pipeline?: string;
}

/** The input name of `decode`. */
export const DECODE_INPUT = "code";
/** The input name of a head function. */
export const HEAD_INPUT = "features";

/** A function to build: its name, doc and lowering at a batch size. */
interface FunctionSpec {
  readonly name: string;
  readonly doc: string | null;
  readonly lower: (batch: number) => LoweredFunction | null;
}

/** Builds the plan of model `modelName` of a checked program. Throws `LowerError` for what cannot be planned. */
export function buildModelPlan(program: CheckedProgram, modelName: string, options: PlanOptions = {}): ModelPlan {
  const batch = checkBatch("batch", options.batch ?? DEFAULT_FUNCTION_BATCH);
  const trainBatch = checkBatch("trainBatch", options.trainBatch ?? DEFAULT_BATCH);
  const model = findModel(program, modelName);
  const { training, replaced } =
    options.pipeline === undefined ? { training: modelTraining(program, model, trainBatch), replaced: new Map<string, LayerNode>() } : pipelineTraining(program, model, options.pipeline);

  const params = modelParams(model, replaced);
  const tensors: PlanTensor[] = params.map((p) => ({ name: p.name, dtype: p.dtype, shape: [...p.shape], owner: p.owner }));
  const functions = functionSpecs(model, replaced).flatMap((spec) => {
    const full = spec.lower(batch);
    const single = spec.lower(1);
    if (!full || !single) return [];
    const fn: PlanFunction = {
      name: spec.name,
      doc: spec.doc,
      inputs: full.inputs,
      output: full.output,
      batch,
      graph: planKernelGraph(full.graph),
      single: planKernelGraph(single.graph),
    };
    return [fn];
  });
  for (const f of functions) {
    checkParams(tensors, `function '${f.name}'`, f.graph);
    checkParams(tensors, `function '${f.name}'`, f.single);
  }
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
  };
}

/** The functions of a model, in the order a generated module lists them: encode, decode, forward, heads. */
function functionSpecs(model: CheckedModel, replaced: ReadonlyMap<string, LayerNode>): FunctionSpec[] {
  const specs: FunctionSpec[] = [];
  const path = encodePath(model);
  if (path) specs.push({ name: "encode", doc: path.encoder.doc ?? path.bottleneck?.doc ?? null, lower: (b) => lowerEncode(model, b, replaced) });
  const decoder = model.parts.find((p) => p.role === "decoder");
  if (decoder) specs.push({ name: "decode", doc: decoder.doc, lower: (b) => lowerPartAlone(model, decoder, DECODE_INPUT, b, replaced) });
  if (model.prediction) specs.push({ name: "forward", doc: outputDoc(model), lower: (b) => lowerForward(model, b, replaced) });
  const heads = model.parts.filter((p) => p.role === "head");
  const names = headMethodNames(
    heads.map((h) => h.name),
    specs.map((s) => s.name),
  );
  heads.forEach((head, i) => specs.push({ name: names[i]!, doc: head.doc, lower: (b) => lowerPartAlone(model, head, HEAD_INPUT, b, replaced) }));
  return specs;
}

/**
 * The doc of the model's prediction: the doc of the `let` its `output` names
 * (`output score`). The checked model keeps no doc for the `output` member
 * itself, so an `output` written as an expression has none here.
 */
function outputDoc(model: CheckedModel): string | null {
  const output = model.prediction?.output ?? null;
  if (output === null) return null;
  return model.lets.find((l) => l.node === output)?.doc ?? null;
}

function checkBatch(option: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new LowerError(`the plan option '${option}' must be an integer ≥ 1, got ${n}`);
  return n;
}

/** Every parameter a graph reads (but optimizer `state`) must be one of the plan's tensors, with its shape: one weights file serves every graph. */
function checkParams(tensors: readonly PlanTensor[], what: string, graph: KernelGraph, state: ReadonlySet<string> = new Set()): void {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  for (const p of graph.params) {
    if (state.has(p.name)) continue;
    const t = byName.get(p.name);
    if (!t) throw new LowerError(`${what} reads tensor '${p.name}', which the model after the pipeline does not have; plans hold one set of tensors`);
    if (t.shape.join() !== p.shape.join()) {
      throw new LowerError(`${what} reads tensor '${p.name}' as [${p.shape}] but the model has it as [${t.shape}]: a pipeline that replaces a head with a differently shaped one cannot be planned yet`);
    }
  }
}
