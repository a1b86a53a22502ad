/**
 * A pipeline step as lowering options (spec/pipelines.md): the state the
 * earlier steps built up — frozen parts and their modes, replaced heads — and
 * what the step itself computes: its mode, its losses (or the supervised
 * objective of an `adapt` without `objective`), its batch.
 */
import { FrozenLayers } from "../check/frozen-layers.js";
import { segmentsBelow } from "../check/layer-targets.js";
import { labelField } from "../check/data.js";
import { ancestors } from "../check/graph.js";
import type { CheckedPipeline, CheckedProgram, CheckedStep, LayerNode, StepSettings } from "../check/program.js";
import { LowerError, type Mode } from "./context.js";
import type { LowerOptions } from "./model.js";

/** A step ready to lower. */
export interface StepLowering {
  readonly model: string;
  readonly step: CheckedStep;
  readonly options: LowerOptions;
  /** The step's settings (optimizer, schedule, clip, ... for a training step). */
  readonly settings: StepSettings | null;
}

/** The default batch of a step (spec/pipelines.md, "Step settings"). */
export const DEFAULT_BATCH = 32;

/** Finds a pipeline of the program by name. */
export function findPipeline(program: CheckedProgram, name: string): CheckedPipeline {
  const pipeline = program.pipelines.find((p) => p.name === name);
  if (!pipeline) {
    throw new LowerError(`there is no pipeline '${name}' (pipelines: ${program.pipelines.map((p) => p.name).join(", ") || "none"})`);
  }
  return pipeline;
}

/**
 * How step `index` (0-based, in the checked pipeline's steps) of a pipeline
 * lowers. `freeze` and `unfreeze` change no graph, so they are not steps to
 * lower; `unfreeze` is taken with its documented default, training mode.
 */
export function stepLowering(program: CheckedProgram, pipelineName: string, index: number): StepLowering {
  const pipeline = findPipeline(program, pipelineName);
  const step = pipeline.steps[index];
  if (!step) throw new LowerError(`pipeline '${pipelineName}' has ${pipeline.steps.length} steps; there is no step ${index + 1}`);
  if (pipeline.model === null) throw new LowerError(`pipeline '${pipelineName}' has no model`);
  const replaced = new Map<string, LayerNode>();
  const model = program.models.find((m) => m.name === pipeline.model);
  // Parts and layers inside them (spec/paths.md), replayed as the checker did (check/frozen-layers.ts).
  const layers = new FrozenLayers((path) => (model ? segmentsBelow(withReplaced(model, replaced), path) : null));
  for (const earlier of pipeline.steps.slice(0, index)) {
    switch (earlier.kind) {
      case "freeze":
        for (const p of earlier.parts) layers.freeze(p, earlier.settings.trainMode ? "train" : "eval");
        break;
      case "unfreeze":
        for (const p of earlier.parts) layers.unfreeze(p);
        break;
      case "replace":
        if (earlier.layer) replaced.set(earlier.part, earlier.layer);
        layers.unfreeze(earlier.part);
        break;
      default:
        break;
    }
  }
  const frozen = new Set(layers.modes().keys());
  const partModes = new Map<string, Mode>([...layers.modes()].filter(([, mode]) => mode === "train"));
  if (step.kind === "freeze" || step.kind === "unfreeze" || step.kind === "replace") {
    throw new LowerError(`step ${index + 1} of pipeline '${pipelineName}' is '${step.kind}', which computes nothing; name a pretrain, adapt or test step`);
  }
  const settings = step.settings;
  const base = { batch: settings.batch ?? DEFAULT_BATCH, frozen, partModes, replaced };
  if (step.kind === "test") {
    const data = program.data.find((d) => d.name === step.data.data);
    const model = program.models.find((m) => m.name === pipeline.model)!;
    // A test reports every loss whose inputs the split provides.
    const fields = new Set(data?.fields.map((f) => f.name) ?? []);
    const objectives = model.losses.filter((l) => inputsOf(model, l.node).every((i) => fields.has(i))).map((l) => l.name);
    return { model: pipeline.model, step, settings, options: { ...base, mode: "eval", objectives } };
  }
  if (step.kind === "adapt" && settings.objectives.length === 0) {
    const data = program.data.find((d) => d.name === step.data.data);
    const labels = data ? labelField(data) : null;
    if (!labels) throw new LowerError(`the data of step ${index + 1} has no label field to train the prediction against`);
    return { model: pipeline.model, step, settings, options: { ...base, mode: "train", supervised: { labels: labels.name } } };
  }
  return { model: pipeline.model, step, settings, options: { ...base, mode: "train", objectives: settings.objectives } };
}

/** The model inputs a node of the model graph reads. */
function inputsOf(model: CheckedProgram["models"][number], id: number): string[] {
  const graph = { node: (i: number) => model.graph.nodes[i]! };
  return [...ancestors(graph, id)].flatMap((i) => {
    const n = model.graph.nodes[i]!;
    return n.op === "input" ? [n.name] : [];
  });
}

/** The model with replaced heads' layers in place. */
function withReplaced(model: CheckedProgram["models"][number], replaced: ReadonlyMap<string, LayerNode>): CheckedProgram["models"][number] {
  if (replaced.size === 0) return model;
  return { ...model, parts: model.parts.map((p) => ({ ...p, layer: replaced.get(p.name) ?? p.layer })) };
}
