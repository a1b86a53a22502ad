import type { ModelPlan } from "../../runtime/api/plan.js";
import { UserError } from "../errors.js";

/** Writes the PyTorch target (in progress). */
export function writePytorch(_file: string, _output: string, _plans: readonly ModelPlan[]): Promise<number> {
  throw new UserError("--target pytorch is not available yet");
}
