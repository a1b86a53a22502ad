/**
 * One bottleneck: a model has at most one part with the role `bottleneck`.
 * Spec: spec/models.md#parts
 */
import type { PartDecl } from "../../../language/ast.js";
import { messages } from "../../../language/diagnostics/messages.js";
import type { Rule } from "./rule.js";

export const oneBottleneck: Rule = {
  name: "one-bottleneck",
  spec: "spec/models.md#parts",
  model({ decl, source, report }) {
    const bottlenecks = decl.members.filter((m): m is PartDecl => m.kind === "Part" && m.role === "bottleneck");
    const [first, ...rest] = bottlenecks;
    for (const extra of rest) {
      report(messages.secondBottleneck, extra.roleSpan, { model: decl.name.text, first: first!.name.text, second: extra.name.text }, {
        related: [{ source, span: first!.name.span, message: "the first bottleneck" }],
      });
    }
  },
};
