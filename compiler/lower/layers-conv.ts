/**
 * Convolutions and pooling on images [B, C, H, W] (spec/layers.md,
 * "Convolution and pooling"), from slices, pads and one matrix product each:
 *
 * - `conv2d` gathers the k×k strided windows into columns (im2col: one
 *   strided slice per kernel offset) and multiplies them by the weight
 *   reshaped to [F, C·k·k]. Cross-correlation, as PyTorch.
 * - `conv_transpose2d` multiplies every input pixel by the weight (one matrix
 *   product giving [B, H, W, F·k·k]) and adds each kernel offset's plane into
 *   the output with an interior-padded (strided) pad, then crops for `same`.
 *   (Taken apart by output phase instead, s² stride-1 implicit GEMMs over the
 *   input's windows with F columns each, it ran at 0.85× this on the CPU for
 *   colorization's step and 0.92× for contrastive's strided image gradients,
 *   2026-12-08: products of few columns are dominated by packing windows.)
 * - `max_pool` and `avg_pool` reduce over the size×size strided slices.
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { defineVjp } from "../autodiff/custom-vjp.js";
import { constantInit, fanIn } from "./init.js";
import { linear } from "./ops.js";
import { boolArg, numArg, type LayerRule } from "./rule.js";

/** The output side of a convolution or pooling window (spec/layers.md). */
export function windowOut(size: number, kernel: number, stride: number, padding: string): number {
  return padding === "same" ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
}

/** The k×k offsets (i, j) of a window, row-major. */
function offsets(k: number): [number, number][] {
  return Array.from({ length: k * k }, (_, n) => [Math.floor(n / k), n % k]);
}

/** The strided windows of `x` [B, C, H, W] at each offset (i, j) of `at`: [B, C, Ho, Wo] each. */
function windows(b: IRBuilder, x: Node, at: readonly (readonly [number, number])[], stride: number, ho: number, wo: number): Node[] {
  const [batch, c] = x.shape as [number, number, number, number];
  return at.map(([i, j]) => b.slice(x, [0, 0, i, j], [batch, c, i + (ho - 1) * stride + 1, j + (wo - 1) * stride + 1], [1, 1, stride, stride]));
}

/**
 * The windows `planes` ([B, C, Ho, Wo] each) of one image as columns [B, Ho·Wo, C·n], ordered (channel,
 * window), times `weight` [F, C·n] (rows in that order): [B, F, Ho, Wo], and the matrix product itself.
 */
function windowProduct(b: IRBuilder, planes: readonly Node[], weight: Node): { out: Node; product: Node } {
  const [batch, c, ho, wo] = planes[0]!.shape as [number, number, number, number];
  const rows = planes.map((s) => b.reshape(s, [batch, c, 1, ho * wo]));
  const cols = b.permute(b.reshape(b.concat(rows, 2), [batch, c * planes.length, ho * wo]), [0, 2, 1]);
  const y = linear(b, cols, weight, null);
  return { out: b.reshape(b.permute(y, [0, 2, 1]), [batch, weight.shape[0]!, ho, wo]), product: y.op === "reshape" ? y.inputs[0]! : y };
}

/** A 2-D cross-correlation of x [B, C, H, W] with weight [F, C, k, k]: [B, F, Ho, Wo]. */
export function conv2d(b: IRBuilder, x: Node, weight: Node, stride: number, padding: string): Node {
  const [, c, h, w] = x.shape as [number, number, number, number];
  const [f, , k] = weight.shape as [number, number, number, number];
  const ho = windowOut(h, k, stride, padding);
  const wo = windowOut(w, k, stride, padding);
  let xp = x;
  let [top, left] = [0, 0];
  if (padding === "same") {
    const ph = Math.max((ho - 1) * stride + k - h, 0);
    const pw = Math.max((wo - 1) * stride + k - w, 0);
    top = Math.floor(ph / 2);
    left = Math.floor(pw / 2);
    xp = b.pad(x, [0, 0, top, left], [0, 0, ph - top, pw - left]);
  }
  // Columns ordered (channel, kernel row, kernel column) like the weight.
  const { out, product } = windowProduct(b, windows(b, xp, offsets(k), stride, ho, wo), b.reshape(weight, [f, c * k * k]));
  // At stride 1 the image's gradient is a convolution too (`imageGradient`): every path from x to the output
  // crosses the product's columns operand.
  if (stride === 1 && k > 1 && product.op === "matmul") {
    defineVjp(out, x, [product, 0], (bb, g) => imageGradient(bb, g, weight, [h, w], [top, left]));
  }
  return out;
}

/**
 * The gradient of a stride-1 `conv2d` with respect to its image x [B, C, H, W],
 * given the output's gradient g [B, F, Ho, Wo]: dx[y, x] = Σ_{f, i, j} g[f, y + top − i,
 * x + left − j] · weight[f, c, i, j] (g zero outside), a convolution of g padded by
 * k − 1 − top (left) before and what makes H + k − 1 (W + k − 1) after, whose window
 * (i, j) is read at offset (k − 1 − i, k − 1 − j), with the weight as [C, F·k·k]:
 * an implicit GEMM over g's windows, like the forward pass, where autodiff's op-by-op
 * path wrote a column buffer g · weight [B·Ho·Wo, C·k·k] and summed k² pads of it.
 */
