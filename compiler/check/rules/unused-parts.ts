/**
 * Unused parts: a part no loss, output or prediction path applies has unknown
 * shapes and trains nothing; it is reported as a warning.
 * Spec: spec/models.md#parts
 */
import { messages } from "../../../language/diagnostics/messages.js";
import type { Rule } from "./rule.js";

export const unusedParts: Rule = {
  name: "unused-parts",
  spec: "spec/models.md#parts",
  model({ parts, hadErrors, report }) {
    if (hadErrors()) return;
    for (const part of parts.values()) {
      if (part.first || part.used || part.define() === null) continue;
      report(messages.unusedPart, part.decl.name.span, { role: part.decl.role, name: part.decl.name.text });
    }
  },
};
