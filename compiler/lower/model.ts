/**
 * `lowerModel`: a checked model, for one step, as one IR graph.
 *
 * The graph computes what the step needs and nothing else: the selected losses
 * (masks drawn, views augmented, terms of the bottlenecks they train through),
 * or the supervised objective of an `adapt` step without `objective`, and the
 * prediction (masks and views off). Its outputs are named
 *
 *     loss               the objective: Σ selected losses + bottleneck terms
 *     loss/<name>        each selected loss (what `test` reports)
 *     term/<name>        each bottleneck term (`z.kl`, `z.l1`)
 *     prediction         the prediction, when asked for and the model has one
 *     value/<let>        named values asked for (masks and views on)
 *     features           the encoder's flattened output, when asked for
 *     picture/<loss>/... the sides of a loss's objective, when asked for
 *     output/<name>      named outputs asked for (masks and views off);
 *                        picture/@<name> with `pictures`
 *     target/<name>      a metric's target, when asked for (masks and views off)
 *     state/<tensor>     new running statistics, in training mode
 *
 * and its inputs are the model inputs it reads, `seed` and `step` (i32
 * scalars) when it draws random numbers, and the alias tables of `skipgram`
 * negatives. Tensors are named as spec/checkpoints.md says; `params` lists
 * every tensor of the model, used by this graph or not.
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Graph, Node } from "../../runtime/ir/node.js";
import { graphNodes } from "../../runtime/ir/node.js";
import type { DType } from "../../runtime/ir/ops.js";
import type { CheckedModel, CheckedProgram, LayerNode } from "../check/program.js";
import { isFrozenPath } from "../check/frozen-layers.js";
import { LowerError, SEED_INPUT, Session, STEP_INPUT, type Mode } from "./context.js";
import { modelParams } from "./declare.js";
import type { ParamInfo } from "./init.js";
import { lowerLoss } from "./losses.js";
import { ModelLowerer } from "./model-scope.js";
import { softmaxCrossEntropy } from "./objectives.js";
import { lowerFeatures, lowerPrediction } from "./prediction.js";

/** What to lower: one step's view of a model. */
export interface LowerOptions {
  /** Examples per batch: the size of every value's first axis. */
  readonly batch: number;
  /** `train` (pretrain, adapt) or `eval` (test, a generated module): the mode of layers. */
  readonly mode: Mode;
  /** The losses to compute, by name; every loss of the model when absent. */
  readonly objectives?: readonly string[];
  /**
   * The supervised objective of an `adapt` step without `objective`: the
   * cross-entropy of the prediction against this i32 input (the label field).
   * Replaces the losses.
   */
  readonly supervised?: { readonly labels: string };
  /** Named values (`let`s) to compute as well, with masks and views on, as outputs `value/<name>`. */
  readonly values?: readonly string[];
  /** Whether to compute the prediction (default: when the model has one). */
  readonly prediction?: boolean;
  /** Compute `features`: the representation `nearest_neighbors` compares (see `lowerFeatures`). */
  readonly features?: boolean;
  /**
   * Compute, for each loss with an `mse` or `bce` objective, its first such
   * objective's two sides as `picture/<loss>/pred` and `picture/<loss>/target`,
   * and its `on` weights as `picture/<loss>/on`: what `repr train` draws.
   */
  readonly pictures?: boolean;
  /**
   * Named outputs to compute as well (`output attention = ...`), with masks and
   * views off, as outputs `output/<name>` — or, with `pictures`, as
   * `picture/@<name>`, which `repr train` draws.
   */
  readonly outputs?: readonly string[];
  /**
   * Metric targets to compute as outputs `target/<name>`, with masks and
   * views off as the prediction is: a node of the model graph (an input, a
   * let), or the `target` of a mask node (compiler/check/metric-targets.ts).
   */
  readonly targets?: Readonly<Record<string, { readonly node: number } | { readonly mask: number }>>;
  /** Frozen parts, and layers inside them by path (`f.0`): inference mode (unless `partModes` says otherwise), not trainable. */
  readonly frozen?: ReadonlySet<string>;
  /** Per-part modes, from `freeze ... { train_mode }` and `unfreeze ... { train_mode }`. */
  readonly partModes?: ReadonlyMap<string, Mode>;
  /** Heads replaced by `replace W with ...`, with their new layers. */
  readonly replaced?: ReadonlyMap<string, LayerNode>;
  /** A fixed seed baked into the graph; without it the seed is the input `seed`. */
  readonly seed?: number;
}

