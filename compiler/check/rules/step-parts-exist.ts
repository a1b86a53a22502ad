/**
 * Step parts exist: `freeze`, `unfreeze`, `replace` and `lr_scale` name parts
 * of the pipeline's model; freezing a frozen part (or unfreezing a trainable
 * one) does nothing and is a warning.
 * Spec: spec/pipelines.md#freeze
 */
import type { Name } from "../../../language/ast.js";
import { messages } from "../../../language/diagnostics/messages.js";
import type { Rule, StepFacts } from "./rule.js";

function exists(facts: StepFacts, name: Name): boolean {
  if (!facts.model || facts.roles.has(name.text)) return true;
  facts.report(messages.unknownPart, name.span, { model: facts.model.name, name: name.text }, { notes: facts.didYouMean(name.text, facts.roles.keys()) });
  return false;
}

export const stepPartsExist: Rule = {
  name: "step-parts-exist",
  spec: "spec/pipelines.md#freeze",
  step(facts) {
    const { step, frozen, report } = facts;
    if (step.kind === "Freeze" || step.kind === "Unfreeze") {
      for (const name of step.parts) {
        if (!exists(facts, name) || !facts.model) continue;
        const isFrozen = frozen.has(name.text);
        if (step.kind === "Freeze" && isFrozen) report(messages.alreadyFrozen, name.span, { name: name.text, state: "frozen" });
        if (step.kind === "Unfreeze" && !isFrozen) report(messages.alreadyFrozen, name.span, { name: name.text, state: "trainable" });
      }
    }
    if (step.kind === "Replace") exists(facts, step.part);
    const lrScale = facts.settingEntries.get("lr_scale");
    if (lrScale?.value.kind === "Map") for (const e of lrScale.value.entries) exists(facts, e.name);
  },
};
