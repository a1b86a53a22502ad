/**
 * A model plan as JSON text and back. JSON has no NaN, ±Infinity or −0, and
 * kernel graphs can hold them (a causal mask's −∞): such numbers are written as
 * `{ "$num": "-Infinity" }`, as `kernelGraphToJson` does, and read back here.
 */
import { ReprError } from "./errors.js";
import { PLAN_FORMAT, type ModelPlan } from "./plan.js";

/** The plan as JSON text, exact for every number. */
export function planToJson(plan: ModelPlan): string {
  return JSON.stringify(plan, (_key, v: unknown) => (typeof v === "number" && (!Number.isFinite(v) || Object.is(v, -0)) ? { $num: Object.is(v, -0) ? "-0" : String(v) } : v));
}

/** Reads a plan written by `planToJson` (what generated modules embed). */
export function planFromJson(text: string): ModelPlan {
  let plan: unknown;
  try {
    plan = JSON.parse(text, (_key, v: unknown) => {
      if (typeof v === "object" && v !== null && !Array.isArray(v)) {
        const keys = Object.keys(v);
        const num = (v as { $num?: unknown }).$num;
        if (keys.length === 1 && typeof num === "string") return num === "-0" ? -0 : Number(num);
      }
      return v;
    });
  } catch (err) {
    throw new ReprError(`the model plan is not valid JSON: ${(err as Error).message}`);
  }
  const format = (plan as { format?: unknown } | null)?.format;
  if (format !== PLAN_FORMAT) throw new ReprError(`the model plan has format ${JSON.stringify(format)}; this runtime reads format ${PLAN_FORMAT} (recompile the model with this version of repr)`);
  return plan as ModelPlan;
}
