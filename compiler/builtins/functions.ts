/**
 * Value functions: combine values without learned parameters.
 * `add(a, b)` (also written `a + b`), `concat(a, b, ..., axis)`, `similarity(a, b, metric)`.
 */
import { messages } from "../../language/diagnostics/messages.js";
import { formatShape, sameShape } from "../check/types.js";
import { normalizeAxis } from "./layers.js";
import { INT, VALUE, fail, num, tensor, type FunctionDef, type TensorArg } from "./spec.js";

const add: FunctionDef = {
  category: "function",
  name: "add",
  doc: "Elementwise sum of two values of the same shape (a residual connection).",
  params: [
    { name: "a", type: VALUE, doc: "First value." },
    { name: "b", type: VALUE, doc: "Second value." },
  ],
  result(args) {
    const a = tensor(args, "a");
    const b = tensor(args, "b");
    if (!sameShape(a.type.shape, b.type.shape)) {
      return fail(messages.operandShapes, { op: "add", left: formatShape(a.type), right: formatShape(b.type) });
    }
    // As `a + b`: a statistic of the batch is added to every example.
    const batched = a.type.batched || b.type.batched;
    return a.type.positions !== undefined && a.type.batched === batched ? a.type : { dtype: "f32", shape: a.type.shape, batched };
  },
};

const concat: FunctionDef = {
  category: "function",
  name: "concat",
  doc: "Joins values along an axis; they must agree on every other axis.",
  params: [
    { name: "values", type: VALUE, variadic: true, doc: "The values, two or more." },
    { name: "axis", type: INT, default: -1, doc: "The axis to join along." },
  ],
  result(args) {
    const values = args["values"] as readonly TensorArg[];
    const first = values[0]!.type;
    const rank = first.shape.length;
    const axis = normalizeAxis(num(args, "axis"), rank);
    if (axis === null) return fail(messages.axisRange, { axis: num(args, "axis"), rank }, { arg: "axis" });
    const agree = values.every(
      (v) => v.type.batched === first.batched && v.type.shape.length === rank && v.type.shape.every((d, i) => i === axis || d === first.shape[i]),
    );
    if (!agree) {
      return fail(messages.concatShapes, { axis: num(args, "axis"), shapes: values.map((v) => formatShape(v.type)).join(", ") });
    }
    const shape = first.shape.slice();
    shape[axis] = values.reduce((sum, v) => sum + v.type.shape[axis]!, 0);
    return { dtype: first.dtype, shape, batched: first.batched };
  },
};

const similarity: FunctionDef = {
  category: "function",
  name: "similarity",
  doc: "Dot-product or cosine similarity: [D]×[D] → [], [n, D]×[m, D] → [n, m].",
  params: [
    { name: "a", type: VALUE, doc: "Queries." },
    { name: "b", type: VALUE, doc: "Keys." },
    { name: "metric", type: { kind: "enum", values: ["dot", "cosine"] }, default: "dot", doc: "How to compare." },
  ],
  result(args) {
    const a = tensor(args, "a").type;
    const b = tensor(args, "b").type;
    const ra = a.shape.length;
    const ok = a.batched && b.batched && ra === b.shape.length && (ra === 1 || ra === 2) && a.shape[ra - 1] === b.shape[ra - 1];
    if (!ok) return fail(messages.similarityShapes, { left: formatShape(a), right: formatShape(b) });
    return { dtype: "f32", shape: ra === 1 ? [] : [a.shape[0]!, b.shape[0]!], batched: a.batched };
  },
};

/** The value functions. */
export const valueFunctions: readonly FunctionDef[] = [add, concat, similarity];
