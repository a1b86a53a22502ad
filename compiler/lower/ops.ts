/**
 * Compositions of IR primitives that several lowerings share: an affine map,
 * numerically stable softmax and log-sum-exp, log-sigmoid, row lookups. They
 * are written here from the builder's methods; the IR itself stays closed.
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";

/** Normalizes an axis of a value whose axis 0 is the batch, given as the checker counts (without the batch). */
export function batchAxis(axis: number, rankWithoutBatch: number): number {
  return (axis < 0 ? axis + rankWithoutBatch : axis) + 1;
}

/**
 * `x·Wᵀ + b` on the last axis, with `W` stored `[out, in]` as PyTorch stores
 * it (spec/checkpoints.md). Leading axes are flattened into rows for one 2-D
 * matrix product.
 */
export function linear(b: IRBuilder, x: Node, weight: Node, bias: Node | null): Node {
  const inF = x.shape[x.shape.length - 1]!;
  const outF = weight.shape[0]!;
  const rows = b.reshape(x, [-1, inF]);
  let y = b.matmul(rows, b.transpose(weight));
  if (bias) y = b.add(y, bias);
  return b.reshape(y, [...x.shape.slice(0, -1), outF]);
}

/**
 * log Σ exp(x) along `axis`, computed as m + log Σ exp(x − m) with m the
 * maximum. m is detached: the result does not depend on it, so no gradient
 * needs to flow through the maximum.
 */
export function logsumexp(b: IRBuilder, x: Node, axis: number, keepdims = false): Node {
  const m = b.detach(b.max(x, axis, true));
  const lse = b.add(m, b.log(b.sum(b.exp(b.sub(x, m)), axis, true)));
  return keepdims ? lse : b.squeeze(lse, axis);
}

/** softmax along `axis`, with the maximum subtracted first (stable for large logits). */
export function softmax(b: IRBuilder, x: Node, axis: number): Node {
  const e = b.exp(b.sub(x, b.detach(b.max(x, axis, true))));
  return b.div(e, b.sum(e, axis, true));
}

/** log softmax along `axis`: x − logsumexp(x). */
export function logSoftmax(b: IRBuilder, x: Node, axis: number): Node {
  return b.sub(x, logsumexp(b, x, axis, true));
}

/** log σ(x) = min(x, 0) − log(1 + e^−|x|), finite for every x. */
export function logSigmoid(b: IRBuilder, x: Node): Node {
  return b.sub(b.minimum(x, 0), b.log(b.add(b.exp(b.neg(b.abs(x))), 1)));
}

/** 1.0 where an i32 condition holds, else 0.0. */
export function indicator(b: IRBuilder, cond: Node): Node {
  return b.cast(cond, "f32");
}

/** Rows of `table` [V, D] for integer ids of any shape: → [...ids, D]. */
export function lookupRows(b: IRBuilder, table: Node, ids: Node): Node {
  const d = table.shape[1]!;
  const flat = b.reshape(ids, [-1, 1]);
  const idx = b.broadcastTo(flat, [flat.shape[0]!, d]);
  return b.reshape(b.gather(table, idx, 0), [...ids.shape, d]);
}

/**
 * Gathers along `axis` with one index per position of that axis: `idx` has
 * `x`'s shape up to and including `axis` and is broadcast over the axes after it.
 */
export function gatherAlong(b: IRBuilder, x: Node, idx: Node, axis: number): Node {
  const trailing = x.shape.slice(axis + 1);
  const lifted = b.reshape(idx, [...idx.shape, ...trailing.map(() => 1)]);
  return b.gather(x, b.broadcastTo(lifted, [...idx.shape, ...trailing]), axis);
}

/** The inverse permutation of each row of `perm` (i32 [..., N]) along its last axis. */
export function inversePermutation(b: IRBuilder, perm: Node): Node {
  return b.argsort(perm, -1);
}
