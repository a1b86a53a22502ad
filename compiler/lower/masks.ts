/**
 * Masks (spec/masks.md), drawn per example from the stream `mask/<name>`:
 *
 * - `random_patches`: uniform noise u [B, N]; the N_masked patches of lowest
 *   rank (argsort of u, ties by position) are hidden, so every example hides
 *   exactly round(ratio·N). With `encoder_sees: visible` the visible patches
 *   are gathered in increasing position order (argsort of hidden·N + position)
 *   and carry those positions; the inverse of that permutation restores order
 *   in `unmask`. With `mask_token`, hidden patches become a learned token.
 * - `tokens` and `features`: the same exact-count draw over positions or
 *   elements; hidden ones become `mask_token` or 0.
 * - `channels` and `next_token`: fixed slices, nothing random.
 *
 * `m.masked` is f32 1.0 where hidden, 0.0 elsewhere.
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import type { MaskNode } from "../check/program.js";
import { specialId } from "../check/types.js";
import { LowerError, val, type LoweredMask, type Session, type Val } from "./context.js";
import { normalInit, type ParamInfo } from "./init.js";
import { patchify } from "./movement.js";
import { gatherAlong, indicator, inversePermutation } from "./ops.js";
import { nodeArg, numArg, type LayerRule } from "./rule.js";

/** round(ratio·n) with round(x) = floor(x + 0.5), as spec/masks.md counts. */
export function hiddenCount(ratio: number, n: number): number {
  return Math.floor(ratio * n + 0.5);
}

/**
 * An exact-count draw: i32 [B, n], 1 at the `hidden` positions of lowest rank
 * of fresh uniforms (the stable argsort breaks ties by position).
 */
export function drawHidden(s: Session, name: string, n: number, hidden: number): Node {
  const b = s.b;
  const u = b.uniform([s.batch, n], s.key("mask", name));
  const ranks = inversePermutation(b, b.argsort(u, 1));
  return b.cmplt(ranks, hidden);
}

/** The learned token of a `mask_token` mask: `<mask>.token`, N(0.02). */
export function maskTokenInfo(name: string, width: number): ParamInfo {
  return { name: `${name}.token`, shape: [width], dtype: "f32", init: normalInit(0.02), owner: name, kind: "weight", decay: false, layer: 0 };
}

/** Per-patch values [B, gh·gw] spread over their pixels: [B, C, gh·s, gw·s]. */
function perPixel(b: IRBuilder, perPatch: Node, c: number, gh: number, gw: number, s: number): Node {
  const batch = perPatch.shape[0]!;
  const lifted = b.reshape(perPatch, [batch, 1, gh, 1, gw, 1]);
  return b.reshape(b.broadcastTo(lifted, [batch, c, gh, s, gw, s]), [batch, c, gh * s, gw * s]);
}

function randomPatches(s: Session, node: MaskNode, x: Node): LoweredMask {
  const b = s.b;
  const size = numArg(node, "size");
  const [, c, h, w] = x.shape as [number, number, number, number];
  const [gh, gw] = [h / size, w / size];
  const n = gh * gw;
  const nMasked = hiddenCount(numArg(node, "ratio"), n);
  const patches = patchify(b, x, size);
  const hidden = drawHidden(s, node.name, n, nMasked);
  const masked = perPixel(b, indicator(b, hidden), c, gh, gw, size);
  if (node.args["encoder_sees"] === "mask_token") {
    const token = s.param(maskTokenInfo(node.name, patches.shape[2]!));
    const input = b.where(b.unsqueeze(hidden, -1), token, patches);
    return { strategy: node.strategy, input: val(input), target: val(x), masked, restore: null };
  }
  // Visible positions first, in increasing order, then hidden ones: a permutation per example.
  const order = b.argsort(b.add(b.mul(indicator(b, hidden), n), b.iota([s.batch, n], 1, "f32")), 1);
  const visible = b.sliceAxis(order, 1, 0, n - nMasked);
  const input = gatherAlong(b, patches, visible, 1);
  return { strategy: node.strategy, input: { x: input, pos: visible }, target: val(x), masked, restore: inversePermutation(b, order) };
}

