/**
 * The prediction (spec/models.md, "Output and the prediction"), lowered in the
 * plain world, with masks and views off: the model's `output`, or else its
 * first head applied along the first applied encoder and the bottleneck after
 * it — the path the checker worked out (`CheckedModel.prediction`).
 */
import { LowerError, val, type Val } from "./context.js";
import type { ModelLowerer } from "./model-scope.js";

/** The prediction's value, or null when the model has none. */
export function lowerPrediction(m: ModelLowerer): Val | null {
  const p = m.model.prediction;
  if (!p) return null;
  if (p.output !== null) return m.worlds.plain.value(p.output);
  const byRole = (role: string) => m.model.parts.find((part) => part.role === role);
  const head = byRole("head");
  if (!head) return null;
  const encoder = m.model.parts.find((part) => part.role === "encoder" && m.applicationsOf(part.name).length > 0);
  let x: Val;
  const path: string[] = [];
  if (encoder) {
    // The encoder's first application, on what it sees there (masks off), then the bottleneck on it.
    const app = m.applicationsOf(encoder.name)[0]!;
    x = m.applyPart(encoder.name, m.worlds.plain.value(app.input), 0, "plain");
    path.push(encoder.name);
    const bottleneck = byRole("bottleneck");
    const code = bottleneck ? m.applicationsOf(bottleneck.name).find((a) => a.input === app.id) : undefined;
    if (bottleneck && code) {
      x = m.applyPart(bottleneck.name, x, m.applicationIndex(code.id), "plain");
      path.push(bottleneck.name);
    }
  } else {
    const first = m.applicationsOf(head.name)[0];
    const id = first ? first.input : m.model.inputs[0]?.node;
    if (id === undefined) return null;
    x = m.worlds.plain.value(id);
  }
  path.push(head.name);
  if (path.join() !== p.parts.join()) {
    throw new LowerError(`internal: the prediction goes through ${path.join(", ")}, the checker says ${p.parts.join(", ")}`);
  }
  return m.applyPart(head.name, x, 0, "plain");
}

/**
 * The representation `nearest_neighbors` compares (spec/pipelines.md,
 * "Metrics"): the output of the first encoder on the prediction's path (or the
 * model's first applied encoder), at its first application, with masks and
 * views off, flattened to [B, n]. Null when the model has no applied encoder.
 */
export function lowerFeatures(m: ModelLowerer): Val | null {
  const onPath = new Set(m.model.prediction?.parts ?? []);
  const encoders = m.model.parts.filter((part) => part.role === "encoder" && m.applicationsOf(part.name).length > 0);
  const encoder = encoders.find((part) => onPath.has(part.name)) ?? encoders[0];
  if (!encoder) return null;
  const app = m.applicationsOf(encoder.name)[0]!;
  const x = m.applyPart(encoder.name, m.worlds.plain.value(app.input), 0, "plain").x;
  const b = m.s.b;
  const width = x.shape.slice(1).reduce((p, d) => p * d, 1);
  return val(b.reshape(x, [x.shape[0]!, width]));
}
