/**
 * Multi-head scaled dot-product attention (spec/layers.md, "Attention"):
 *
 *     Q = x·Wqᵀ + bq,  K = c·Wkᵀ + bk,  V = c·Wvᵀ + bv     (c: the context, or x)
 *     per head: A = softmax(Q·Kᵀ/√d) over the keys, −∞ for key j > query i when causal
 *     y = concat_heads(A·V)·Woᵀ + bo
 *
 * with training-mode dropout on A from the stream `dropout/<layer>`. Weights
 * are stored `[D, D]` as `[out, in]` (spec/checkpoints.md).
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { record, val } from "./context.js";
import { denseParams } from "./layers-dense.js";
import { dropout, dropoutStream } from "./layers-norm.js";
import { linear, softmax } from "./ops.js";
import { boolArg, nodeArg, numArg, type LayerRule } from "./rule.js";

/** [B, L, D] → [B, h, L, D/h]. */
function splitHeads(b: IRBuilder, x: Node, heads: number): Node {
  const [batch, l, d] = x.shape as [number, number, number];
  return b.permute(b.reshape(x, [batch, l, heads, d / heads]), [0, 2, 1, 3]);
}

/** [B, h, L, d] → [B, L, h·d]. */
function joinHeads(b: IRBuilder, x: Node): Node {
  const [batch, h, l, d] = x.shape as [number, number, number, number];
  return b.reshape(b.permute(x, [0, 2, 1, 3]), [batch, l, h * d]);
}

/**
 * Scores Q·Kᵀ/√d for queries [B, h, L, d] and keys [B, h, M, d], with the
 * causal −∞ above the diagonal when asked: [B, h, L, M].
 */
export function attentionScores(b: IRBuilder, q: Node, k: Node, causal: boolean): Node {
  const d = q.shape[3]!;
  const scores = b.mul(b.matmul(q, b.transpose(k)), 1 / Math.sqrt(d));
  if (!causal) return scores;
  const [l, m] = [scores.shape[2]!, scores.shape[3]!];
  const later = b.cmpgt(b.iota([l, m], 1), b.iota([l, m], 0));
  return b.where(later, -Infinity, scores);
}

const attention: LayerRule = {
  params(node) {
    const d = node.input.shape[1]!;
    return ["q", "k", "v", "o"].flatMap((w) => denseParams(d, d, true, `${w}.`));
  },
  lower(ctx, node, x, p) {
    const b = ctx.s.b;
    const heads = numArg(node, "heads");
    const contextId = nodeArg(node, "context");
    const c = contextId === null ? x.x : ctx.scope.value(contextId).x;
    const project = (w: string, v: Node): Node => linear(b, v, p.get(`${w}.weight`), p.get(`${w}.bias`));
    const q = splitHeads(b, project("q", x.x), heads);
    const k = splitHeads(b, project("k", c), heads);
    const v = splitHeads(b, project("v", c), heads);
    let weights = softmax(b, attentionScores(b, q, k, boolArg(node, "causal")), -1);
    // The weights [B, h, L, M], before dropout, are readable by path: `f(x).2.1.weights` (spec/paths.md).
    record(ctx, val(weights), "weights");
    weights = dropout(ctx, weights, numArg(node, "dropout", 0), dropoutStream(ctx));
    return project("o", joinHeads(b, b.matmul(weights, v)));
  },
};

/** The lowering of attention, by layer name. */
export const attentionRules: Readonly<Record<string, LayerRule>> = { attention };
