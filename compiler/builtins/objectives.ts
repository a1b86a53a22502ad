/**
 * Objectives: each compares values and produces one scalar for the batch.
 * Weighted sums are written with arithmetic: `mse(a, b) + 0.1 * kl(p, q)`.
 */
import { messages } from "../../language/diagnostics/messages.js";
import { SCALAR_LOSS, describeType, formatShape, sameShape } from "../check/types.js";
import { conversion } from "./conversions.js";
import { POS_FLOAT, POS_INT, VALUE, fail, num, tensor, type BoundArgs, type FunctionDef, type PartArg, type ShapeFailure, type TensorArg } from "./spec.js";

/** Refuses integer ids where an objective needs floats. */
function needsFloat(objective: string, v: TensorArg, arg: string): ShapeFailure | null {
  if (v.type.dtype === "f32") return null;
  return fail(
    messages.dtypeMismatch,
    { construct: objective, expected: "f32 values", origin: v.origin, actual: describeType(v.type) },
    { arg },
  );
}

/** An objective over two values of one shape (mse, bce, kl). */
function pairwise(name: string, doc: string, a: string, b: string, positions: "elements" | "logits"): FunctionDef {
  return {
    category: "objective",
    name,
    doc,
    params: [
      { name: a, type: VALUE, doc: "The prediction." },
      { name: b, type: VALUE, doc: "What it should be." },
    ],
    result(args) {
      const x = tensor(args, a);
      const y = tensor(args, b);
      const bad = needsFloat(name, x, a) ?? needsFloat(name, y, b);
      if (bad) return bad;
      if (!sameShape(x.type.shape, y.type.shape)) {
        // The same numbers in another shape: the prediction wants reshaping (or its patches reassembling).
        const then = conversion(x.type.shape, y.type.shape);
        return fail(
          messages.objectiveShapes,
          { objective: name, expected: "two values of the same shape", actual: `${formatShape(x.type)} and ${formatShape(y.type)}` },
          { fixes: then ? [{ arg: a, then }] : [] },
        );
      }
      return SCALAR_LOSS;
    },
    positions: (args: BoundArgs) => (positions === "elements" ? tensor(args, a).type.shape : tensor(args, a).type.shape.slice(0, -1)),
  };
}

const crossEntropy: FunctionDef = {
  category: "objective",
  name: "cross_entropy",
  doc: "Softmax cross-entropy of logits [..., C] against class ids [...] with C classes.",
  params: [
    { name: "logits", type: VALUE, doc: "Unnormalized scores, last axis = classes." },
    { name: "labels", type: VALUE, doc: "Class ids or token ids." },
  ],
  result(args) {
    const logits = tensor(args, "logits");
    const labels = tensor(args, "labels");
    const bad = needsFloat("cross_entropy", logits, "logits");
    if (bad) return bad;
    if (labels.type.dtype !== "i32") {
      return fail(messages.labelType, { objective: "cross_entropy", actual: `${labels.origin}, ${describeType(labels.type)}` }, { arg: "labels" });
    }
    const expectedShape = logits.type.shape.slice(0, -1);
    if (logits.type.shape.length === 0 || !sameShape(expectedShape, labels.type.shape)) {
      const labelDims = labels.type.shape.join(", ");
      const wanted = labels.type.shape.length === 0
        ? "logits [B, K] (one score per class) for labels [B], or [B, L, K] for labels [B, L]"
        : `logits [B, ${labelDims}, K] (one score per class) for labels [B, ${labelDims}]`;
      const extra = logits.type.shape.length - labels.type.shape.length - 1;
      return fail(
        messages.objectiveShapes,
        { objective: "cross_entropy", expected: wanted, actual: `logits ${formatShape(logits.type)} and labels ${formatShape(labels.type)}` },
        { notes: extra > 0 ? [`the logits have ${extra} ${extra === 1 ? "axis" : "axes"} too many: put 'flatten' (or a pooling layer such as mean_pool) before the layer that makes them`] : [] },
      );
    }
    const classes = labels.type.classes ?? labels.type.vocab;
    const got = logits.type.shape[logits.type.shape.length - 1]!;
    if (classes !== undefined && classes !== got) {
      return fail(messages.classCount, { objective: "cross_entropy", actual: got, expected: classes });
    }
    return SCALAR_LOSS;
  },
  positions: (args) => tensor(args, "labels").type.shape,
};

