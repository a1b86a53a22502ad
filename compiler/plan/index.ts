/**
 * Plans: a checked model compiled to a `ModelPlan` (runtime/api/plan.ts),
 * the plain data `repr compile` embeds and the runtime's `Model` executes.
 * Entry point: `buildModelPlan`. `fitBatchGraph` makes a graph of it
 * symbolic in the batch size (a `BatchGraph`, runtime/ir/batch-graph.ts).
 */
export { buildModelPlan, DEFAULT_FUNCTION_BATCH, DECODE_INPUT, HEAD_INPUT } from "./build.js";
export type { PlanOptions } from "./build.js";
export { headMethodNames, isSafeMethodName, RESERVED_METHOD_NAMES } from "./names.js";
export { CHECK_SIZE, FIT_SIZES, fitBatchGraph } from "./batch-fit.js";
