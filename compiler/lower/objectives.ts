/**
 * Objectives (spec/objectives.md): each reduces to one scalar for the batch.
 *
 * The position-wise ones (`mse`, `bce`, `cross_entropy`, `kl`) compute a loss
 * ℓ per position and average it; restricted `on m.masked` they give
 * Σ M·ℓ / max(Σ M, 1) over the whole batch. `info_nce` is the symmetric
 * in-batch InfoNCE; `skipgram` is in skipgram.ts.
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { logSoftmax, logsumexp, softmax } from "./ops.js";

/** The mean of a per-position loss, or its mean over the positions `on` marks (f32 0/1 of the same shape). */
export function reducePositions(b: IRBuilder, loss: Node, on: Node | null): Node {
  if (on === null) return b.mean(loss);
  return b.div(b.sum(b.mul(loss, on)), b.maximum(b.sum(on), 1));
}

/** (pred − target)² per element. */
export function squaredError(b: IRBuilder, pred: Node, target: Node): Node {
  const d = b.sub(pred, target);
  return b.mul(d, d);
}

/** −(t·log p + (1 − t)·log(1 − p)) per element, with p clamped to [1e−7, 1 − 1e−7]. */
export function binaryCrossEntropy(b: IRBuilder, prob: Node, target: Node): Node {
  const p = b.maximum(b.minimum(prob, 1 - 1e-7), 1e-7);
  return b.neg(b.add(b.mul(target, b.log(p)), b.mul(b.sub(1, target), b.log(b.sub(1, p)))));
}

/** logsumexp(logits) − logits[label] per position: logits [..., K], labels i32 [...]. */
export function softmaxCrossEntropy(b: IRBuilder, logits: Node, labels: Node): Node {
  const picked = b.squeeze(b.gather(logits, b.unsqueeze(labels, -1), logits.shape.length - 1), -1);
  return b.sub(logsumexp(b, logits, -1), picked);
}

/** Σₖ softmax(p)ₖ·(log softmax(p)ₖ − log softmax(q)ₖ) per position: [..., K] → [...]. */
export function softmaxKl(b: IRBuilder, p: Node, q: Node): Node {
  const lp = logSoftmax(b, p, -1);
  return b.sum(b.mul(softmax(b, p, -1), b.sub(lp, logSoftmax(b, q, -1))), -1);
}

/**
 * Symmetric InfoNCE with in-batch negatives: S = a·bᵀ/τ for a, b [B, D];
 * ½·(mean_i(logsumexp_j Sᵢⱼ − Sᵢᵢ) + mean_j(logsumexp_i Sᵢⱼ − Sⱼⱼ)).
 */
export function infoNce(b: IRBuilder, a: Node, c: Node, temperature: number): Node {
  const n = a.shape[0]!;
  const scores = b.div(b.matmul(a, b.transpose(c)), temperature);
  const eye = b.cast(b.cmpeq(b.iota([n, n], 0), b.iota([n, n], 1)), "f32");
  const diagonal = b.sum(b.mul(scores, eye), 1);
  const rows = b.mean(b.sub(logsumexp(b, scores, 1), diagonal));
  const columns = b.mean(b.sub(logsumexp(b, scores, 0), diagonal));
  return b.mul(b.add(rows, columns), 0.5);
}

/** The position-wise objectives by name: the loss per position of their two arguments. */
export const POSITIONWISE: Readonly<Record<string, (b: IRBuilder, x: Node, y: Node) => Node>> = {
  mse: squaredError,
  bce: binaryCrossEntropy,
  cross_entropy: softmaxCrossEntropy,
  kl: softmaxKl,
};
