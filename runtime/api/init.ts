/**
 * A model's initial tensors: the plan's initialization graph, run with a
 * seed. It runs on the reference backend (float64, rounded once to float32)
 * whatever backend the model uses, so one seed gives the same initial
 * weights on every backend, and the same as `repr train`.
 */
import { compileReference } from "../backends/reference/executor.js";
import { ReprError } from "./errors.js";
import type { PlanTensors, PlanTensor } from "./plan.js";
import type { ModelTensor } from "./weights.js";

/**
 * The initial values of a set of tensors (a plan's, or a replaced head's) for
 * `seed`, computed by the reference backend so that every backend starts
 * from the same numbers.
 */
export function initialTensors(plan: PlanTensors, seed: number): Map<string, ModelTensor> {
  const outputs = compileReference(plan.init).run({ seed: { shape: [], data: Int32Array.of(seed | 0) } });
  const out = new Map<string, ModelTensor>();
  for (const t of plan.tensors) {
    const value = outputs[t.name];
    if (value === undefined) throw new ReprError(`the plan's initialization has no value for the tensor '${t.name}'`);
    out.set(t.name, { shape: [...t.shape], data: t.dtype === "i32" ? Int32Array.from(value.data) : Float32Array.from(value.data) });
  }
  return out;
}

/** A tensor of zeros (what weights may leave out: `num_batches_tracked`). */
export function zeroTensor(t: PlanTensor): ModelTensor {
  const size = t.shape.reduce((p, d) => p * d, 1);
  return { shape: [...t.shape], data: t.dtype === "i32" ? new Int32Array(size) : new Float32Array(size) };
}
