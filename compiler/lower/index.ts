/**
 * Lowering: checked models to tensor IR (DESIGN.md stage 3). Entry point:
 * `lowerModel`; `modelParams` lists a model's tensors and `initialValues` /
 * `initGraph` give their initial values.
 */
export { lowerModel, lowerCheckedModel, findModel } from "./model.js";
export type { LowerOptions, LoweredModel, LoweredParam, LoweredInput, InputKind } from "./model.js";
export { modelParams, learnedCount } from "./declare.js";
export { initialValues, initialTensor, initialize, initGraph, initStream } from "./init.js";
export type { Init, InitialTensor, ParamInfo, ParamKind } from "./init.js";
export { LowerError, SEED_INPUT, STEP_INPUT } from "./context.js";
export type { Mode } from "./context.js";
export { negativeInputs, skipgramCalls } from "./skipgram.js";
export { LAYER_RULES } from "./layers.js";
export { stepLowering, findPipeline, DEFAULT_BATCH } from "./steps.js";
export type { StepLowering } from "./steps.js";
export { lowerTrainStep, optimizerOf, scheduleOf } from "./step-graph.js";