function tokens(s: Session, node: MaskNode, x: Node): LoweredMask {
  const b = s.b;
  const l = x.shape[1]!;
  const hidden = drawHidden(s, node.name, l, hiddenCount(numArg(node, "ratio"), l));
  // A special token by name is the id its type reserves for it (the checker made sure it does).
  const token = node.args["mask_token"];
  const id = typeof token === "string" ? specialId(node.fields.input, token) : (token as number);
  if (id === null) throw new LowerError(`mask '${node.name}': the input reserves no special token '${String(token)}'`);
  const input = b.where(hidden, b.constant(id, x.shape, "i32"), x);
  return { strategy: node.strategy, input: val(input), target: val(x), masked: indicator(b, hidden), restore: null };
}

function features(s: Session, node: MaskNode, x: Node): LoweredMask {
  const b = s.b;
  const n = x.shape.slice(1).reduce((p, d) => p * d, 1);
  const hidden = b.reshape(drawHidden(s, node.name, n, hiddenCount(numArg(node, "ratio"), n)), x.shape);
  return { strategy: node.strategy, input: val(b.where(hidden, 0, x)), target: val(x), masked: indicator(b, hidden), restore: null };
}

function channels(s: Session, node: MaskNode, x: Node): LoweredMask {
  const b = s.b;
  const keep = node.args["keep"] as readonly number[];
  const pick = (list: readonly number[]): Node => b.concat(list.map((ch) => b.sliceAxis(x, 1, ch, ch + 1)), 1);
  const rest = Array.from({ length: x.shape[1]! }, (_, i) => i).filter((i) => !keep.includes(i));
  const target = pick(rest);
  return { strategy: node.strategy, input: val(pick(keep)), target: val(target), masked: b.constant(1, target.shape), restore: null };
}

function nextToken(s: Session, node: MaskNode, x: Node): LoweredMask {
  const b = s.b;
  const l = x.shape[1]!;
  const target = b.sliceAxis(x, 1, 1, l);
  return { strategy: node.strategy, input: val(b.sliceAxis(x, 1, 0, l - 1)), target: val(target), masked: b.constant(1, target.shape), restore: null };
}

const STRATEGIES: Readonly<Record<string, (s: Session, node: MaskNode, x: Node) => LoweredMask>> = {
  random_patches: randomPatches,
  tokens,
  features,
  channels,
  next_token: nextToken,
};

/** A mask drawn (masking on): what the model sees, the target, the hidden positions. */
export function lowerMask(s: Session, node: MaskNode, x: Val): LoweredMask {
  const strategy = STRATEGIES[node.strategy];
  if (!strategy) throw new Error(`internal: no lowering for mask strategy '${node.strategy}'`);
  return strategy(s, node, x.x);
}

/** What `m.input` is with masking off (spec/masks.md, "Masks off"). */
export function unmaskedInput(s: Session, node: MaskNode, x: Val, on: LoweredMask): Val {
  switch (node.strategy) {
    case "random_patches":
      return val(patchify(s.b, x.x, numArg(node, "size")));
    case "tokens":
    case "features":
      return val(x.x);
    default:
      return on.input;
  }
}

/**
 * `unmask(m)`: [B, N_visible, D] → [B, N, D]. The rows are [visible, then N −
 * N_visible copies of the token], gathered with the mask's inverse
 * permutation, so row k lands at the k-th visible position. With the mask off
 * the N rows pass through.
 */
const unmask: LayerRule = {
  params: (node) => [{ local: "token", shape: [node.input.shape[1]!], init: normalInit(0.02) }],
  lower(ctx, node, x, p) {
    const mask = ctx.model.mask(nodeArg(node, "mask")!, ctx.world);
    if (mask.restore === null) return x.x;
    const b = ctx.s.b;
    const [batch, visible, d] = x.x.shape as [number, number, number];
    const n = mask.restore.shape[1]!;
    const fill = b.broadcastTo(p.get("token"), [batch, n - visible, d]);
    return gatherAlong(b, b.concat([x.x, fill], 1), mask.restore, 1);
  },
};

/** The lowering of `unmask`, by layer name. */
export const maskLayerRules: Readonly<Record<string, LayerRule>> = { unmask };
