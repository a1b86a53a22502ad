/**
 * Step parts exist: `freeze`, `unfreeze`, `replace` and `lr_scale` name parts
 * of the pipeline's model; freezing a frozen part (or unfreezing a trainable
 * one) does nothing and is a warning.
 * Spec: spec/pipelines.md#freeze
 */
import type { Name } from "../../../language/ast.js";
import { messages } from "../../../language/diagnostics/messages.js";
import { coveredBy } from "../frozen-layers.js";
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
      for (const target of step.targets) {
        if (!exists(facts, target.part) || !facts.model) continue;
        const resolved = facts.targets.get(target);
        if (!resolved || !("paths" in resolved)) continue;
        // A part or a layer inside one (spec/paths.md): frozen when a frozen path covers it, trainable when none touches it.
        const shown = facts.source.slice(target.span);
        for (const path of resolved.paths) {
          const covered = [...frozen].some((f) => coveredBy(path, f));
          const touched = covered || [...frozen].some((f) => coveredBy(f, path));
          if (step.kind === "Freeze" && covered) report(messages.alreadyFrozen, target.span, { name: shown, state: "frozen" });
          if (step.kind === "Unfreeze" && !touched) report(messages.alreadyFrozen, target.span, { name: shown, state: "trainable" });
          if ((step.kind === "Freeze" && covered) || (step.kind === "Unfreeze" && !touched)) break;
        }
      }
    }
    if (step.kind === "Replace") exists(facts, step.part);
    const lrScale = facts.settingEntries.get("lr_scale");
    if (lrScale?.value.kind === "Map") for (const e of lrScale.value.entries) exists(facts, e.name);
  },
};
