/**
 * Step layer paths exist: a `freeze` or `unfreeze` target inside a part
 * (`f.2`, `f.0..2`) names layers the part has, counted as its tensors'
 * names count them.
 * Spec: spec/paths.md#freezing-part-of-a-part
 */
import { messages } from "../../../language/diagnostics/messages.js";
import type { Rule } from "./rule.js";

export const stepLayerPaths: Rule = {
  name: "step-layer-paths",
  spec: "spec/paths.md#freezing-part-of-a-part",
  step({ step, targets, source, report }) {
    if (step.kind !== "Freeze" && step.kind !== "Unfreeze") return;
    for (const target of step.targets) {
      const resolved = targets.get(target);
      if (resolved && "miss" in resolved) report(messages.noSuchLayer, target.span, { target: source.slice(target.span), why: resolved.miss });
    }
  },
};