function imageGradient(b: IRBuilder, g: Node, weight: Node, [h, w]: readonly [number, number], [top, left]: readonly [number, number]): Node {
  const [, f, ho, wo] = g.shape as [number, number, number, number];
  const [, c, k] = weight.shape as [number, number, number, number];
  const gp = b.pad(g, [0, 0, k - 1 - top, k - 1 - left], [0, 0, h - ho + top, w - wo + left]);
  // Window (i, j) at offset (k − 1 − i, k − 1 − j); columns ordered (filter, kernel row, kernel column), the weight as [C, F·k·k] in that order.
  const flipped = offsets(k).map(([i, j]) => [k - 1 - i, k - 1 - j] as const);
  return windowProduct(b, windows(b, gp, flipped, 1, h, w), b.reshape(b.permute(weight, [1, 0, 2, 3]), [c, f * k * k])).out;
}

/** The transposed convolution of x [B, C, H, W] with weight [C, F, k, k]: [B, F, H', W']. */
export function convTranspose2d(b: IRBuilder, x: Node, weight: Node, stride: number, padding: string): Node {
  const [batch, c, h, w] = x.shape as [number, number, number, number];
  const [, f, k] = weight.shape as [number, number, number, number];
  // Every pixel times the kernel: [B, H, W, F·k·k], then planes [B, F, k, k, H, W].
  const wr = b.reshape(b.permute(weight, [1, 2, 3, 0]), [f * k * k, c]);
  const y = linear(b, b.permute(x, [0, 2, 3, 1]), wr, null);
  const planes = b.permute(b.reshape(y, [batch, h, w, f, k, k]), [0, 3, 4, 5, 1, 2]);
  let full: Node | null = null;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const plane = b.reshape(b.slice(planes, [0, 0, i, j, 0, 0], [batch, f, i + 1, j + 1, h, w]), [batch, f, h, w]);
      // Input pixel (a, b) lands at (a·stride + i, b·stride + j).
      const placed = b.pad(plane, [0, 0, i, j], [0, 0, k - 1 - i, k - 1 - j], { interior: [0, 0, stride - 1, stride - 1] });
      full = full ? b.add(full, placed) : placed;
    }
  }
  const out = full!;
  if (padding !== "same") return out;
  // `same`: H' = H·stride. Remove k − stride rows (floor of half above), or add stride − k zero rows below.
  const fit = (node: Node, axis: number, size: number): Node => {
    if (k >= stride) {
      const top = Math.floor((k - stride) / 2);
      return b.sliceAxis(node, axis, top, top + size * stride);
    }
    const hi = node.shape.map((_, a) => (a === axis ? stride - k : 0));
    return b.pad(node, node.shape.map(() => 0), hi);
  };
  return fit(fit(out, 2, h), 3, w);
}

/** Maximum or mean over size×size windows at `stride`, per channel. */
export function pool(b: IRBuilder, x: Node, kind: "max" | "avg", size: number, stride: number): Node {
  const [batch, c, h, w] = x.shape as [number, number, number, number];
  const ho = windowOut(h, size, stride, "valid");
  const wo = windowOut(w, size, stride, "valid");
  const stack = b.concat(windows(b, x, offsets(size), stride, ho, wo).map((s) => b.reshape(s, [batch, c, 1, ho, wo])), 2);
  return kind === "max" ? b.max(stack, 2) : b.mean(stack, 2);
}

/** A bias [F] added to each channel of [B, F, H, W]. */
function addChannelBias(b: IRBuilder, y: Node, bias: Node): Node {
  return b.add(y, b.reshape(bias, [bias.shape[0]!, 1, 1]));
}

const conv2dRule: LayerRule = {
  params(node) {
    const [c] = node.input.shape as [number];
    const [f, k] = [numArg(node, "filters"), numArg(node, "kernel")];
    const list = [{ local: "weight", shape: [f, c, k, k], init: fanIn(c * k * k), decay: true }];
    return boolArg(node, "bias") ? [...list, { local: "bias", shape: [f], init: constantInit(0) }] : list;
  },
  lower(ctx, node, x, p) {
    const y = conv2d(ctx.s.b, x.x, p.get("weight"), numArg(node, "stride"), String(node.args["padding"]));
    return boolArg(node, "bias") ? addChannelBias(ctx.s.b, y, p.get("bias")) : y;
  },
};

const convTransposeRule: LayerRule = {
  params(node) {
    const [c] = node.input.shape as [number];
    const [f, k] = [numArg(node, "filters"), numArg(node, "kernel")];
    const list = [{ local: "weight", shape: [c, f, k, k], init: fanIn(f * k * k), decay: true }];
    return boolArg(node, "bias") ? [...list, { local: "bias", shape: [f], init: constantInit(0) }] : list;
  },
  lower(ctx, node, x, p) {
    const y = convTranspose2d(ctx.s.b, x.x, p.get("weight"), numArg(node, "stride"), String(node.args["padding"]));
    return boolArg(node, "bias") ? addChannelBias(ctx.s.b, y, p.get("bias")) : y;
  },
};

const poolRule = (kind: "max" | "avg"): LayerRule => ({
  lower(ctx, node, x) {
    const size = numArg(node, "size");
    return pool(ctx.s.b, x.x, kind, size, numArg(node, "stride", size));
  },
});

/** Lowerings of convolutions and pooling, by layer name. */
export const convRules: Readonly<Record<string, LayerRule>> = {
  conv2d: conv2dRule,
  conv_transpose2d: convTransposeRule,
  max_pool: poolRule("max"),
  avg_pool: poolRule("avg"),
};
