/**
 * The values a CPU executable works on: each planned value as a typed-array
 * view, and each kernel as a precompiled step with the backend's own account
 * of what that step runs.
 */
import type { DType, Shape } from "../../ir/ops.js";

/** A value's storage on the CPU. */
export type Arr = Float32Array | Int32Array;

/** One step of an executable: computes one kernel's output in place. */
export type Step = () => void;

/**
 * A step and, in words, the routine it runs with the parameters it was
 * compiled with. The account is written where the step is chosen, so what
 * `repr compile --emit cpu` prints is what runs.
 */
export interface Routine {
  readonly step: Step;
  readonly account: string;
}

/** A routine running `step`, described by `account`. */
export function routine(account: string, step: Step): Routine {
  return { step, account };
}

/** What a maker knows about one operand or the output. */
export interface Slot {
  readonly data: Arr;
  readonly shape: Shape;
  readonly dtype: DType;
}