/** A tensor of the lowered model. */
export interface LoweredParam extends ParamInfo {
  /** The part that owns it; null for a mask's token, which belongs to no part. */
  readonly part: string | null;
  /** Learned and not frozen: the tensors a training step updates by gradient. */
  readonly trainable: boolean;
  /** Read by this graph. */
  readonly used: boolean;
}

/** What an input of the graph is for. */
export type InputKind = "data" | "seed" | "step" | "negatives";

/** An input of the lowered graph. */
export interface LoweredInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly kind: InputKind;
}

/** The lowered model. */
export interface LoweredModel {
  readonly graph: Graph;
  readonly params: readonly LoweredParam[];
  readonly inputs: readonly LoweredInput[];
  readonly outputs: {
    readonly loss?: Node;
    readonly losses: Readonly<Record<string, Node>>;
    readonly terms: Readonly<Record<string, Node>>;
    readonly prediction?: Node;
    /** The encoder's flattened output, when asked for (`LowerOptions.features`). */
    readonly features?: Node;
    readonly values: Readonly<Record<string, Node>>;
    readonly state: Readonly<Record<string, Node>>;
  };
  /** The builder that made the graph (autodiff and optimizer lowering add to it). */
  readonly builder: IRBuilder;
}

/** Finds a model of the program by name. */
export function findModel(program: CheckedProgram, name: string): CheckedModel {
  const model = program.models.find((m) => m.name === name);
  if (!model) {
    const known = program.models.map((m) => m.name).join(", ") || "none";
    throw new LowerError(`there is no model '${name}' (models: ${known})`);
  }
  return model;
}

/** Lowers model `modelName` of a checked program for one step. */
export function lowerModel(program: CheckedProgram, modelName: string, options: LowerOptions): LoweredModel {
  return lowerCheckedModel(findModel(program, modelName), options);
}

