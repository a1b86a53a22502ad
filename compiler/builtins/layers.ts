/**
 * Built-in layers that work on features and images: dense, convolutions,
 * pooling, reshaping, activations, normalization, dropout, embeddings.
 *
 * Shapes exclude the batch. Each rule states what it expects of its input and
 * refuses with a message naming the expected and the actual shape.
 */
import { messages } from "../../language/diagnostics/messages.js";
import { elementCount, formatDims, withShape, type TensorType } from "../check/types.js";
import { squareImage } from "./conversions.js";
import {
  BOOL,
  INT,
  POS_FLOAT,
  POS_INT,
  RATE,
  fail,
  num,
  optNum,
  type BoundArgs,
  type LayerDef,
  type ShapeFailure,
} from "./spec.js";

const expects = (expected: string): ShapeFailure => fail(messages.layerInput, { expected });

/** Normalizes a possibly negative axis against a rank; null when out of range. */
export function normalizeAxis(axis: number, rank: number): number | null {
  const a = axis < 0 ? rank + axis : axis;
  return a >= 0 && a < rank ? a : null;
}

/** A layer that keeps its input's type: activations, dropout. */
function elementwise(name: string, doc: string, params: LayerDef["params"] = []): LayerDef {
  return {
    category: "layer",
    name,
    doc,
    params,
    rowwise: true,
    shape: (input) => input,
    paramCount: () => 0,
  };
}

/** A layer that keeps shape and normalizes along an axis. */
function alongAxis(name: string, doc: string): LayerDef {
  return {
    category: "layer",
    name,
    doc,
    params: [{ name: "axis", type: INT, default: -1, doc: "The axis to normalize along." }],
    rowwise: true,
    shape(input, args) {
      if (normalizeAxis(num(args, "axis"), input.shape.length) === null) {
        return fail(messages.axisRange, { axis: num(args, "axis"), rank: input.shape.length }, { arg: "axis" });
      }
      return input;
    },
    paramCount: () => 0,
  };
}

const paddingParam = {
  name: "padding",
  type: { kind: "enum", values: ["same", "valid"] },
  default: "same",
  doc: "`same` keeps H/stride rows; `valid` uses only whole windows.",
} as const;

/** Output size of a convolution or pooling window along one axis. */
function windowOut(size: number, kernel: number, stride: number, padding: string): number {
  return padding === "same" ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
}

function image(input: TensorType): [number, number, number] | null {
  return input.shape.length === 3 ? [input.shape[0]!, input.shape[1]!, input.shape[2]!] : null;
}

/** `conv2d` and the pools need an image; a flat vector of a square count is most likely one, flattened. */
function expectsImage(layer: string, input: TensorType): ShapeFailure {
  const square = input.shape.length === 1 ? squareImage(input.shape[0]!) : null;
  const help = square ? [`make it an image first: put 'reshape(shape: ${formatDims(square)}) ->' before ${layer}`] : [];
  return fail(messages.layerInput, { expected: "an image [C, H, W]" }, { help });
}

const dense: LayerDef = {
  category: "layer",
  name: "dense",
  doc: "A fully connected layer on the last axis: y = x·W + b.",
  params: [
    { name: "units", type: POS_INT, doc: "Output features." },
    { name: "bias", type: BOOL, default: true, doc: "Whether to add a learned bias." },
  ],
  rowwise: true,
  shape(input, args) {
    if (input.shape.length === 0) return expects("features [..., D]");
    return withShape(input, [...input.shape.slice(0, -1), num(args, "units")]);
  },
  paramCount(input, args) {
    const inFeatures = input.shape[input.shape.length - 1]!;
    const units = num(args, "units");
    return inFeatures * units + (args["bias"] ? units : 0);
  },
};

