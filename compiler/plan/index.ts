/**
 * Plans: a checked model compiled to a `ModelPlan` (runtime/api/plan.ts),
 * the plain data `repr compile` embeds and the runtime's `Model` executes.
 * Entry point: `buildModelPlan`.
 */
export { buildModelPlan, DEFAULT_FUNCTION_BATCH, DECODE_INPUT, HEAD_INPUT } from "./build.js";
export type { PlanOptions } from "./build.js";
export { headMethodNames, isSafeMethodName, RESERVED_METHOD_NAMES } from "./names.js";
