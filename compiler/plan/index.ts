/**
 * Plans: a checked model compiled to a `ModelPlan` (runtime/api/plan.ts),
 * the plain data `repr compile` embeds, the runtime's `Model` executes and
 * the training engine runs pipelines from. Entry point: `buildModelPlan`.
 */
export { buildModelPlan, DECODE_INPUT, HEAD_INPUT } from "./build.js";
export type { PlanOptions } from "./build.js";
export { dataSpecOf } from "./data.js";
export { metricLabel } from "./pipeline.js";
export { headMethodNames, isSafeMethodName, RESERVED_METHOD_NAMES } from "./names.js";
export { CHECK_SIZE, FIT_SIZES, fitBatchGraph } from "./batch-fit.js";
