/**
 * Built-in layers that work on sequences of patches or tokens: patchify and
 * unpatchify, attention, repeat, unmask, classifier and mean pooling.
 */
import { messages } from "../../language/diagnostics/messages.js";
import { formatDims, withShape, type TensorType } from "../check/types.js";
import { normalizeAxis } from "./layers.js";
import {
  BOOL,
  INT,
  LAYER,
  POS_INT,
  RATE,
  fail,
  num,
  optTensor,
  type LayerDef,
  type MaskArg,
} from "./spec.js";

const expects = (expected: string) => fail(messages.layerInput, { expected });

const patchify: LayerDef = {
  category: "layer",
  name: "patchify",
  doc: "Cuts an image [C, H, W] into a sequence of square patches [(H/s)·(W/s), C·s·s], row by row.",
  params: [{ name: "size", type: POS_INT, doc: "Patch side s; must divide H and W." }],
  shape(input, args) {
    if (input.shape.length !== 3) return expects("an image [C, H, W]");
    const [c, h, w] = input.shape as [number, number, number];
    const s = num(args, "size");
    if (h % s !== 0 || w % s !== 0) return fail(messages.patchDivides, { size: s, height: h, width: w }, { arg: "size" });
    return { dtype: input.dtype, shape: [(h / s) * (w / s), c * s * s], batched: input.batched };
  },
  paramCount: () => 0,
};

const unpatchify: LayerDef = {
  category: "layer",
  name: "unpatchify",
  doc: "Reassembles a square grid of patches [N, C·s·s] into an image [C, √N·s, √N·s].",
  params: [
    { name: "size", type: POS_INT, doc: "Patch side s." },
    { name: "channels", type: POS_INT, default: 1, doc: "Image channels C." },
  ],
  shape(input, args) {
    const s = num(args, "size");
    const c = num(args, "channels");
    if (input.shape.length !== 2 || input.shape[1] !== c * s * s) {
      return expects(`patches [N, ${c * s * s}] (channels·size·size)`);
    }
    const n = input.shape[0]!;
    const side = Math.round(Math.sqrt(n));
    if (side * side !== n) return fail(messages.notSquare, { count: n });
    return { dtype: input.dtype, shape: [c, side * s, side * s], batched: input.batched };
  },
  paramCount: () => 0,
};

// Decision (spec): cross-attention's context must have the same feature size D
// as the queries; keys and values are projected from it with D×D matrices.
const attention: LayerDef = {
  category: "layer",
  name: "attention",
  doc: "Multi-head scaled dot-product attention over a sequence [L, D] (self, or cross with `context`).",
  params: [
    { name: "heads", type: POS_INT, doc: "Number of heads; must divide D." },
    { name: "causal", type: BOOL, default: false, doc: "Whether a position may only attend to earlier ones." },
    { name: "context", type: { kind: "value" }, optional: true, doc: "Keys and values come from this sequence [M, D] (cross-attention)." },
    { name: "dropout", type: RATE, default: 0, doc: "Dropout on the attention weights." },
  ],
  rowwise: true,
  shape(input, args) {
    if (input.shape.length !== 2) return expects("a sequence [L, D]");
    const d = input.shape[1]!;
    const heads = num(args, "heads");
    if (d % heads !== 0) return fail(messages.headsDivide, { heads, dim: d }, { arg: "heads" });
    const context = optTensor(args, "context");
    if (context && (context.type.shape.length !== 2 || context.type.shape[1] !== d)) {
      return fail(
        messages.layerInput,
        { expected: `a context [M, ${d}]`, origin: context.origin, actual: formatDims(context.type.shape) },
        { arg: "context" },
      );
    }
    return input;
  },
  paramCount: (input) => 4 * (input.shape[1]! * input.shape[1]! + input.shape[1]!),
};

const repeat: LayerDef = {
  category: "layer",
  name: "repeat",
  doc: "n independent copies of a layer, applied in sequence.",
  params: [
    // Decision (spec): at most 1,000 copies, so a typo cannot make a model of millions of layers.
    { name: "n", type: { kind: "int", min: 1, max: 1000 }, doc: "Number of copies, 1 to 1,000." },
    { name: "layer", type: LAYER, doc: "The layer to copy." },
  ],
  repeats: true,
  shape: (input) => input,
  paramCount: () => 0,
};

const unmask: LayerDef = {
  category: "layer",
  name: "unmask",
  doc: "Puts the encoded visible patches [N_visible, D] back in order and fills hidden ones with a learned token: → [N, D].",
  params: [{ name: "mask", type: { kind: "mask" }, doc: "The random_patches mask with encoder_sees: visible." }],
  shape(input, args) {
    const mask = args["mask"] as MaskArg;
    const sees = mask.args["encoder_sees"];
    if (mask.strategy !== "random_patches" || sees !== "visible") {
      return fail(messages.unmaskNeedsVisible, { mask: mask.name, actual: typeof sees === "string" ? sees : `none (${mask.strategy})` }, { arg: "mask" });
    }
    if (input.shape.length !== 2 || input.positions !== mask.positions) {
      return expects(`the encoded visible patches of mask '${mask.name}' [N_visible, D]`);
    }
    return { dtype: input.dtype, shape: [mask.positions!, input.shape[1]!], batched: input.batched };
  },
  paramCount: (input) => input.shape[1]!,
};

const classifier: LayerDef = {
  category: "layer",
  name: "classifier",
  doc: "A dense layer producing class logits: [..., D] → [..., classes].",
  params: [{ name: "classes", type: POS_INT, doc: "Number of classes." }],
  rowwise: true,
  shape(input, args) {
    if (input.shape.length === 0) return expects("features [..., D]");
    return withShape(input, [...input.shape.slice(0, -1), num(args, "classes")]);
  },
  paramCount: (input, args) => (input.shape[input.shape.length - 1]! + 1) * num(args, "classes"),
};

// Decision (spec): mean_pool is not in the draft contract; it is how a sequence
// [N, D] becomes one vector [D] for a classifier head (ViT-style mean pooling).
const meanPool: LayerDef = {
  category: "layer",
  name: "mean_pool",
  doc: "Averages over one axis (default: the sequence axis): [N, D] → [D].",
  params: [{ name: "axis", type: INT, default: 0, doc: "The axis averaged away." }],
  shape(input, args) {
    const axis = normalizeAxis(num(args, "axis"), input.shape.length);
    if (axis === null) return fail(messages.axisRange, { axis: num(args, "axis"), rank: input.shape.length }, { arg: "axis" });
    return withShape(input, input.shape.filter((_, i) => i !== axis));
  },
  paramCount: () => 0,
};

/** Layers on sequences. */
export const sequenceLayers: readonly LayerDef[] = [
  patchify,
  unpatchify,
  attention,
  repeat,
  unmask,
  classifier,
  meanPool,
];

/** The patch count of an image for a patch size, or null when it does not divide. */
export function patchCount(image: TensorType, size: number): number | null {
  const [, h, w] = image.shape as [number, number, number];
  return h % size === 0 && w % size === 0 ? (h / size) * (w / size) : null;
}