function conv(name: "conv2d" | "conv_transpose2d", doc: string): LayerDef {
  return {
    category: "layer",
    name,
    doc,
    params: [
      { name: "filters", type: POS_INT, doc: "Output channels." },
      { name: "kernel", type: POS_INT, default: 3, doc: "Square kernel size." },
      { name: "stride", type: POS_INT, default: 1, doc: "Step between windows." },
      paddingParam,
      { name: "bias", type: BOOL, default: true, doc: "Whether to add a learned bias per filter." },
    ],
    shape(input, args) {
      const chw = image(input);
      if (!chw) return expectsImage(name, input);
      const [, h, w] = chw;
      const k = num(args, "kernel");
      const s = num(args, "stride");
      const pad = String(args["padding"]);
      const out =
        name === "conv2d"
          ? [windowOut(h, k, s, pad), windowOut(w, k, s, pad)]
          : pad === "same"
            ? [h * s, w * s]
            : [(h - 1) * s + k, (w - 1) * s + k];
      if (out[0]! < 1 || out[1]! < 1) return fail(messages.emptyOutput, {});
      return withShape(input, [num(args, "filters"), out[0]!, out[1]!]);
    },
    paramCount(input, args) {
      const k = num(args, "kernel");
      const f = num(args, "filters");
      return input.shape[0]! * f * k * k + (args["bias"] ? f : 0);
    },
  };
}

function pool(name: "max_pool" | "avg_pool", doc: string): LayerDef {
  return {
    category: "layer",
    name,
    doc,
    params: [
      { name: "size", type: POS_INT, default: 2, doc: "Window size." },
      { name: "stride", type: POS_INT, optional: true, doc: "Step between windows; defaults to size." },
    ],
    shape(input, args) {
      const chw = image(input);
      if (!chw) return expectsImage(name, input);
      const size = num(args, "size");
      const stride = optNum(args, "stride") ?? size;
      const h = windowOut(chw[1], size, stride, "valid");
      const w = windowOut(chw[2], size, stride, "valid");
      if (h < 1 || w < 1) return fail(messages.emptyOutput, {});
      return withShape(input, [chw[0], h, w]);
    },
    paramCount: () => 0,
  };
}

const flatten: LayerDef = {
  category: "layer",
  name: "flatten",
  doc: "Flattens every axis into one: [C, H, W] → [C·H·W].",
  params: [],
  shape: (input) => withShape(input, [elementCount(input.shape)]),
  paramCount: () => 0,
};

// Decision (spec): one entry of `shape` may be -1, meaning "whatever makes the count match".
const reshape: LayerDef = {
  category: "layer",
  name: "reshape",
  doc: "Reshapes to `shape` (without the batch); one entry may be -1 to infer it.",
  params: [{ name: "shape", type: { kind: "list", item: "int", minItems: 1 }, doc: "The new shape." }],
  shape(input, args) {
    const target = (args["shape"] as readonly number[]).slice();
    const count = elementCount(input.shape);
    const unknown = target.filter((d) => d === -1).length;
    const known = elementCount(target.filter((d) => d !== -1));
    const bad = target.some((d) => d === 0 || d < -1) || unknown > 1;
    if (!bad && unknown === 1 && known > 0 && count % known === 0) {
      target[target.indexOf(-1)] = count / known;
    }
    const targetCount = elementCount(target);
    if (bad || target.includes(-1) || targetCount !== count) {
      return fail(
        messages.reshapeCount,
        { actual: formatDims(input.shape), count, target: formatDims(args["shape"] as number[]), targetCount: unknown ? "?" : targetCount },
        { arg: "shape" },
      );
    }
    return withShape(input, target);
  },
  paramCount: () => 0,
};

const layerNorm: LayerDef = {
  category: "layer",
  name: "layer_norm",
  doc: "Normalizes the last axis to zero mean and unit variance, then scales and shifts (learned).",
  params: [{ name: "eps", type: POS_FLOAT, default: 1e-5, doc: "Added to the variance." }],
  rowwise: true,
  shape: (input) => (input.shape.length === 0 ? expects("features [..., D]") : input),
  paramCount: (input) => 2 * input.shape[input.shape.length - 1]!,
};

