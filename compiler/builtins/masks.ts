/**
 * Masks: self-supervised targets made from the data. A mask `m` exposes
 * `m.input` (what the model sees), `m.target` (what it must predict) and
 * `m.masked` (the positions the loss applies to). With masking off (adapt,
 * test) the model sees `inference` instead of `m.input`.
 */
import { messages } from "../../language/diagnostics/messages.js";
import { describeType, elementCount, formatDims, formatType, specialId, type TensorType } from "../check/types.js";
import { patchCount } from "./sequence-layers.js";
import {
  POS_INT,
  RATIO,
  VALUE,
  fail,
  num,
  tensor,
  type BoundArgs,
  type MaskDef,
  type MaskFields,
  type ParamSpec,
  type ShapeFailure,
} from "./spec.js";

const xParam: ParamSpec = { name: "x", type: VALUE, doc: "The value to mask." };
const ratioParam: ParamSpec = { name: "ratio", type: RATIO, doc: "Fraction hidden, in (0, 1)." };

/**
 * Masks hide exactly round(ratio·N) of N positions (round half up); at least one
 * must be hidden (else no training signal) and one visible (else nothing to see).
 */
function hiddenCount(label: string, args: BoundArgs, n: number, shape: readonly number[]): number | ShapeFailure {
  const ratio = num(args, "ratio");
  const hidden = Math.floor(ratio * n + 0.5);
  if (hidden < 1) {
    return fail(messages.argumentOutOfRange, { name: "ratio", callee: label, expected: `large enough to hide one of ${n} positions (>= ${(0.5 / n).toPrecision(2)})`, actual: ratio }, { arg: "ratio" });
  }
  if (hidden > n - 1) return fail(messages.emptyOutput, { layer: `${label} with ratio ${ratio}`, actual: formatDims(shape) }, { arg: "ratio" });
  return hidden;
}

const bool = (t: TensorType, shape: readonly number[] = t.shape): TensorType => ({ dtype: "bool", shape, batched: t.batched });

/** Refuses a value of the wrong element type or rank. */
function expectX(label: string, args: BoundArgs, dtype: "f32" | "i32", rank: number | null, expected: string): ShapeFailure | null {
  const x = tensor(args, "x");
  if (x.type.dtype !== dtype || (rank !== null && x.type.shape.length !== rank) || (rank === null && x.type.shape.length === 0)) {
    return fail(messages.layerInput, { layer: label, expected, origin: x.origin, actual: describeType(x.type) }, { arg: "x" });
  }
  return null;
}

const randomPatches: MaskDef = {
  category: "mask",
  name: "random_patches",
  doc: "Hides a random `ratio` of the square patches of an image, drawn independently per example.",
  params: [
    xParam,
    { name: "size", type: POS_INT, doc: "Patch side; must divide the image." },
    ratioParam,
    // Decision (spec): encoder_sees defaults to visible, as in the MAE paper.
    { name: "encoder_sees", type: { kind: "enum", values: ["visible", "mask_token"] }, default: "visible", doc: "Whether the encoder sees only visible patches or all patches with hidden ones replaced by a learned token." },
  ],
  fields(x, args, label): MaskFields | ShapeFailure {
    const bad = expectX(label, args, "f32", 3, "an image f32[C, H, W]");
    if (bad) return bad;
    const size = num(args, "size");
    const n = patchCount(x, size);
    if (n === null) return fail(messages.patchDivides, { size, height: x.shape[1]!, width: x.shape[2]! }, { arg: "size" });
    const patch = x.shape[0]! * size * size;
    const hidden = hiddenCount(label, args, n, x.shape);
    if (typeof hidden !== "number") return hidden;
    const visible = n - hidden;
    const all: TensorType = { dtype: "f32", shape: [n, patch], batched: x.batched };
    const sees = args["encoder_sees"];
    return {
      input: sees === "visible" ? { ...all, shape: [visible, patch], positions: n } : all,
      target: x,
      masked: bool(x),
      inference: all,
      params: sees === "mask_token" ? patch : 0,
    };
  },
};

