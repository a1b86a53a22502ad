/**
 * How a model generates (spec/sampling.md), decided from its structure for
 * `PlanSampling` (runtime/api/plan.ts):
 *
 * - **next token**: the prediction reads the `input` of a `next_token` mask
 *   over a model input of type `tokens(length: L, vocab: V)`, and is scores
 *   `[L − 1, V]`; `forward` of that one input is then a language model the
 *   runtime can extend token by token.
 * - **the prior**: a `variational` bottleneck whose output the decoder reads;
 *   `decode` of codes `[D]` turns draws from N(0, I) into data.
 *
 * A model that is neither cannot be sampled (`sampling: null`, and `repr
 * sample` says why, RC850).
 */
import type { PlanFunction, PlanSampling } from "../../runtime/api/plan.js";
import { predictionMask } from "../check/metric-targets.js";
import type { CheckedModel } from "../check/program.js";

/** A model's sampling, given its planned functions; null when it has none. */
export function planSampling(model: CheckedModel, functions: readonly PlanFunction[]): PlanSampling | null {
  return nextToken(model, functions) ?? prior(model, functions);
}

/** Why a model cannot be sampled, for RC850 (null when it can). */
export function whyNoSampling(model: CheckedModel, functions: readonly PlanFunction[]): string | null {
  if (planSampling(model, functions)) return null;
  return `model '${model.name}' has neither a prediction that reads a next_token mask over a tokens input (a language model) nor a variational bottleneck whose code a decoder reads`;
}

function nextToken(model: CheckedModel, functions: readonly PlanFunction[]): PlanSampling | null {
  const mask = predictionMask(model);
  if (!mask || mask.strategy !== "next_token") return null;
  const input = model.graph.nodes[mask.input];
  const forward = functions.find((f) => f.name === "forward");
  if (input?.op !== "input" || !forward || forward.inputs.length !== 1 || forward.inputs[0]!.name !== input.name) return null;
  const t = input.type;
  const scores = forward.output;
  const length = t.shape[0];
  if (t.vocab === undefined || length === undefined || t.shape.length !== 1) return null;
  if (scores.dtype !== "f32" || scores.shape.join() !== [length - 1, t.vocab].join()) return null;
  return { kind: "next-token", fn: forward.name, input: input.name, length, vocab: t.vocab, special: [...(t.special ?? [])] };
}

function prior(model: CheckedModel, functions: readonly PlanFunction[]): PlanSampling | null {
  const bottleneck = model.parts.find((p) => p.role === "bottleneck" && p.layer?.kind === "builtin" && p.layer.name === "variational");
  const decoder = model.parts.find((p) => p.role === "decoder");
  const decode = functions.find((f) => f.name === "decode");
  if (!bottleneck?.output || !decoder || !decode || decode.inputs.length !== 1) return null;
  // The decoder reads the code: it is applied to the bottleneck's output somewhere in the model.
  const reads = model.graph.nodes.some((n) => n.op === "apply" && n.part === decoder.name && model.graph.nodes[n.input]?.op === "apply" && (model.graph.nodes[n.input] as { part: string | null }).part === bottleneck.name);
  if (!reads || decode.inputs[0]!.shape.join() !== bottleneck.output.shape.join()) return null;
  return { kind: "prior", fn: decode.name, input: decode.inputs[0]!.name, shape: [...decode.inputs[0]!.shape] };
}
