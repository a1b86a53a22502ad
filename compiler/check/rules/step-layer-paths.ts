/**
 * Step layer paths exist: a `freeze` or `unfreeze` target inside a part
 * (`f.2`, `f.0..2`), and a key of a training step's `lr_scale` table, names
 * layers the part has, counted as its tensors' names count them; no layer
 * gets two scales.
 * Spec: spec/paths.md#freezing-part-of-a-part
 */
import { messages } from "../../../language/diagnostics/messages.js";
import { lrScaleKey } from "../settings.js";
import type { Rule } from "./rule.js";

export const stepLayerPaths: Rule = {
  name: "step-layer-paths",
  spec: "spec/paths.md#freezing-part-of-a-part",
  step({ step, targets, scaleTargets, source, report }) {
    if (step.kind === "Freeze" || step.kind === "Unfreeze") {
      for (const target of step.targets) {
        const resolved = targets.get(target);
        if (resolved && "miss" in resolved) report(messages.noSuchLayer, target.span, { target: source.slice(target.span), why: resolved.miss });
      }
    }
    // lr_scale keys name layers as freeze targets do; a layer named by two keys (`f.0..2` and `f.2`, `f.1` and its stage name) is an error.
    const seen = new Map<string, string>();
    for (const [entry, resolved] of scaleTargets) {
      const key = lrScaleKey(entry);
      const span = entry.target?.span ?? entry.name.span;
      if (resolved && "miss" in resolved) report(messages.noSuchLayer, span, { target: key, why: resolved.miss });
      if (!resolved || !("paths" in resolved)) continue;
      for (const path of resolved.paths) {
        const first = seen.get(path);
        if (first !== undefined) {
          report(messages.scaledTwice, span, { path, first, second: key });
          break;
        }
        seen.set(path, key);
      }
    }
  },
};