const channels: MaskDef = {
  category: "mask",
  name: "channels",
  doc: "Shows the kept channels and asks for the others (e.g. colour from grayscale).",
  params: [xParam, { name: "keep", type: { kind: "list", item: "int", minItems: 1 }, doc: "Channel indices the model sees." }],
  fields(x, args, label) {
    const bad = expectX(label, args, "f32", null, "a value with channels first f32[C, ...]");
    if (bad) return bad;
    const count = x.shape[0]!;
    const keep = args["keep"] as readonly number[];
    for (const c of keep) {
      if (c < 0 || c >= count) return fail(messages.channelIndex, { channel: c, count, max: count - 1 }, { arg: "keep" });
    }
    if (new Set(keep).size !== keep.length) {
      return fail(messages.argumentOutOfRange, { name: "keep", callee: label, expected: "distinct channel indices", actual: formatDims(keep) }, { arg: "keep" });
    }
    const rest = x.shape.slice(1);
    if (keep.length === count) return fail(messages.emptyOutput, { layer: label, actual: formatDims(x.shape) }, { arg: "keep" });
    const input: TensorType = { ...x, shape: [keep.length, ...rest] };
    const target: TensorType = { ...x, shape: [count - keep.length, ...rest] };
    return { input, target, masked: bool(target), inference: input, params: 0 };
  },
};

const tokens: MaskDef = {
  category: "mask",
  name: "tokens",
  doc: "Replaces a random `ratio` of the tokens with `mask_token` and asks for the originals.",
  params: [xParam, ratioParam, { name: "mask_token", type: { kind: "tokenId" }, doc: "The token that stands for a hidden one: a special token of the input's type (mask), or an id." }],
  fields(x, args, label) {
    const bad = expectX(label, args, "i32", 1, "token ids i32[L]");
    if (bad) return bad;
    const token = maskTokenId(x, args["mask_token"] as number | string);
    if (typeof token !== "number") return token;
    const id = token;
    if (x.vocab !== undefined && id >= x.vocab) {
      return fail(messages.argumentOutOfRange, { name: "mask_token", callee: label, expected: `an id in [0, ${x.vocab - 1}]`, actual: id }, { arg: "mask_token" });
    }
    const hidden = hiddenCount(label, args, x.shape[0]!, x.shape);
    if (typeof hidden !== "number") return hidden;
    return { input: x, target: x, masked: bool(x), inference: x, params: 0 };
  },
};

/**
 * The id `mask_token` stands for, or why it may not: a special token by name
 * must be one the input's type reserves; an id of a type that knows its
 * vocabulary must be a reserved one, not a real token (spec/masks.md).
 */
export function maskTokenId(x: TensorType, token: number | string): number | ShapeFailure {
  const reserved = x.special ?? [];
  if (typeof token === "string") {
    const id = specialId(x, token);
    if (id !== null) return id;
    return fail(messages.maskTokenNotReserved, { token, type: describeType(x) }, {
      arg: "mask_token",
      help: x.vocab !== undefined ? [`reserve it in the data type: tokens(length: ${x.shape[0]}, vocab: ${x.vocab + 1}, special: [${[...reserved, token].join(", ")}])`] : [],
    });
  }
  if (x.vocab === undefined || token >= x.vocab || reserved.some((name) => specialId(x, name) === token)) return token;
  const name = reserved.length > 0 ? `a special token (${reserved.join(", ")})` : "a special token";
  return fail(messages.maskTokenIsReal, { id: token, type: describeType(x), name }, {
    arg: "mask_token",
    help: reserved.includes("mask")
      ? ["write 'mask_token: mask'"]
      : [`reserve one: tokens(length: ${x.shape[0]}, vocab: ${x.vocab + 1}, special: [${[...reserved, "mask"].join(", ")}]), and write 'mask_token: mask'`],
  });
}

const nextToken: MaskDef = {
  category: "mask",
  name: "next_token",
  doc: "Shows tokens 0..L-2 and asks for tokens 1..L-1.",
  params: [xParam],
  fields(x, _args, label) {
    const length = x.shape[0] ?? 0;
    if (x.dtype !== "i32" || x.shape.length !== 1 || length < 2) {
      return fail(messages.layerInput, { layer: label, expected: "token ids i32[L] with L >= 2", actual: describeType(x) }, { arg: "x" });
    }
    const shifted: TensorType = { ...x, shape: [length - 1] };
    return { input: shifted, target: shifted, masked: bool(shifted), inference: shifted, params: 0 };
  },
};

const features: MaskDef = {
  category: "mask",
  name: "features",
  doc: "Zeroes a random `ratio` of the features and asks for them.",
  params: [xParam, ratioParam],
  fields(x, args, label) {
    const bad = expectX(label, args, "f32", null, "features f32[D, ...]");
    if (bad) return bad;
    const hidden = hiddenCount(label, args, elementCount(x.shape), x.shape);
    if (typeof hidden !== "number") return hidden;
    return { input: x, target: x, masked: bool(x), inference: x, params: 0 };
  },
};

/** The masking strategies. */
export const masks: readonly MaskDef[] = [randomPatches, channels, tokens, nextToken, features];
