/**
 * Layers that move elements without parameters (spec/layers.md, "Reshaping"):
 * `flatten`, `reshape`, `patchify`, `unpatchify`, `mean_pool`; and the value
 * functions `concat` and `similarity` (spec/layers.md, "Value functions").
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { l2Normalize } from "./activations.js";
import { batchAxis } from "./ops.js";
import { numArg, type LayerRule } from "./rule.js";

/**
 * [B, C, H, W] → [B, N, C·s·s]: patch n = r·(W/s) + c is the square at grid
 * row r, column c; inside it element (ch, i, j) is at ch·s² + i·s + j.
 */
export function patchify(b: IRBuilder, x: Node, s: number): Node {
  const [batch, c, h, w] = x.shape as [number, number, number, number];
  const grid = b.reshape(x, [batch, c, h / s, s, w / s, s]);
  const moved = b.permute(grid, [0, 2, 4, 1, 3, 5]);
  return b.reshape(moved, [batch, (h / s) * (w / s), c * s * s]);
}

/** [B, N, C·s·s] → [B, C, √N·s, √N·s]: the inverse of `patchify` on a square grid. */
export function unpatchify(b: IRBuilder, x: Node, s: number, c: number): Node {
  const [batch, n] = x.shape as [number, number, number];
  const g = Math.round(Math.sqrt(n));
  const grid = b.reshape(x, [batch, g, g, c, s, s]);
  const moved = b.permute(grid, [0, 3, 1, 4, 2, 5]);
  return b.reshape(moved, [batch, c, g * s, g * s]);
}

/** `concat(a, b, ..., axis)`, the axis counted without the batch. */
export function concatValues(b: IRBuilder, xs: readonly Node[], axis: number): Node {
  return b.concat(xs, batchAxis(axis, xs[0]!.shape.length - 1));
}

/**
 * `similarity(a, b, metric)`: [B, D] × [B, D] → [B] (one dot product per
 * example) or [B, n, D] × [B, m, D] → [B, n, m]; `cosine` first divides each
 * vector by max(‖·‖₂, 1e−12).
 */
export function similarity(b: IRBuilder, a: Node, c: Node, metric: string): Node {
  const [x, y] = metric === "cosine" ? [l2Normalize(b, a, -1), l2Normalize(b, c, -1)] : [a, c];
  if (x.shape.length === 2) return b.sum(b.mul(x, y), -1);
  return b.matmul(x, b.transpose(y));
}

/** Lowerings of the movement layers, by layer name. */
export const movementRules: Readonly<Record<string, LayerRule>> = {
  flatten: { lower: (ctx, _node, x) => ctx.s.b.reshape(x.x, [x.x.shape[0]!, -1]) },
  reshape: {
    lower: (ctx, node, x) => ctx.s.b.reshape(x.x, [x.x.shape[0]!, ...(node.args["shape"] as readonly number[])]),
  },
  patchify: { lower: (ctx, node, x) => patchify(ctx.s.b, x.x, numArg(node, "size")) },
  unpatchify: { lower: (ctx, node, x) => unpatchify(ctx.s.b, x.x, numArg(node, "size"), numArg(node, "channels", 1)) },
  mean_pool: { lower: (ctx, node, x) => ctx.s.b.mean(x.x, batchAxis(numArg(node, "axis", 0), node.input.shape.length)) },
};
