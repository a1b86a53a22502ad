/**
 * Replace targets a head: `replace W with ...` swaps a part whose role is `head`.
 * Spec: spec/pipelines.md#replace
 */
import { messages } from "../../../language/diagnostics/messages.js";
import type { Rule } from "./rule.js";

export const replaceTargetsHead: Rule = {
  name: "replace-targets-head",
  spec: "spec/pipelines.md#replace",
  step({ step, roles, report }) {
    if (step.kind !== "Replace") return;
    const role = roles.get(step.part.text);
    if (!role || role === "head") return;
    const article = /^[aeiou]/.test(role) ? "an" : "a";
    report(messages.replaceNotHead, step.part.span, { name: step.part.text, role: `${article} ${role}` });
  },
};
