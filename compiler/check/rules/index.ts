/**
 * The semantic rules, in the order they run. Model rules run once per model
 * after its members are evaluated; step rules run once per pipeline step, in
 * order, with the state earlier steps left.
 */
import { bottleneckValue } from "./bottleneck-value.js";
import { lossIsScalar } from "./loss-is-scalar.js";
import { lossOnMask } from "./loss-on-mask.js";
import { metricTargets } from "./metric-targets.js";
import { modelHasInput } from "./model-has-input.js";
import { oneBottleneck } from "./one-bottleneck.js";
import { oneOutput } from "./one-output.js";
import { pipelineStartsWithPretrain } from "./pipeline-starts-with-pretrain.js";
import { replaceKeepsStudents } from "./replace-keeps-students.js";
import { replaceTargetsHead } from "./replace-targets-head.js";
import type { ModelFacts, Rule, StepFacts } from "./rule.js";
import { stepData } from "./step-data.js";
import { stepLayerPaths } from "./step-layer-paths.js";
import { stepPartsExist } from "./step-parts-exist.js";
import { stepSettings } from "./step-settings.js";
import { unusedParts } from "./unused-parts.js";

/** Every rule, in order. */
export const rules: readonly Rule[] = [
  modelHasInput,
  oneBottleneck,
  bottleneckValue,
  oneOutput,
  lossIsScalar,
  lossOnMask,
  unusedParts,
  pipelineStartsWithPretrain,
  stepPartsExist,
  stepLayerPaths,
  replaceTargetsHead,
  replaceKeepsStudents,
  stepData,
  metricTargets,
  stepSettings,
];

/** Runs the model rules on one model. */
export function runModelRules(facts: ModelFacts): void {
  for (const rule of rules) rule.model?.(facts);
}

/** Runs the step rules on one pipeline step. */
export function runStepRules(facts: StepFacts): void {
  for (const rule of rules) rule.step?.(facts);
}
