/**
 * Maths on values (spec/layers.md, "Maths on values"): the elementwise layers
 * `abs`, `log`, `exp`, `sqrt` and `clamp`, and the reductions `mean`, `sum`
 * and `var` over named axes, the batch included.
 *
 * The elementwise functions are layers, like `relu`: `h -> abs` and `abs(h)`
 * are the same value. The reductions are value functions: reducing the batch
 * is not something a layer, which sees one example, can do. A value reduced
 * over the batch is a statistic of the batch (`batched: false`); one reduced
 * over everything is one number per step, which a loss can be.
 */
import { messages } from "../../language/diagnostics/messages.js";
import { describeType, type TensorType } from "../check/types.js";
import { normalizeAxis } from "./layers.js";
import { FLOAT, fail, tensor, type Bound, type FunctionDef, type LayerDef, type ShapeFailure } from "./spec.js";

/** A parameter-free layer that keeps its input's type. */
function elementwise(name: string, doc: string, params: LayerDef["params"] = [], check?: LayerDef["shape"]): LayerDef {
  return {
    category: "layer",
    name,
    doc,
    params,
    rowwise: true,
    shape: check ?? ((input) => input),
    paramCount: () => 0,
  };
}

// Decision (spec): clamp's bounds are both optional, but one must be given, and min ≤ max.
const clamp = elementwise(
  "clamp",
  "Limits every element to [min, max]: max(min(x, max), min).",
  [
    { name: "min", type: FLOAT, optional: true, doc: "The lower bound; none when omitted." },
    { name: "max", type: FLOAT, optional: true, doc: "The upper bound; none when omitted." },
  ],
  (input, args) => {
    const [lo, hi] = [args["min"], args["max"]];
    if (typeof lo !== "number" && typeof hi !== "number") return fail(messages.clampBounds, { problem: "needs 'min', 'max' or both" });
    if (typeof lo === "number" && typeof hi === "number" && lo > hi) {
      return fail(messages.clampBounds, { problem: `has min ${lo} above max ${hi}` }, { arg: "min" });
    }
    return input;
  },
);

/** The elementwise maths layers. */
export const mathLayers: readonly LayerDef[] = [
  elementwise("abs", "|x|."),
  elementwise("log", "The natural logarithm; −∞ at 0 and NaN below (clamp first where x may reach 0)."),
  elementwise("exp", "e to the power x."),
  elementwise("sqrt", "The square root; NaN below 0."),
  clamp,
];

/** The axes a reduction reduces: the batch (when it has one) and axes of one example, numbered without the batch. */
export interface ReducedAxes {
  readonly batch: boolean;
  /** Normalized, ascending, distinct. */
  readonly axes: readonly number[];
}

/**
 * Reads a reduction's `axis` argument against the value's type: omitted means
 * every axis, the batch included; otherwise an int (negative counts from the
 * end), the name `batch`, or a list of those.
 */
export function reducedAxes(type: TensorType, axis: Bound): ReducedAxes | ShapeFailure {
  const rank = type.shape.length;
  if (axis === null) return { batch: type.batched, axes: type.shape.map((_, i) => i) };
  const items = Array.isArray(axis) ? (axis as readonly Bound[]) : [axis];
  let batch = false;
  const axes: number[] = [];
  for (const item of items) {
    if (item === "batch") {
      if (!type.batched) return fail(messages.noBatchAxis, {}, { arg: "axis" });
      if (batch) return fail(messages.axisTwice, { axis: "batch" }, { arg: "axis" });
      batch = true;
      continue;
    }
    const a = normalizeAxis(item as number, rank);
    if (a === null) return fail(messages.axisRange, { axis: item as number, rank }, { arg: "axis" });
    if (axes.includes(a)) return fail(messages.axisTwice, { axis: item as number }, { arg: "axis" });
    axes.push(a);
  }
  return { batch, axes: axes.sort((p, q) => p - q) };
}

/** A reduction: the value without the reduced axes, unbatched when the batch is reduced. */
function reduction(name: "mean" | "sum" | "var", doc: string): FunctionDef {
  return {
    category: "function",
    name,
    doc,
    params: [
      { name: "x", type: { kind: "value" }, doc: "The value reduced." },
      { name: "axis", type: { kind: "axes" }, optional: true, doc: "An axis, `batch`, or a list of them; every axis, the batch included, when omitted." },
    ],
    result(args) {
      const x = tensor(args, "x");
      if (x.type.dtype !== "f32") return fail(messages.dtypeMismatch, { construct: name, expected: "f32 values", origin: x.origin, actual: describeType(x.type) }, { arg: "x" });
      const r = reducedAxes(x.type, args["axis"] ?? null);
      if ("failure" in r) return r;
      const shape = x.type.shape.filter((_, i) => !r.axes.includes(i));
      return { dtype: "f32", shape, batched: x.type.batched && !r.batch };
    },
  };
}

/** The reductions. */
export const reductions: readonly FunctionDef[] = [
  reduction("mean", "The mean over axes (every axis, the batch included, by default)."),
  reduction("sum", "The sum over axes (every axis, the batch included, by default)."),
  reduction("var", "The variance over axes, mean((x − mean x)²), dividing by the count (biased)."),
];