// Decision (spec): batch_norm's features are the channels (axis 0) of an image
// [C, H, W] and the last axis otherwise; running mean and variance are buffers,
// not parameters, so they are not counted.
const batchNorm: LayerDef = {
  category: "layer",
  name: "batch_norm",
  doc: "Normalizes each feature over the batch; keeps running statistics for inference.",
  params: [
    { name: "momentum", type: { kind: "float", min: 0, max: 1 }, default: 0.1, doc: "Weight of the newest batch in the running statistics." },
    { name: "eps", type: POS_FLOAT, default: 1e-5, doc: "Added to the variance." },
  ],
  shape: (input) => (input.shape.length === 0 ? expects("features [D] or an image [C, H, W]") : input),
  paramCount(input) {
    const features = input.shape.length === 3 ? input.shape[0]! : input.shape[input.shape.length - 1]!;
    return 2 * features;
  },
};

const embedding: LayerDef = {
  category: "layer",
  name: "embedding",
  doc: "Looks up a learned vector for each token id: i32[...] → f32[..., dim].",
  params: [
    { name: "vocab", type: POS_INT, doc: "Number of rows (token ids 0..vocab-1)." },
    { name: "dim", type: POS_INT, doc: "Vector size." },
  ],
  accepts: "i32",
  rowwise: true,
  shape(input, args) {
    const known = input.vocab ?? input.classes;
    if (known !== undefined && known > num(args, "vocab")) {
      return fail(messages.vocabTooSmall, { vocab: num(args, "vocab"), max: known - 1 }, { arg: "vocab" });
    }
    return { dtype: "f32", shape: [...input.shape, num(args, "dim")], batched: input.batched };
  },
  paramCount: (_input, args) => num(args, "vocab") * num(args, "dim"),
};

// Decision (spec): `length` may be omitted; the table then has one row per
// position of the input (or of the full sequence, for visible patches).
const positional: LayerDef = {
  category: "layer",
  name: "positional",
  doc: "Adds a learned vector per position to a sequence [L, D].",
  params: [{ name: "length", type: POS_INT, optional: true, doc: "Table rows; defaults to the sequence length." }],
  rowwise: true,
  shape(input, args) {
    if (input.shape.length !== 2) return expects("a sequence [L, D]");
    const length = tableLength(input, args);
    const full = input.positions ?? input.shape[0]!;
    if (full > length) return fail(messages.sequenceTooLong, { length, actual: full }, { arg: "length" });
    return input;
  },
  paramCount: (input, args) => tableLength(input, args) * input.shape[1]!,
};

function tableLength(input: TensorType, args: BoundArgs): number {
  return optNum(args, "length") ?? input.positions ?? input.shape[0]!;
}

/** Layers on features and images. */
export const featureLayers: readonly LayerDef[] = [
  dense,
  conv("conv2d", "A 2-D convolution over an image [C, H, W]."),
  conv("conv_transpose2d", "A transposed 2-D convolution: upsamples an image by its stride."),
  pool("max_pool", "Takes the maximum of each window of an image."),
  pool("avg_pool", "Takes the mean of each window of an image."),
  flatten,
  reshape,
  elementwise("relu", "max(x, 0)."),
  elementwise("gelu", "The Gaussian error linear unit."),
  elementwise("tanh", "The hyperbolic tangent."),
  elementwise("sigmoid", "1 / (1 + exp(-x))."),
  elementwise("silu", "x · sigmoid(x)."),
  alongAxis("softmax", "Exponentiates and normalizes along an axis so it sums to one."),
  alongAxis("l2_normalize", "Scales along an axis to unit Euclidean length."),
  layerNorm,
  batchNorm,
  elementwise("dropout", "Zeroes each element with probability `rate` while training.", [
    { name: "rate", type: RATE, doc: "The probability of dropping an element, in [0, 1)." },
  ]),
  embedding,
  positional,
];

