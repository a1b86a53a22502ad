/**
 * Learning-rate schedules as IR (spec/optimizers.md, "Schedules").
 *
 * A schedule turns the optimizer's `lr` into `lrₜ` for update `t = 0 .. T − 1`
 * of a training step. `t` is the graph's i32 scalar input `step` (the same
 * input random draws are keyed on), cast to f32. `T` (the step's number of
 * updates) is a constant when it is known as the graph is built (a `steps`
 * setting, or a host that knows its data); when it depends on data the graph
 * does not know yet (`epochs` in a compiled plan), it is the graph's i32 scalar
 * input `updates`, which the host feeds with the updates of its run.
 *
 * | schedule | `lrₜ` |
 * |---|---|
 * | `constant` | `lr` |
 * | `warmup(steps)` | `lr · (t + 1) / steps` while `t < steps`, then `lr` |
 * | `cosine(warmup)` | `lr · (t + 1) / warmup` while `t < warmup`; then `lr · ½ · (1 + cos(π · (t − warmup) / (T − warmup)))` |
 */
import { IRError, type IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";

/** A learning-rate schedule, as written in a step's `schedule` setting. */
export type Schedule =
  | { readonly kind: "constant" }
  | { readonly kind: "warmup"; readonly steps: number }
  | { readonly kind: "cosine"; readonly warmup?: number };

/** The name of the graph input that counts updates within a training step, from 0. */
export const STEP_INPUT = "step";

/** The name of the graph input that carries `T`, when the graph does not fix it. */
export const UPDATES_INPUT = "updates";

/**
 * `T`, the number of updates of a training step: a number known when the
 * graph is built, or `"input"` for the graph's i32 scalar input `updates`.
 */
export type TotalSteps = number | "input";

/**
 * The i32 scalar input `step`: the builder's existing one if lowering already
 * made it (random draws use it too), else a new one.
 */
export function stepInput(b: IRBuilder): Node {
  return scalarInput(b, STEP_INPUT);
}

/** The builder's i32 scalar input `name`, made on first use. */
function scalarInput(b: IRBuilder, name: string): Node {
  const found = b.leaf(name);
  if (found === undefined) return b.input(name, [], "i32");
  if (found.op !== "input" || found.dtype !== "i32" || found.shape.length !== 0) {
    throw new IRError(`the leaf "${name}" must be an i32 scalar input, not a ${found.dtype} ${found.op}`);
  }
  return found;
}

/**
 * `lrₜ` as an f32 scalar node: `lr` under `schedule` at update `step` (an i32
 * scalar node, counted from 0) of a training step of `totalSteps` updates.
 * Only `cosine` reads `T`, so only it makes the input `updates`.
 */
export function scheduledRate(b: IRBuilder, lr: number, schedule: Schedule, step: Node, totalSteps: TotalSteps): Node {
  checkSchedule(schedule, totalSteps);
  const t = b.cast(step, "f32");
  switch (schedule.kind) {
    case "constant":
      return b.constant(lr);
    case "warmup":
      return warmed(b, lr, schedule.steps, t, b.constant(lr));
    case "cosine": {
      const w = schedule.warmup ?? 0;
      // T − warmup ≥ 1 keeps the division finite; when T ≤ warmup the cosine branch is never selected.
      // Fed or constant, the span is the same whole number in f32 (exact below 2^24), so both divide alike.
      const span = totalSteps === "input" ? b.maximum(b.sub(b.cast(scalarInput(b, UPDATES_INPUT), "f32"), w), 1) : Math.max(totalSteps - w, 1);
      const phase = b.div(b.mul(b.sub(t, w), Math.PI), span);
      const decayed = b.mul(b.add(b.cos(phase), 1), lr / 2);
      return w === 0 ? decayed : warmed(b, lr, w, t, decayed);
    }
  }
}

/** `lr · (t + 1) / w` while `t < w`, else `after`. */
function warmed(b: IRBuilder, lr: number, w: number, t: Node, after: Node): Node {
  const ramp = b.mul(b.add(t, 1), lr / w);
  return b.where(b.cmplt(t, w), ramp, after);
}

/** The same numbers in plain float64, for hosts that need `lrₜ` outside a graph (logging, tests). */
export function scheduledRateValue(lr: number, schedule: Schedule, t: number, totalSteps: number): number {
  checkSchedule(schedule, totalSteps);
  switch (schedule.kind) {
    case "constant":
      return lr;
    case "warmup":
      return t < schedule.steps ? (lr * (t + 1)) / schedule.steps : lr;
    case "cosine": {
      const w = schedule.warmup ?? 0;
      if (t < w) return (lr * (t + 1)) / w;
      return (lr / 2) * (1 + Math.cos((Math.PI * (t - w)) / Math.max(totalSteps - w, 1)));
    }
  }
}

function checkSchedule(schedule: Schedule, totalSteps: TotalSteps): void {
  if (totalSteps !== "input" && !(Number.isInteger(totalSteps) && totalSteps >= 1)) throw new IRError(`schedule: totalSteps must be an integer ≥ 1, got ${totalSteps}`);
  if (schedule.kind === "warmup" && !(Number.isInteger(schedule.steps) && schedule.steps >= 1)) {
    throw new IRError(`warmup(steps: ${schedule.steps}): steps must be an integer ≥ 1`);
  }
  if (schedule.kind === "cosine" && schedule.warmup !== undefined && !(Number.isInteger(schedule.warmup) && schedule.warmup >= 0)) {
    throw new IRError(`cosine(warmup: ${schedule.warmup}): warmup must be an integer ≥ 0`);
  }
}