const infoNce: FunctionDef = {
  category: "objective",
  name: "info_nce",
  doc: "Contrastive InfoNCE: each a should match its own b against the other b's in the batch.",
  params: [
    { name: "a", type: VALUE, doc: "Embeddings of the first view [D]." },
    { name: "b", type: VALUE, doc: "Embeddings of the second view [D]." },
    { name: "temperature", type: POS_FLOAT, default: 0.1, doc: "Softmax temperature; > 0." },
  ],
  result(args) {
    const a = tensor(args, "a");
    const b = tensor(args, "b");
    const bad = needsFloat("info_nce", a, "a") ?? needsFloat("info_nce", b, "b");
    if (bad) return bad;
    if (a.type.shape.length !== 1 || !sameShape(a.type.shape, b.type.shape)) {
      const tooMany = a.type.shape.length > 1 || b.type.shape.length > 1;
      return fail(
        messages.objectiveShapes,
        { objective: "info_nce", expected: "one embedding vector per example ([B, D] and [B, D])", actual: `${formatShape(a.type)} and ${formatShape(b.type)}` },
        { notes: tooMany ? ["make each example one vector before comparing: pool or flatten it, e.g. '-> mean_pool' or '-> flatten'"] : [] },
      );
    }
    return SCALAR_LOSS;
  },
};

/** skipgram(center, context, table: part, negatives): word2vec with negative sampling. */
const skipgram: FunctionDef = {
  category: "objective",
  name: "skipgram",
  doc: "Skip-gram with negative sampling: the center's vector should score its context id above random ones.",
  params: [
    { name: "center", type: VALUE, doc: "The center word's embedding f32[..., D]." },
    { name: "context", type: VALUE, doc: "Context ids, shaped like center without its last axis." },
    { name: "table", type: { kind: "part" }, doc: "The part holding the context vectors: exactly embedding(vocab: V, dim: D)." },
    { name: "negatives", type: POS_INT, default: 5, doc: "Random negatives per positive." },
  ],
  result(args) {
    const center = tensor(args, "center");
    const context = tensor(args, "context");
    const table = args["table"] as PartArg;
    const bad = needsFloat("skipgram", center, "center");
    if (bad) return bad;
    if (context.type.dtype !== "i32") {
      return fail(messages.dtypeMismatch, { construct: "skipgram", expected: "token ids", origin: context.origin, actual: describeType(context.type) }, { arg: "context" });
    }
    if (table.builtin !== "embedding") {
      return fail(
        messages.wrongArgumentType,
        { name: "table", callee: "skipgram", expected: "a part that is exactly embedding(vocab: ..., dim: ...)", actual: `part '${table.name}' (${table.builtin ?? "a composite layer"})` },
        { arg: "table" },
      );
    }
    const vocab = num(table.args, "vocab");
    const dim = num(table.args, "dim");
    const known = context.type.vocab ?? context.type.classes;
    if (known !== undefined && known > vocab) {
      return fail(messages.vocabTooSmall, { layer: `embedding '${table.name}'`, vocab, origin: context.origin, max: known - 1 }, { arg: "context" });
    }
    const c = center.type.shape;
    if (c.length === 0 || c[c.length - 1] !== dim || !sameShape(c.slice(0, -1), context.type.shape)) {
      return fail(messages.objectiveShapes, {
        objective: "skipgram",
        expected: `center embeddings [..., ${dim}] and context ids shaped like them without the last axis [...]`,
        actual: `${formatShape(center.type)} and ${formatShape(context.type)}`,
      });
    }
    return SCALAR_LOSS;
  },
};

/** The objectives. */
export const objectives: readonly FunctionDef[] = [
  pairwise("mse", "Mean squared error between a prediction and a target of the same shape.", "pred", "target", "elements"),
  pairwise("bce", "Binary cross-entropy between probabilities and targets in [0, 1].", "prob", "target", "elements"),
  crossEntropy,
  infoNce,
  skipgram,
  pairwise("kl", "KL divergence between the distributions of two sets of logits.", "p_logits", "q_logits", "logits"),
];
