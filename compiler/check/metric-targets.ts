/**
 * What a test step's metric compares the model's prediction with
 * (spec/pipelines.md, "Metrics"): a metric is computed from the prediction
 * and a target, whatever the model's losses are.
 *
 * - `accuracy`, `top_k` and `perplexity` compare scores `[..., K]` with class
 *   ids of the positions `[...]`; `mse`, `mae` and `psnr` compare a float
 *   prediction with a float target of its shape.
 * - `target:` names the target: a model input, a `let`, or a mask's `target`
 *   (`m.target`). Without it: the target of the mask whose `input` the
 *   prediction reads, when it has the kind the metric compares (a
 *   next-token model's next tokens, a colorization model's hidden channels);
 *   otherwise the data's label field for class metrics, and for value
 *   metrics the one float input of the prediction's shape (an autoencoder's
 *   image).
 *
 * The checker reports what does not resolve (rules/metric-targets.ts); the
 * plan resolves the same way to know which graph output holds each target.
 */
import { ancestors } from "./graph.js";
import type { CheckedField, CheckedModel, GraphNode, MaskNode, NodeId } from "./program.js";
import type { TensorType } from "./types.js";

/** What a metric compares: class scores with ids, values with values, or (nearest_neighbors) nothing. */
export type MetricKind = "classes" | "values";

/** The kind of each metric that compares the prediction with a target. */
export const METRIC_KINDS: Readonly<Record<string, MetricKind>> = {
  accuracy: "classes",
  top_k: "classes",
  perplexity: "classes",
  mse: "values",
  mae: "values",
  psnr: "values",
};

/** A metric's target. */
export type MetricTarget =
  /** The data's label field (not a model value). */
  | { readonly kind: "labels"; readonly field: string }
  /** A value of the model graph: an input, a let, or the `target` of a mask (its node). */
  | { readonly kind: "value"; readonly text: string; readonly node: NodeId; readonly type: TensorType; readonly mask: MaskNode | null };

/** Why a target did not resolve. */
export type TargetProblem =
  | { readonly problem: "unknown"; readonly name: string; readonly known: readonly string[] }
  | { readonly problem: "none"; readonly kind: MetricKind };

/** The mask whose `input` field the prediction reads, if any (the first one). */
export function predictionMask(model: CheckedModel): MaskNode | null {
  const p = model.prediction;
  if (!p) return null;
  const graph = { node: (id: NodeId): GraphNode => model.graph.nodes[id]! };
  let root: NodeId | undefined;
  if (p.output !== null) root = p.output;
  else {
    const first = model.graph.nodes.find((n) => n.op === "apply" && n.part === p.parts[0]);
    root = first?.op === "apply" ? first.input : undefined;
  }
  if (root === undefined) return null;
  for (const id of [...ancestors(graph, root)].sort((a, b) => a - b)) {
    const n = graph.node(id);
    if (n.op !== "select" || n.field !== "input") continue;
    const source = graph.node(n.source);
    if (source.op === "mask") return source;
  }
  return null;
}

/** The names `target:` may give: inputs, lets, and each mask's `target`. */
export function targetNames(model: CheckedModel): string[] {
  const masks = model.graph.nodes.flatMap((n) => (n.op === "mask" ? [`${n.name}.target`] : []));
  return [...model.inputs.map((i) => i.name), ...model.lets.map((l) => l.name), ...masks];
}

/** A mask's `target` as a metric target. */
function maskTarget(mask: MaskNode): MetricTarget {
  return { kind: "value", text: `${mask.name}.target`, node: mask.id, type: mask.fields.target, mask };
}

/** Whether a target can be compared, by its element type and positions, with a prediction. */
export function fits(kind: MetricKind, prediction: TensorType, target: TensorType): boolean {
  if (prediction.dtype !== "f32") return false;
  if (kind === "values") return target.dtype === "f32" && prediction.shape.join() === target.shape.join();
  return target.dtype === "i32" && prediction.shape.length >= 1 && prediction.shape.slice(0, -1).join() === target.shape.join();
}

/**
 * Resolves a metric's target on a model whose prediction now has type
 * `prediction` (after replaced heads), with the data's label field.
 */
export function resolveMetricTarget(
  model: CheckedModel,
  prediction: TensorType,
  metric: { readonly name: string; readonly args: Readonly<Record<string, unknown>> },
  labels: CheckedField | null,
): MetricTarget | TargetProblem {
  const kind = METRIC_KINDS[metric.name]!;
  const named = metric.args["target"];
  if (typeof named === "string") {
    const [first, field] = named.split(".");
    if (field === undefined) {
      const input = model.inputs.find((i) => i.name === first);
      if (input) return { kind: "value", text: named, node: input.node, type: input.type, mask: null };
      const let_ = model.lets.find((l) => l.name === first);
      if (let_) return { kind: "value", text: named, node: let_.node, type: let_.type, mask: null };
    } else if (field === "target") {
      const mask = model.graph.nodes.find((n): n is MaskNode => n.op === "mask" && n.name === first);
      if (mask) return maskTarget(mask);
    }
    return { problem: "unknown", name: named, known: targetNames(model) };
  }
  const mask = predictionMask(model);
  if (mask && fits(kind, prediction, mask.fields.target)) return maskTarget(mask);
  if (kind === "classes") return labels ? { kind: "labels", field: labels.name } : { problem: "none", kind };
  const inputs = model.inputs.filter((i) => fits(kind, prediction, i.type));
  if (inputs.length === 1) return { kind: "value", text: inputs[0]!.name, node: inputs[0]!.node, type: inputs[0]!.type, mask: null };
  return { problem: "none", kind };
}

/** True when a resolution failed. */
export function isTargetProblem(t: MetricTarget | TargetProblem): t is TargetProblem {
  return "problem" in t;
}
