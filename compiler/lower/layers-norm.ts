/**
 * Normalization and regularization layers (spec/layers.md): `layer_norm`,
 * `batch_norm` with running statistics, and `dropout`.
 *
 * `batch_norm` in training mode normalizes with the batch statistics and
 * records new running statistics, `r ← (1 − momentum)·r + momentum·s` (the
 * variance unbiased, Σ(x − mean)² / max(n − 1, 1) over the n values of a
 * feature), as state updates of the step; in inference mode it
 * normalizes with the running statistics and records nothing. `dropout` in
 * training mode draws one uniform per element from the stream
 * `dropout/<layer>` and zeroes it when `u < rate` (rate quantized as
 * spec/random.md says).
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { quantizeProbability } from "../../runtime/rng/index.js";
import { layerName, type LayerCtx } from "./context.js";
import { constantInit } from "./init.js";
import { lastDim, numArg, type LayerRule } from "./rule.js";

/** (x − mean) / √(var + eps) · γ + β over the last axis, with the biased variance. */
export function layerNorm(b: IRBuilder, x: Node, gamma: Node, beta: Node, eps: number): Node {
  const mean = b.mean(x, -1, true);
  const centered = b.sub(x, mean);
  const variance = b.mean(b.mul(centered, centered), -1, true);
  return b.add(b.mul(b.div(centered, b.sqrt(b.add(variance, eps))), gamma), beta);
}

/**
 * Inverted dropout in training mode: each element is zeroed when its uniform
 * is below `rate` and the others are scaled by 1/(1 − rate). The identity in
 * inference mode or at rate 0.
 */
export function dropout(ctx: LayerCtx, x: Node, rate: number, stream: string): Node {
  if (ctx.mode !== "train" || rate <= 0) return x;
  const b = ctx.s.b;
  const u = b.uniform(x.shape, ctx.s.key("dropout", stream));
  return b.where(b.cmplt(u, quantizeProbability(rate)), 0, b.mul(x, 1 / (1 - rate)));
}

/** The stream name of a dropout in a layer: `<layer path><application tag>`. */
export function dropoutStream(ctx: LayerCtx): string {
  return `${layerName(ctx)}${ctx.tag}`;
}

const layerNormRule: LayerRule = {
  params: (node) => {
    const d = lastDim(node.input.shape);
    return [
      { local: "weight", shape: [d], init: constantInit(1) },
      { local: "bias", shape: [d], init: constantInit(0) },
    ];
  },
  lower: (ctx, node, x, p) => layerNorm(ctx.s.b, x.x, p.get("weight"), p.get("bias"), numArg(node, "eps")),
};

/** The features of batch_norm: the channels of an image [C, H, W], else the last axis. */
function features(shape: readonly number[]): number {
  return shape.length === 3 ? shape[0]! : lastDim(shape);
}

const batchNormRule: LayerRule = {
  params(node) {
    const f = features(node.input.shape);
    return [
      { local: "weight", shape: [f], init: constantInit(1) },
      { local: "bias", shape: [f], init: constantInit(0) },
      { local: "running_mean", shape: [f], init: constantInit(0), kind: "state" },
      { local: "running_var", shape: [f], init: constantInit(1), kind: "state" },
      { local: "num_batches_tracked", shape: [], init: constantInit(0), kind: "state", dtype: "i32" },
    ];
  },
  lower(ctx, node, x, p) {
    const b = ctx.s.b;
    const image = node.input.shape.length === 3;
    const rank = x.x.shape.length;
    const axis = image ? 1 : rank - 1;
    const f = x.x.shape[axis]!;
    // Per-feature tensors [F] broadcast along `axis`.
    const lift = (v: Node): Node => b.reshape(v, x.x.shape.map((_, a) => (a === axis ? f : 1)));
    const axes = x.x.shape.map((_, a) => a).filter((a) => a !== axis);
    const eps = numArg(node, "eps");
    let mean: Node;
    let variance: Node;
    if (ctx.mode === "train") {
      mean = b.mean(x.x, axes, true);
      const centered = b.sub(x.x, mean);
      const squares = b.sum(b.mul(centered, centered), axes, true);
      const n = x.x.shape.reduce((s, d, a) => (a === axis ? s : s * d), 1);
      variance = b.div(squares, n);
      // Σ(x − mean)² / max(n − 1, 1): n enters as integers only, so the graph
      // is one polynomial in the batch size (compiler/plan/batch-fit.ts), and
      // at n = 1, where the sum is 0, the unbiased variance is 0 as well.
      const unbiased = b.div(squares, b.maximum(b.constant(n - 1, squares.shape), 1));
      const m = numArg(node, "momentum");
      const blend = (old: Node, batch: Node): Node => b.add(b.mul(old, 1 - m), b.mul(b.reshape(batch, [f]), m));
      p.update("running_mean", blend(p.state("running_mean"), mean));
      p.update("running_var", blend(p.state("running_var"), unbiased));
      p.update("num_batches_tracked", b.add(p.state("num_batches_tracked"), 1));
    } else {
      mean = lift(p.state("running_mean"));
      variance = lift(p.state("running_var"));
    }
    const normalized = b.div(b.sub(x.x, mean), b.sqrt(b.add(variance, eps)));
    return b.add(b.mul(normalized, lift(p.get("weight"))), lift(p.get("bias")));
  },
};

const dropoutRule: LayerRule = {
  lower: (ctx, node, x) => dropout(ctx, x.x, numArg(node, "rate"), dropoutStream(ctx)),
};

/** Lowerings of the normalization layers and dropout, by layer name. */
export const normRules: Readonly<Record<string, LayerRule>> = {
  layer_norm: layerNormRule,
  batch_norm: batchNormRule,
  dropout: dropoutRule,
};
