/**
 * Pipeline starts with pretrain: the first step of a pipeline is `pretrain
 * <Model> on <data>`, and a pipeline pretrains only one model.
 * Spec: spec/pipelines.md#steps
 */
import { messages } from "../../../language/diagnostics/messages.js";
import type { Rule } from "./rule.js";

export const pipelineStartsWithPretrain: Rule = {
  name: "pipeline-starts-with-pretrain",
  spec: "spec/pipelines.md#steps",
  step({ pipeline, step, index, model, pretrainedAt, report }) {
    if (index === 0 && step.kind !== "Pretrain") {
      report(messages.pipelineStart, step.span, { name: pipeline.name.text });
      return;
    }
    if (index > 0 && step.kind === "Pretrain" && pipeline.steps.slice(0, index).some((s) => s.kind === "Pretrain")) {
      report(messages.secondPretrain, step.model.span, { name: pipeline.name.text, model: model?.name ?? "its model" }, {
        related: pretrainedAt ? [{ source: pretrainedAt.source, span: pretrainedAt.span, message: "the model is pretrained here" }] : [],
      });
    }
  },
};
