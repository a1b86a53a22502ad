/**
 * Bottleneck value: a `bottleneck` part is one bottleneck layer (plain, noisy,
 * variational, sparse, normalized). Bottleneck layers elsewhere are refused
 * where they are called.
 * Spec: spec/models.md#bottlenecks
 */
import { messages } from "../../../language/diagnostics/messages.js";
import { builtinsOf } from "../../builtins/index.js";
import { describeLayer } from "../values.js";
import type { Rule } from "./rule.js";

export const bottleneckValue: Rule = {
  name: "bottleneck-value",
  spec: "spec/models.md#bottlenecks",
  model({ parts, report }) {
    for (const part of parts.values()) {
      if (part.decl.role !== "bottleneck") continue;
      const layer = part.define();
      if (!layer || (layer.kind === "builtin" && layer.def.category === "bottleneck")) continue;
      report(messages.bottleneckValue, part.decl.value.span, {
        name: part.decl.name.text,
        expected: [...builtinsOf("bottleneck").keys()].join(", "),
        actual: describeLayer(layer),
      });
    }
  },
};