/** Lowers a checked model for one step. */
export function lowerCheckedModel(model: CheckedModel, options: LowerOptions): LoweredModel {
  if (!Number.isInteger(options.batch) || options.batch < 1) throw new LowerError(`the batch size must be an integer ≥ 1, got ${options.batch}`);
  const s = new Session(options.batch, options.seed ?? null);
  const frozen = options.frozen ?? new Set<string>();
  const replaced = options.replaced ?? new Map<string, LayerNode>();
  const m = new ModelLowerer(s, model, { mode: options.mode, frozen, partModes: options.partModes ?? new Map(), replaced });
  const b = s.b;
  const outputs: Record<string, Node> = {};
  const losses: Record<string, Node> = {};

  // The objective first, recording running-statistics updates and bottleneck terms.
  s.recording = true;
  let objective: Node | null = null;
  let prediction = null as ReturnType<typeof lowerPrediction>;
  if (options.supervised) {
    prediction = lowerPrediction(m);
    if (!prediction) throw new LowerError(`model '${model.name}' has no prediction to train against labels`);
    const labels = b.input(options.supervised.labels, prediction.x.shape.slice(0, -1), "i32");
    objective = b.mean(softmaxCrossEntropy(b, prediction.x, labels));
    losses["supervised"] = objective;
  } else {
    const names = options.objectives ?? model.losses.map((l) => l.name);
    for (const name of names) {
      const loss = model.losses.find((l) => l.name === name);
      if (!loss) throw new LowerError(`model '${model.name}' has no loss '${name}' (losses: ${model.losses.map((l) => l.name).join(", ") || "none"})`);
      losses[name] = lowerLoss(m, loss);
      objective = objective ? b.add(objective, losses[name]!) : losses[name]!;
    }
  }
  const terms = Object.fromEntries(s.terms.map((t) => [t.name, t.node]));
  if (objective && !options.supervised) for (const t of s.terms) objective = b.add(objective, t.node);
  s.recording = false;

  if (objective) outputs["loss"] = objective;
  for (const [name, node] of Object.entries(losses)) outputs[`loss/${name}`] = node;
  if (!options.supervised) for (const [name, node] of Object.entries(terms)) outputs[`term/${name}`] = node;
  if (options.prediction ?? true) {
    prediction ??= lowerPrediction(m);
    if (prediction) outputs["prediction"] = prediction.x;
  } else prediction = null;
  const values: Record<string, Node> = {};
  for (const name of options.values ?? []) {
    const let_ = model.lets.find((l) => l.name === name);
    if (!let_) throw new LowerError(`model '${model.name}' has no value '${name}' (lets: ${model.lets.map((l) => l.name).join(", ") || "none"})`);
    outputs[`value/${name}`] = values[name] = m.worlds.masked.value(let_.node).x;
  }
  // Named outputs, with masks and views off like the prediction; for a test step, as pictures to draw.
  for (const name of options.outputs ?? []) {
    const out = model.outputs.find((o) => o.name === name);
    if (!out) throw new LowerError(`model '${model.name}' has no output '${name}' (outputs: ${model.outputs.map((o) => o.name).join(", ") || "none"})`);
    outputs[options.pictures ? `picture/@${name}` : `output/${name}`] = m.worlds.plain.value(out.node).x;
  }
  if (options.features) {
    const features = lowerFeatures(m);
    if (!features) throw new LowerError(`model '${model.name}' has no encoder whose output nearest_neighbors could compare`);
    outputs["features"] = features.x;
  }
  if (options.pictures) {
    for (const o of s.objectives) {
      if ((o.name !== "mse" && o.name !== "bce") || `picture/${o.loss}/pred` in outputs) continue;
      outputs[`picture/${o.loss}/pred`] = o.pred;
      outputs[`picture/${o.loss}/target`] = o.target;
      if (o.on) outputs[`picture/${o.loss}/on`] = o.on;
    }
  }
  for (const [name, target] of Object.entries(options.targets ?? {})) {
    outputs[`target/${name}`] = ("mask" in target ? m.mask(target.mask, "plain").target : m.worlds.plain.value(target.node)).x;
  }
  const state: Record<string, Node> = {};
  for (const [name, node] of s.updates()) outputs[`state/${name}`] = state[name] = node;
  if (Object.keys(outputs).length === 0) throw new LowerError(`model '${model.name}': nothing to compute (no loss selected and no prediction)`);
  s.checkStreams();

  const graph = b.graph(outputs);
  const used = new Set(graphNodes(graph).filter((n) => n.op === "param").map((n) => (n.attrs as { name: string }).name));
  const parts = new Set(model.parts.map((p) => p.name));
  const params = describeParams(modelParams(model, replaced), s.params(), frozen, used).map((p) => ({ ...p, part: parts.has(p.owner) ? p.owner : null }));
  return {
    graph,
    params,
    inputs: describeInputs(graph),
    outputs: {
      ...(objective ? { loss: objective } : {}),
      losses,
      terms: options.supervised ? {} : terms,
      ...(prediction ? { prediction: prediction.x } : {}),
      ...(outputs["features"] ? { features: outputs["features"] } : {}),
      values,
      state,
    },
    builder: b,
  };
}

/** Joins the declared tensors with those lowering touched (which must be among them, with the same shapes). */
function describeParams(declared: readonly ParamInfo[], lowered: readonly ParamInfo[], frozen: ReadonlySet<string>, used: ReadonlySet<string>) {
  const byName = new Map(declared.map((p) => [p.name, p]));
  for (const p of lowered) {
    const d = byName.get(p.name);
    if (!d || d.shape.join() !== p.shape.join()) {
      throw new LowerError(`internal: tensor '${p.name}' [${p.shape}] is not among the model's declared tensors`);
    }
  }
  // Frozen parts, and layers inside them by path (spec/paths.md): a path covers the tensors its name starts.
  return declared.map((p) => ({ ...p, trainable: p.kind === "weight" && !frozen.has(p.owner) && !isFrozenPath(frozen, p.name), used: used.has(p.name) }));
}

function describeInputs(graph: Graph): LoweredInput[] {
  return graphNodes(graph)
    .filter((n) => n.op === "input")
    .map((n) => {
      const { name, shape, dtype } = n.attrs as { name: string; shape: readonly number[]; dtype: DType };
      const kind: InputKind = name === SEED_INPUT ? "seed" : name === STEP_INPUT ? "step" : name.startsWith("negatives.") ? "negatives" : "data";
      return { name, shape, dtype, kind };
    });
}
