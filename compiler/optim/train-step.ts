/**
 * One training step as one graph: forward, loss, backward, update
 * (spec/optimizers.md, "One training step").
 *
 * Given the forward graph's loss and the model's parameters, `buildTrainStep`
 * appends to the same builder
 *
 * 1. the gradients of the loss with respect to the **trainable** parameters
 *    only: parameters of frozen parts are not passed to `grad`, so no node
 *    computes their gradient (pruned, not multiplied by zero);
 * 2. clipping by global norm: with `‖g‖` the Euclidean norm of all trainable
 *    gradients together, every gradient is scaled by `c / ‖g‖` if `‖g‖ > c`;
 * 3. coupled weight decay `g ← g + λ·θ` for decayed parameters;
 * 4. each parameter's learning rate
 *    `ηₜ = lrₜ · lr_scale[part] · layer_decay^(L − layer)`;
 * 5. the optimizer's update.
 *
 * The graph's outputs are `loss`, then for each trainable parameter (in the
 * given order) `new:<name>` followed by `new:<state>` for each of its optimizer
 * state buffers. Frozen parameters have no output. The graph's inputs are the
 * forward pass's, the i32 scalar `step` (update `t`, from 0), with a `cosine`
 * schedule over a fed `T` the i32 scalar `updates`, the parameters and the
 * state buffers (zeros before the first update).
 */
import { IRError, type IRBuilder } from "../../runtime/ir/builder.js";
import type { Graph, Node } from "../../runtime/ir/node.js";
import { grad } from "../autodiff/grad.js";
import { applyOptimizer, checkOptimizer, type Optimizer } from "./optimizers.js";
import { scheduledRate, stepInput, type Schedule, type TotalSteps } from "./schedules.js";

/** A parameter of the model, as lowering describes it. */
export interface TrainParam {
  /** The param leaf's name (its checkpoint name). */
  readonly name: string;
  /** The param leaf. */
  readonly node: Node;
  /** The part that owns it (the key of `frozen` and `lrScale`); null for mask tokens outside any part. */
  readonly part: string | null;
  /** Whether weight decay applies to it (spec/optimizers.md, "What decays"). */
  readonly decay: boolean;
  /** Its layer `i` in `1 .. L` for `layer_decay` (spec/optimizers.md, "Learning rates"); 0 outside any part. Default: L in a part, 0 outside. */
  readonly layer?: number;
}

/** The settings of one training step. */
export interface TrainStepOptions {
  /** The objective: an f32 scalar of the same builder. */
  readonly loss: Node;
  /** Every parameter the loss may depend on, frozen ones included. */
  readonly params: readonly TrainParam[];
  /** The frozen parts, and layers inside them by path (`f.0`): their parameters get no gradient and no update. */
  readonly frozen?: ReadonlySet<string>;
  readonly optimizer: Optimizer;
  /** Default `constant`. */
  readonly schedule?: Schedule;
  /** The global-norm bound `c` (> 0); none by default. */
  readonly clip?: number;
  /** Coupled weight decay `λ` (≥ 0); default 0. */
  readonly weightDecay?: number;
  /** Per-part learning-rate multipliers; default 1. */
  readonly lrScale?: Readonly<Record<string, number>>;
  /** Layer-wise decay in (0, 1]; default 1. */
  readonly layerDecay?: number;
  /** `L`, the number of layers of the trainable parts; required when `layerDecay` ≠ 1. */
  readonly layers?: number;
  /** `T`, the number of updates of the step (for `cosine`), or `"input"` to read it from the graph's input `updates`. */
  readonly totalSteps: TotalSteps;
}

/** A built training step. */
export interface TrainStep {
  readonly graph: Graph;
  /** The `step` input (i32 scalar, update `t` from 0). */
  readonly step: Node;
  /** The parameters that are updated, in order. */
  readonly trainable: readonly TrainParam[];
  /** The parameters of frozen parts: no gradient, no update. */
  readonly frozen: readonly TrainParam[];
  /** Every optimizer state leaf, in output order: its name and node (feed zeros at first). */
  readonly state: readonly { readonly name: string; readonly node: Node }[];
  /** The gradient node of each trainable parameter, after clipping and coupled decay. */
  readonly grads: ReadonlyMap<string, Node>;
}

/** The output name of a parameter's or state buffer's next value. */
export function newName(name: string): string {
  return `new:${name}`;
}

