/**
 * Optimizers as IR update rules (spec/optimizers.md, "Optimizers").
 *
 * `applyOptimizer` takes one parameter, its (already clipped and coupled-decayed)
 * gradient `g` and its learning rate `η` at this update, and builds the nodes of
 * the new parameter and of the new optimizer state. The state is persistent:
 * each buffer is a `param` leaf of the parameter's shape, named
 * `<param>.<optimizer>.<buffer>` (table below), that the host feeds (zeros at
 * the first update) and replaces with the step's `new:` output.
 *
 * | optimizer | state | update |
 * |---|---|---|
 * | `sgd` | none | `θ ← θ − η·g` |
 * | `momentum` | `<p>.momentum.v` | `v ← beta·v + g`; `θ ← θ − η·v` |
 * | `adam` | `<p>.adam.m`, `<p>.adam.v` | `m ← β₁m + (1−β₁)g`; `v ← β₂v + (1−β₂)g²`; `θ ← θ − η·m̂/(√v̂ + eps)` |
 * | `adamw` | `<p>.adam.m`, `<p>.adam.v` | as adam, plus `− η·weight_decay·θ` for decayed parameters |
 *
 * Bias correction uses the 1-based update count `t + 1`, where `t` is the
 * 0-based `step` input.
 */
import { IRError, type IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";

/** An optimizer and its hyperparameters, as written in a step's `optimizer` setting. */
export type Optimizer =
  | { readonly kind: "sgd"; readonly lr: number }
  | { readonly kind: "momentum"; readonly lr: number; readonly beta?: number }
  | { readonly kind: "adam"; readonly lr: number; readonly beta1?: number; readonly beta2?: number; readonly eps?: number }
  | {
      readonly kind: "adamw";
      readonly lr: number;
      readonly beta1?: number;
      readonly beta2?: number;
      readonly eps?: number;
      readonly weightDecay?: number;
    };

/** The spec's defaults. */
export const DEFAULTS = { beta: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, adamwDecay: 0.01 } as const;

/** One buffer of optimizer state: its leaf name and the node computing its next value. */
export interface StateUpdate {
  readonly name: string;
  readonly node: Node;
}

/** What one parameter's update builds. */
export interface ParamUpdate {
  /** The new value of the parameter. */
  readonly param: Node;
  /** The new value of each state buffer, in the order of `stateNames`. */
  readonly state: readonly StateUpdate[];
}

/** The inputs of one parameter's update. */
export interface UpdateArgs {
  /** The parameter's leaf name. */
  readonly name: string;
  /** The parameter's current value. */
  readonly param: Node;
  /** Its gradient, after clipping and coupled weight decay. */
  readonly grad: Node;
  /** Its learning rate at this update, an f32 scalar (schedule × lr_scale × layer decay). */
  readonly lr: Node;
  /** The 1-based update count `t + 1`, an f32 scalar (for adam's bias correction). */
  readonly count: Node;
  /** Whether adamw's decoupled decay applies to it (spec/optimizers.md, "What decays"). */
  readonly decay: boolean;
}

/** The names of the state leaves `optimizer` keeps for the parameter `name`. */
export function stateNames(optimizer: Optimizer, name: string): string[] {
  switch (optimizer.kind) {
    case "sgd":
      return [];
    case "momentum":
      return [`${name}.momentum.v`];
    case "adam":
    case "adamw":
      return [`${name}.adam.m`, `${name}.adam.v`];
  }
}

/** Rejects hyperparameters outside the spec's ranges. */
export function checkOptimizer(o: Optimizer): void {
  const bad = (what: string): never => {
    throw new IRError(`${o.kind}: ${what}`);
  };
  if (!(o.lr > 0)) bad(`lr must be > 0, got ${o.lr}`);
  const unit = (v: number | undefined, n: string): void => {
    if (v !== undefined && !(v >= 0 && v < 1)) bad(`${n} must be in [0, 1), got ${v}`);
  };
  if (o.kind === "momentum") unit(o.beta, "beta");
  if (o.kind === "adam" || o.kind === "adamw") {
    unit(o.beta1, "beta1");
    unit(o.beta2, "beta2");
    if (o.eps !== undefined && !(o.eps > 0)) bad(`eps must be > 0, got ${o.eps}`);
  }
  if (o.kind === "adamw" && o.weightDecay !== undefined && !(o.weightDecay >= 0)) bad(`weight_decay must be ≥ 0, got ${o.weightDecay}`);
}

/**
 * Builds one parameter's update. The state leaves are made (or found) on `b`
 * by their `stateNames`, with the parameter's shape and dtype.
 */
export function applyOptimizer(b: IRBuilder, optimizer: Optimizer, args: UpdateArgs): ParamUpdate {
  checkOptimizer(optimizer);
  const { param: theta, grad: g, lr } = args;
  const state = stateNames(optimizer, args.name).map((n) => stateLeaf(b, n, theta));
  const step = (direction: Node): Node => b.sub(theta, b.mul(direction, lr));
  switch (optimizer.kind) {
    case "sgd":
      return { param: step(g), state: [] };
    case "momentum": {
      const [v] = state as [Node];
      const v1 = b.add(b.mul(v, optimizer.beta ?? DEFAULTS.beta), g);
      return { param: step(v1), state: [{ name: stateNames(optimizer, args.name)[0]!, node: v1 }] };
    }
    case "adam":
    case "adamw": {
      const beta1 = optimizer.beta1 ?? DEFAULTS.beta1;
      const beta2 = optimizer.beta2 ?? DEFAULTS.beta2;
      const eps = optimizer.eps ?? DEFAULTS.eps;
      const [m, v] = state as [Node, Node];
      const m1 = b.add(b.mul(m, beta1), b.mul(g, 1 - beta1));
      const v1 = b.add(b.mul(v, beta2), b.mul(b.mul(g, g), 1 - beta2));
      // m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ), with t the 1-based count.
      const mHat = b.div(m1, b.broadcastTo(biasCorrection(b, beta1, args.count), theta.shape));
      const vHat = b.div(v1, b.broadcastTo(biasCorrection(b, beta2, args.count), theta.shape));
      let direction = b.div(mHat, b.add(b.sqrt(vHat), eps));
      const wd = optimizer.kind === "adamw" ? (optimizer.weightDecay ?? DEFAULTS.adamwDecay) : 0;
      if (wd > 0 && args.decay) direction = b.add(direction, b.mul(theta, wd));
      const [mName, vName] = stateNames(optimizer, args.name) as [string, string];
      return { param: step(direction), state: [{ name: mName, node: m1 }, { name: vName, node: v1 }] };
    }
  }
}

/** `1 − βᵗ` as an f32 scalar. */
function biasCorrection(b: IRBuilder, beta: number, count: Node): Node {
  return b.sub(b.constant(1), b.pow(b.constant(beta), count));
}

/** The state leaf `name`, shaped like `like`: found when it exists, else made. */
function stateLeaf(b: IRBuilder, name: string, like: Node): Node {
  const found = b.leaf(name);
  if (found === undefined) return b.param(name, like.shape, like.dtype);
  if (found.op !== "param" || found.dtype !== like.dtype || found.shape.join() !== like.shape.join()) {
    throw new IRError(`optimizer state "${name}" must be a ${like.dtype}[${like.shape.join(", ")}] param, not the existing ${found.dtype} ${found.op}`);
  }
  return found;
}
