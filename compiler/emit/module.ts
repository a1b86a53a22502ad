/**
 * `emitModule`: compiled models as one TypeScript module, a typed class per
 * model over the runtime's `Model` with its plan embedded as data. Deciding
 * (`describeModule`) and printing (`printModule`) are separate steps.
 */
import type { ModelPlan } from "../../runtime/api/plan.js";
import { type EmitOptions, describeModule } from "./describe.js";
import { printModule } from "./print.js";

/** The generated TypeScript module for `plans`: one class per plan, in order (see `describeModule`). */
export function emitModule(plans: ModelPlan | readonly ModelPlan[], options: EmitOptions): string {
  return printModule(describeModule(plans, options));
}
