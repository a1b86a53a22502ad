/**
 * `emitModule`: a compiled model as one TypeScript module, a typed class over
 * the runtime's `Model` with the plan embedded as data. Deciding
 * (`describeModule`) and printing (`printModule`) are separate steps.
 */
import type { ModelPlan } from "../../runtime/api/plan.js";
import { type EmitOptions, describeModule } from "./describe.js";
import { printModule } from "./print.js";

/** The generated TypeScript module for `plan`. */
export function emitModule(plan: ModelPlan, options: EmitOptions): string {
  return printModule(describeModule(plan, options));
}
