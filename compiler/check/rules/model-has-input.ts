/**
 * Model has an input: every model declares at least one `input`.
 * Spec: spec/models.md#inputs
 */
import { messages } from "../../../language/diagnostics/messages.js";
import type { Rule } from "./rule.js";

export const modelHasInput: Rule = {
  name: "model-has-input",
  spec: "spec/models.md#inputs",
  model({ decl, report }) {
    if (!decl.members.some((m) => m.kind === "Input")) report(messages.modelWithoutInput, decl.name.span, { name: decl.name.text });
  },
};
