/**
 * The values a CPU executable works on: each planned value as a typed-array
 * view, and each kernel as a precompiled step.
 */
import type { DType, Shape } from "../../ir/ops.js";

/** A value's storage on the CPU. */
export type Arr = Float32Array | Int32Array;

/** One step of an executable: computes one kernel's output in place. */
export type Step = () => void;

/** What a maker knows about one operand or the output. */
export interface Slot {
  readonly data: Arr;
  readonly shape: Shape;
  readonly dtype: DType;
}
