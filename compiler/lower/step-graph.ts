/**
 * A training step of a lowered model as one graph: the forward pass and loss
 * from lowering, then gradients and the optimizer's update from
 * `compiler/optim/` (spec/optimizers.md, "One training step"), configured from
 * the step's settings. Running statistics the forward pass updated, and the
 * copies momentum teachers keep of their students' weights, join the
 * outputs as `new:<tensor>`, like the optimizer's, so a host feeds every
 * `new:` output back under its name for the next update.
 */
import type { Graph, Node } from "../../runtime/ir/node.js";
import type { Args, StepSettings } from "../check/program.js";
import type { Optimizer } from "../optim/optimizers.js";
import type { Schedule, TotalSteps } from "../optim/schedules.js";
import { buildTrainStep, newName, type TrainParam, type TrainStep } from "../optim/train-step.js";
import { LowerError } from "./context.js";
import type { LoweredModel } from "./model.js";
import { emaUpdates } from "./teacher.js";

/** The default optimizer of a training step: adam(lr: 1e-3). */
const DEFAULT_OPTIMIZER: Optimizer = { kind: "adam", lr: 1e-3 };

function num(args: Args, name: string): number | undefined {
  const v = args[name];
  return typeof v === "number" ? v : undefined;
}

/** A step's `optimizer` setting as the optimizer lowering takes it. */
export function optimizerOf(setting: StepSettings["optimizer"]): Optimizer {
  if (!setting) return DEFAULT_OPTIMIZER;
  const a = setting.args;
  const lr = num(a, "lr") ?? DEFAULT_OPTIMIZER.lr;
  const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  switch (setting.name) {
    case "sgd":
      return { kind: "sgd", lr };
    case "momentum":
      return defined({ kind: "momentum", lr, beta: num(a, "beta") });
    case "adam":
      return defined({ kind: "adam", lr, beta1: num(a, "beta1"), beta2: num(a, "beta2"), eps: num(a, "eps") });
    case "adamw":
      return defined({ kind: "adamw", lr, beta1: num(a, "beta1"), beta2: num(a, "beta2"), eps: num(a, "eps"), weightDecay: num(a, "weight_decay") });
  }
  throw new LowerError(`the optimizer '${setting.name}' cannot be lowered yet`);
}

/** A step's `schedule` setting. */
export function scheduleOf(setting: StepSettings["schedule"]): Schedule {
  if (!setting || setting.name === "constant") return { kind: "constant" };
  if (setting.name === "warmup") return { kind: "warmup", steps: num(setting.args, "steps") ?? 1 };
  if (setting.name === "cosine") return { kind: "cosine", warmup: num(setting.args, "warmup") ?? 0 };
  throw new LowerError(`the schedule '${setting.name}' cannot be lowered yet`);
}

/**
 * The trainable tensors' descriptions for the optimizer: each part's layers
 * (declare.ts) numbered on across the step's trainable parts in member order,
 * which give layers 1 .. L; mask tokens are outside any part (layer 0).
 */
export function trainParams(lowered: LoweredModel, frozen: ReadonlySet<string>): { params: TrainParam[]; layers: number } {
  const learned = lowered.params.filter((p) => p.kind === "weight" && p.used && p.dtype === "f32");
  const offsets = new Map<string, number>();
  let layers = 0;
  for (const p of learned) {
    if (p.part === null || frozen.has(p.part) || offsets.has(p.part)) continue;
    offsets.set(p.part, layers);
    layers += Math.max(...learned.filter((q) => q.part === p.part).map((q) => q.layer));
  }
  const params = learned.map((p) => ({
    name: p.name,
    node: lowered.builder.leaf(p.name)!,
    part: p.part,
    decay: p.decay,
    layer: p.part === null ? 0 : (offsets.get(p.part) ?? 0) + p.layer,
  }));
  return { params, layers: Math.max(layers, 1) };
}

/**
 * The whole training step: forward, loss, backward, update, and the new
 * running statistics. `updates` is `T`, the number of updates the step runs
 * (what `cosine` decays over); by default the step's `steps` setting, else 1.
 * `"input"` leaves it to the host: a `cosine` schedule then reads the graph's
 * i32 scalar input `updates` (`UPDATES_INPUT`), for a compiled plan whose
 * number of updates depends on the data it will be given.
 */
export function lowerTrainStep(lowered: LoweredModel, settings: StepSettings | null, frozen: ReadonlySet<string> = new Set(), updates?: TotalSteps): TrainStep {
  const loss = lowered.outputs.loss;
  if (!loss) throw new LowerError("the step has no objective to train");
  const { params, layers } = trainParams(lowered, frozen);
  const step = buildTrainStep(lowered.builder, {
    loss,
    params,
    frozen,
    optimizer: optimizerOf(settings?.optimizer ?? null),
    schedule: scheduleOf(settings?.schedule ?? null),
    ...(settings?.clip != null ? { clip: settings.clip } : {}),
    ...(settings?.weightDecay != null ? { weightDecay: settings.weightDecay } : {}),
    lrScale: settings?.lrScale ?? {},
    ...(settings?.layerDecay != null ? { layerDecay: settings.layerDecay, layers } : {}),
    totalSteps: updates ?? settings?.steps ?? 1,
  });
  const outputs: Record<string, Node> = Object.fromEntries(step.graph.outputs.map((o) => [o.name, o.node]));
  for (const [name, node] of Object.entries(lowered.outputs.state)) outputs[newName(name)] = node;
  // Momentum teachers follow their students' new weights, in the same graph (teacher.ts).
  const updated = new Map(step.trainable.map((p) => [p.name, outputs[newName(p.name)]!]));
  for (const [name, node] of emaUpdates(lowered.builder, lowered.params, updated, (p) => frozen.has(p.owner))) outputs[newName(name)] = node;
  const graph: Graph = lowered.builder.graph(outputs);
  return { ...step, graph };
}