/** Builds the training-step graph on `b`, the builder of the forward graph. */
export function buildTrainStep(b: IRBuilder, options: TrainStepOptions): TrainStep {
  const { loss, optimizer } = options;
  checkOptions(options);
  checkOptimizer(optimizer);
  const frozenParts = options.frozen ?? new Set<string>();
  // A part, or a layer inside one by path (`f.0` covers `f.0.weight`; spec/paths.md).
  const isFrozen = (p: TrainParam): boolean => p.part !== null && (frozenParts.has(p.part) || [...frozenParts].some((f) => p.name.startsWith(`${f}.`)));
  const trainable = options.params.filter((p) => !isFrozen(p));
  const frozen = options.params.filter(isFrozen);

  const step = stepInput(b);
  let grads = trainable.length === 0 ? [] : grad(b, loss, trainable.map((p) => p.node));
  if (options.clip !== undefined) grads = clipByGlobalNorm(b, grads, options.clip);
  const lambda = options.weightDecay ?? 0;
  grads = grads.map((g, i) => (lambda > 0 && trainable[i]!.decay ? b.add(g, b.mul(trainable[i]!.node, lambda)) : g));

  const lrT = scheduledRate(b, optimizer.lr, options.schedule ?? { kind: "constant" }, step, options.totalSteps);
  const count = b.add(b.cast(step, "f32"), 1);
  const outputs: Record<string, Node> = { loss };
  const state: { name: string; node: Node }[] = [];
  trainable.forEach((p, i) => {
    const k = rateMultiplier(p, options);
    const lr = k === 1 ? lrT : b.mul(lrT, k);
    const u = applyOptimizer(b, optimizer, { name: p.name, param: p.node, grad: grads[i]!, lr, count, decay: p.decay });
    outputs[newName(p.name)] = u.param;
    for (const s of u.state) {
      outputs[newName(s.name)] = s.node;
      state.push({ name: s.name, node: b.leaf(s.name)! });
    }
  });
  return {
    graph: b.graph(outputs),
    step,
    trainable,
    frozen,
    state,
    grads: new Map(trainable.map((p, i) => [p.name, grads[i]!])),
  };
}

/**
 * Scales every gradient by `c / ‖g‖` when the global norm `‖g‖` (over all of
 * them together) exceeds `c`; otherwise leaves them as they are.
 */
export function clipByGlobalNorm(b: IRBuilder, grads: readonly Node[], c: number): Node[] {
  if (grads.length === 0) return [];
  const squares = grads.map((g) => b.sum(b.mul(g, g)));
  const norm = b.sqrt(squares.reduce((acc, s) => b.add(acc, s)));
  const scale = b.where(b.cmplt(b.constant(c), norm), b.div(b.constant(c), norm), b.constant(1));
  return grads.map((g) => b.mul(g, scale));
}

/** `lr_scale[part] · layer_decay^(L − layer)`, a build-time number. */
export function rateMultiplier(p: TrainParam, options: Pick<TrainStepOptions, "lrScale" | "layerDecay" | "layers">): number {
  // Own keys only: a part called `constructor` must not find Object.prototype's.
  const scale = p.part !== null && options.lrScale && Object.hasOwn(options.lrScale, p.part) ? options.lrScale[p.part]! : 1;
  const decay = options.layerDecay ?? 1;
  if (decay === 1) return scale;
  const L = options.layers!;
  const layer = p.layer ?? (p.part === null ? 0 : L);
  if (!Number.isInteger(layer) || layer < 0 || layer > L) throw new IRError(`parameter "${p.name}": layer ${layer} is not in 0..${L}`);
  return scale * decay ** (L - layer);
}

function checkOptions(o: TrainStepOptions): void {
  if (o.loss.dtype !== "f32" || o.loss.shape.length !== 0) throw new IRError(`train step: the loss must be an f32 scalar`);
  if (o.clip !== undefined && !(o.clip > 0)) throw new IRError(`train step: clip must be > 0, got ${o.clip}`);
  if (o.weightDecay !== undefined && !(o.weightDecay >= 0)) throw new IRError(`train step: weight_decay must be ≥ 0, got ${o.weightDecay}`);
  if (o.layerDecay !== undefined && !(o.layerDecay > 0 && o.layerDecay <= 1)) {
    throw new IRError(`train step: layer_decay must be in (0, 1], got ${o.layerDecay}`);
  }
  if ((o.layerDecay ?? 1) !== 1 && !(Number.isInteger(o.layers) && o.layers! >= 1)) {
    throw new IRError(`train step: layer_decay needs layers (L), an integer ≥ 1`);
  }
  for (const [part, s] of Object.entries(o.lrScale ?? {})) {
    if (!(s > 0)) throw new IRError(`train step: lr_scale of "${part}" must be > 0, got ${s}`);
  }
  const names = new Set<string>();
  for (const p of o.params) {
    if (p.node.op !== "param") throw new IRError(`train step: "${p.name}" is a ${p.node.op}, not a param`);
    if (p.node.attrs.name !== p.name) throw new IRError(`train step: "${p.name}" names the param "${p.node.attrs.name}"`);
    if (p.node.dtype !== "f32") throw new IRError(`train step: the param "${p.name}" is ${p.node.dtype}; only f32 params train`);
    if (names.has(p.name)) throw new IRError(`train step: the param "${p.name}" is listed twice`);
    names.add(p.name);
  }
}
