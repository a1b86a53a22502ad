/**
 * A model plan as JSON text and back. JSON has no NaN, ±Infinity or −0, and
 * kernel graphs can hold them (a causal mask's −∞): such numbers are written as
 * `{ "$num": "-Infinity" }` (`ir/exact-json.ts`), as graphs spell them.
 */
import { fromExactJson, toExactJson } from "../ir/exact-json.js";
import { ReprError } from "./errors.js";
import { PLAN_FORMAT, type ModelPlan } from "./plan.js";

/** The plan as JSON text, exact for every number. */
export function planToJson(plan: ModelPlan): string {
  return toExactJson(plan);
}

/** Reads a plan written by `planToJson` (what generated modules embed). */
export function planFromJson(text: string): ModelPlan {
  let plan: unknown;
  try {
    plan = fromExactJson(text);
  } catch (err) {
    throw new ReprError(`the model plan is not valid JSON: ${(err as Error).message}`);
  }
  const format = (plan as { format?: unknown } | null)?.format;
  if (format !== PLAN_FORMAT) throw new ReprError(`the model plan has format ${JSON.stringify(format)}; this runtime reads format ${PLAN_FORMAT} (recompile the model with this version of repr)`);
  return plan as ModelPlan;
}
