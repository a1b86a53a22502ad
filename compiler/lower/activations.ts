/**
 * Elementwise activations and the normalizations along an axis
 * (spec/layers.md): `relu`, `gelu` (exact, with erf), `tanh`, `sigmoid`,
 * `silu`, `softmax` (max subtracted first) and `l2_normalize`.
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { batchAxis, softmax } from "./ops.js";
import { numArg, type LayerRule } from "./rule.js";

/** x·Φ(x) = x · ½(1 + erf(x/√2)), the exact GELU. */
export function gelu(b: IRBuilder, x: Node): Node {
  return b.mul(b.mul(x, 0.5), b.add(b.erf(b.mul(x, Math.SQRT1_2)), 1));
}

/**
 * x / max(‖x‖₂, 1e−12) along `axis`, computed as x / √max(Σx², 1e−24): the
 * same numbers, and a zero vector gets a zero gradient rather than 0·∞ from
 * the square root's derivative at 0.
 */
export function l2Normalize(b: IRBuilder, x: Node, axis: number): Node {
  return b.div(x, b.sqrt(b.maximum(b.sum(b.mul(x, x), axis, true), 1e-24)));
}

const unary = (f: (b: IRBuilder, x: Node) => Node): LayerRule => ({ lower: (ctx, _node, x) => f(ctx.s.b, x.x) });

/** Lowerings of the activations, by layer name. */
export const activationRules: Readonly<Record<string, LayerRule>> = {
  relu: unary((b, x) => b.relu(x)),
  gelu: unary(gelu),
  tanh: unary((b, x) => b.tanh(x)),
  sigmoid: unary((b, x) => b.sigmoid(x)),
  silu: unary((b, x) => b.mul(x, b.sigmoid(x))),
  softmax: { lower: (ctx, node, x) => softmax(ctx.s.b, x.x, batchAxis(numArg(node, "axis"), node.input.shape.length)) },
  l2_normalize: { lower: (ctx, node, x) => l2Normalize(ctx.s.b, x.x, batchAxis(numArg(node, "axis"), node.input.shape.length)) },
};
