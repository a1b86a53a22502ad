/**
 * The training steps of a plan: the model's own objective (`train`), or the
 * `pretrain` and `adapt` steps of a pipeline, each one graph (forward,
 * backward, update) from `lowerTrainStep`, planned into a kernel graph.
 *
 * The runtime feeds what is not data: `seed` (from its options), `step`
 * (its update counter, from 0), and what the entry names for it to make from
 * the data of a run (runtime/api/step-feeds.ts):
 *
 * - `noise`: the alias tables of a `skipgram` loss's negatives, from the
 *   token counts of the fields `noise.ts` chooses;
 * - `updatesInput`: the number of updates of the run, when a `cosine`
 *   schedule decays over it and the step sets `epochs` rather than `steps`,
 *   so that the number depends on the data (`lowerTrainStep` with `"input"`).
 *
 * A step that draws negatives is left out only when the runtime could not
 * count what `repr train` counts (see `noiseTables`).
 */
import { DEFAULT_STEP_SETTINGS } from "../check/settings.js";
import type { PlanInput, PlanTraining } from "../../runtime/api/plan.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { labelField } from "../check/data.js";
import { DEFAULT_BATCH, findPipeline, stepLowering } from "../lower/steps.js";
import { LowerError } from "../lower/context.js";
import { lowerModel, type LowerOptions } from "../lower/model.js";
import { lowerTrainStep } from "../lower/step-graph.js";
import { UPDATES_INPUT } from "../optim/schedules.js";
import type { CheckedModel, CheckedProgram, CheckedStep, LayerNode, StepSettings } from "../check/program.js";
import { exampleType } from "./functions.js";
import { noiseTables } from "./noise.js";

/** One training entry before lowering: its name, lowering options and settings. */
interface TrainingSpec {
  readonly name: string;
  readonly options: LowerOptions;
  readonly settings: StepSettings | null;
  readonly step: CheckedStep | null;
}

/** The model's own training step: every loss, default settings, `batch` examples per update. */
export function modelTraining(program: CheckedProgram, model: CheckedModel, batch: number = DEFAULT_BATCH): PlanTraining[] {
  if (model.losses.length === 0) return [];
  const entry = lowerTraining(program, model, { name: "train", options: { batch, mode: "train" }, settings: null, step: null });
  return entry ? [entry] : [];
}

/**
 * One entry per `pretrain` and `adapt` step of pipeline `name`, in order,
 * named `pretrain`, `adapt`, then `pretrain2`, `adapt2`, ... for later steps
 * of the same kind. Also returns the heads the pipeline replaces, with their
 * last replacement (what the model is after the pipeline).
 */
export function pipelineTraining(program: CheckedProgram, model: CheckedModel, name: string): { training: PlanTraining[]; replaced: Map<string, LayerNode> } {
  const pipeline = findPipeline(program, name);
  if (pipeline.model !== model.name) {
    throw new LowerError(`pipeline '${name}' trains ${pipeline.model === null ? "no model" : `model '${pipeline.model}'`}, not '${model.name}'`);
  }
  const counts = new Map<string, number>();
  const training: PlanTraining[] = [];
  const replaced = new Map<string, LayerNode>();
  pipeline.steps.forEach((step, index) => {
    if (step.kind === "replace" && step.layer) replaced.set(step.part, step.layer);
    if (step.kind !== "pretrain" && step.kind !== "adapt") return;
    const k = (counts.get(step.kind) ?? 0) + 1;
    counts.set(step.kind, k);
    const lowering = stepLowering(program, name, index);
    const entry = lowerTraining(program, model, { name: k === 1 ? step.kind : `${step.kind}${k}`, options: lowering.options, settings: lowering.settings, step });
    if (entry) training.push(entry);
  });
  return { training, replaced };
}

/** Lowers one training entry; null when the plan cannot carry it (its negatives, see `noiseTables`). */
function lowerTraining(program: CheckedProgram, model: CheckedModel, spec: TrainingSpec): PlanTraining | null {
  const { options, settings } = spec;
  const lowered = lowerModel(program, model.name, { ...options, prediction: false });
  const frozen = options.frozen ?? new Set<string>();
  // Without `steps`, the number of updates is the run's: a schedule that reads it gets it as an input.
  const step = lowerTrainStep(lowered, withPlainLrScale(settings), frozen, settings?.steps ?? "input");
  const inputs: PlanInput[] = lowered.inputs
    .filter((i) => i.kind === "data")
    .map((i) => {
      const declared = model.inputs.find((m) => m.name === i.name);
      if (declared) return { name: i.name, ...exampleType(declared.type) };
      // The label field of a supervised `adapt`: its classes after the step's selection.
      const classes = labelClasses(program, spec.step, i.name);
      return { name: i.name, dtype: i.dtype, shape: i.shape.slice(1), ...(classes !== undefined ? { classes } : {}) };
    });
  const graph = planKernelGraph(step.graph);
  const noise = noiseTables(model, inputs, graph.inputs);
  if (noise === null) return null;
  const trained = new Set(step.trainable.map((p) => p.part).filter((p): p is string => p !== null));
  return {
    name: spec.name,
    doc: null,
    inputs,
    batch: options.batch,
    graph,
    trainable: model.parts.filter((p) => trained.has(p.name)).map((p) => p.name),
    frozen: model.parts.filter((p) => frozen.has(p.name)).map((p) => p.name),
    state: step.state.map((s) => ({ name: s.name, shape: [...s.node.shape] })),
    updates: settings?.steps ?? 0,
    epochs: settings?.epochs ?? 1,
    noise,
    updatesInput: graph.inputs.some((i) => i.name === UPDATES_INPUT) ? UPDATES_INPUT : null,
  };
}


/**
 * The settings with `lr_scale` in an object without a prototype. The
 * optimizer lowering looks a part's scale up by name, and in a plain object a
 * part called `constructor` or `toString` would find `Object`'s members.
 */
function withPlainLrScale(settings: StepSettings | null): StepSettings {
  const s = settings ?? DEFAULT_STEP_SETTINGS;
  return { ...s, lrScale: Object.assign(Object.create(null) as Record<string, number>, s.lrScale) };
}

/** The number of classes of a step's label field `name`, after the step's label selection. */
function labelClasses(program: CheckedProgram, step: CheckedStep | null, name: string): number | undefined {
  if (step === null || !("data" in step)) return undefined;
  const data = program.data.find((d) => d.name === step.data.data);
  const field = data ? labelField(data) : null;
  if (!field || field.name !== name) return undefined;
  return step.data.classes ?? field.type.classes;
}
