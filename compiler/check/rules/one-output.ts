/**
 * One output: a model declares at most one `output`.
 * Spec: spec/models.md#output
 */
import { messages } from "../../../language/diagnostics/messages.js";
import type { Rule } from "./rule.js";

export const oneOutput: Rule = {
  name: "one-output",
  spec: "spec/models.md#output",
  model({ decl, report }) {
    // Named outputs (`output attention = ...`) are not the model's output.
    const outputs = decl.members.filter((m) => m.kind === "Output" && m.name === null);
    for (const extra of outputs.slice(1)) report(messages.outputCount, extra.span, { construct: `model '${decl.name.text}'` });
  },
};
