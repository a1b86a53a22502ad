/**
 * The training steps of a plan: the model's own objective (`train`), and the
 * `pretrain` and `adapt` steps of its pipelines, each one graph (forward,
 * backward, update) from `lowerTrainStep`, symbolic in the batch size
 * (`fitBatchGraph`).
 *
 * The runtime feeds what is not data: `seed` (from its options), `step`
 * (its update counter, from 0), and what the entry names for it to make from
 * the data of a run (runtime/api/step-feeds.ts):
 *
 * - `noise`: the alias tables of a `skipgram` loss's negatives, from the
 *   token counts of the fields `noise.ts` chooses;
 * - `updatesInput`: the number of updates of the run, when a schedule decays
 *   over it (`cosine`), so that the run's own length sets it: a step's
 *   `steps` setting, `epochs` over the data given, or `--steps`.
 *
 * A model's own step that draws negatives is left out only when the runtime
 * could not count them from what `fit` is given (see `noiseTables`).
 */
import { DEFAULT_STEP_SETTINGS } from "../check/settings.js";
import type { PlanInput, PlanOptimizer, PlanTraining } from "../../runtime/api/plan.js";
import type { Graph } from "../../runtime/ir/node.js";
import type { NamedValue } from "../../runtime/kernel/graph.js";
import { labelField } from "../check/data.js";
import { DEFAULT_BATCH } from "../lower/steps.js";
import { lowerModel, type LowerOptions, type LoweredModel } from "../lower/model.js";
import { lowerTrainStep, optimizerOf, scheduleOf, trainParams } from "../lower/step-graph.js";
import { DEFAULTS } from "../optim/optimizers.js";
import { rateMultiplier, type TrainStep } from "../optim/train-step.js";
import { UPDATES_INPUT } from "../optim/schedules.js";
import type { CheckedModel, CheckedProgram, CheckedStep, LayerNode, StepSettings } from "../check/program.js";
import { fitBatchGraph } from "./batch-fit.js";
import { exampleType } from "./functions.js";
import { noiseTables } from "./noise.js";

/** One training entry before lowering: its name, lowering options and settings. */
export interface TrainingSpec {
  readonly name: string;
  readonly options: LowerOptions;
  readonly settings: StepSettings | null;
  /** The pipeline step it comes from, or null for the model's own step. */
  readonly step: CheckedStep | null;
}

/** The model's own training step (with the heads `replaced`): every loss, default settings, `batch` examples per update by default. */
export function modelTraining(program: CheckedProgram, model: CheckedModel, batch: number = DEFAULT_BATCH, replaced: ReadonlyMap<string, LayerNode> = new Map()): PlanTraining[] {
  if (model.losses.length === 0) return [];
  const entry = lowerTraining(program, model, { name: "train", options: { batch, mode: "train", replaced }, settings: null, step: null });
  return entry ? [entry] : [];
}

/** The step's graph at one batch size: forward, loss, backward and update. */
function trainGraph(program: CheckedProgram, model: CheckedModel, spec: TrainingSpec, batch: number): { lowered: LoweredModel; step: TrainStep } {
  const lowered = lowerModel(program, model.name, { ...spec.options, batch, prediction: false });
  // The number of updates is the run's: a schedule that reads it gets it as an input.
  const step = lowerTrainStep(lowered, withPlainLrScale(spec.settings), spec.options.frozen ?? new Set<string>(), "input");
  return { lowered, step };
}

/** Lowers one training entry; null when the plan cannot carry it (a model step's negatives, see `noiseTables`). */
export function lowerTraining(program: CheckedProgram, model: CheckedModel, spec: TrainingSpec): PlanTraining | null {
  const { options, settings } = spec;
  const { lowered, step } = trainGraph(program, model, spec, options.batch);
  const inputs: PlanInput[] = lowered.inputs
    .filter((i) => i.kind === "data")
    .map((i) => {
      const declared = model.inputs.find((m) => m.name === i.name);
      if (declared) return { name: i.name, ...exampleType(declared.type) };
      // The label field of a supervised `adapt`: its classes after the step's selection.
      const classes = labelClasses(program, spec.step, i.name);
      return { name: i.name, dtype: i.dtype, shape: i.shape.slice(1), ...(classes !== undefined ? { classes } : {}) };
    });
  const graphInputs = inputsOf(step.graph);
  const noise = noiseTables(model, inputs, graphInputs);
  if (noise === null) return null;
  const graph = fitBatchGraph((b) => trainGraph(program, model, spec, b).step.graph, `training step '${spec.name}'`);
  const frozen = options.frozen ?? new Set<string>();
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
    updatesInput: graphInputs.some((i) => i.name === UPDATES_INPUT) ? UPDATES_INPUT : null,
    optimizer: planOptimizer(lowered, step, settings, frozen),
  };
}

/** What the step's update computes after the gradients, as data (`PlanOptimizer`). */
function planOptimizer(lowered: LoweredModel, step: TrainStep, settings: StepSettings | null, frozen: ReadonlySet<string>): PlanOptimizer {
  const s = withPlainLrScale(settings);
  const o = optimizerOf(s.optimizer);
  const schedule = scheduleOf(s.schedule);
  const { layers } = trainParams(lowered, frozen);
  const rates = { lrScale: s.lrScale, ...(s.layerDecay != null ? { layerDecay: s.layerDecay, layers } : {}) };
  return {
    kind: o.kind,
    lr: o.lr,
    beta: (o.kind === "momentum" ? o.beta : undefined) ?? DEFAULTS.beta,
    beta1: (o.kind === "adam" || o.kind === "adamw" ? o.beta1 : undefined) ?? DEFAULTS.beta1,
    beta2: (o.kind === "adam" || o.kind === "adamw" ? o.beta2 : undefined) ?? DEFAULTS.beta2,
    eps: (o.kind === "adam" || o.kind === "adamw" ? o.eps : undefined) ?? DEFAULTS.eps,
    decoupledDecay: o.kind === "adamw" ? (o.weightDecay ?? DEFAULTS.adamwDecay) : 0,
    schedule: schedule.kind === "cosine" ? { kind: "cosine", warmup: schedule.warmup ?? 0 } : schedule,
    clip: s.clip ?? null,
    weightDecay: s.weightDecay ?? 0,
    params: step.trainable.map((p) => ({ name: p.name, rate: rateMultiplier(p, rates), decay: p.decay })),
  };
}

/** A graph's inputs with their shapes (at the batch size it was lowered at). */
export function inputsOf(graph: Graph): NamedValue[] {
  const seen = new Map<string, NamedValue>();
  const stack = graph.outputs.map((o) => o.node);
  const visited = new Set<unknown>();
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (visited.has(n)) continue;
    visited.add(n);
    if (n.op === "input") seen.set(n.attrs.name, { name: n.attrs.name, value: n.id, shape: n.shape, dtype: n.dtype });
    stack.push(...n.inputs);
  }
  return [...seen.values()];
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
