/**
 * Step settings fit the model: objectives name losses of the model, epochs and
 * steps are not both given, a pretrained model has a loss, an adapt step has
 * something to train.
 * Spec: spec/pipelines.md#settings
 */
import { messages } from "../../../language/diagnostics/messages.js";
import { partsOf, selectedLosses } from "../step-needs.js";
import type { Rule } from "./rule.js";

export const stepSettings: Rule = {
  name: "step-settings",
  spec: "spec/pipelines.md#settings",
  step(facts) {
    const { step, settings, settingEntries, model, report } = facts;
    if (!settings) return;
    const stepName = step.kind.toLowerCase();
    const epochs = settingEntries.get("epochs");
    if (epochs && settingEntries.has("steps")) report(messages.epochsAndSteps, settingEntries.get("steps")!.name.span, { step: stepName });
    if (!model) return;
    // Loss names as declared: a loss with errors is still a loss of the model.
    const losses = facts.modelDecl?.members.flatMap((m) => (m.kind === "Loss" ? [m.name.text] : [])) ?? model.losses.map((l) => l.name);
    const objective = settingEntries.get("objective");
    if (objective) {
      const items = objective.value.kind === "List" ? objective.value.items : [objective.value];
      for (const item of items) {
        if (item.kind === "Ident" && !losses.includes(item.name)) {
          report(messages.unknownLoss, item.span, { model: model.name, name: item.name }, { notes: facts.didYouMean(item.name, losses) });
        }
      }
    }
    const declaresLoss = facts.modelDecl?.members.some((m) => m.kind === "Loss") ?? true;
    // A model without a loss is one mistake: reported at the pipeline's first pretrain, not at a second one (RC505).
    const firstPretrain = facts.pipeline.steps.findIndex((s) => s.kind === "Pretrain") === facts.index;
    if (step.kind === "Pretrain" && firstPretrain && !declaresLoss && model.name === step.model.text) {
      report(messages.modelWithoutLoss, step.model.span, { model: model.name });
    }
    if (step.kind === "Adapt" || step.kind === "Pretrain") {
      const reached = step.kind === "Adapt" && settings.objectives.length === 0
        ? facts.predictionParts
        : partsOf(model, selectedLosses(model, settings).map((l) => l.node));
      if (reached.length > 0 && reached.every((p) => facts.frozen.has(p))) report(messages.nothingToTrain, step.span, { step: stepName });
    }
  },
};
