/**
 * Loss is a scalar: a loss evaluates to one number for the batch, which
 * objectives, reductions over every axis and the batch (`mean(x)`), and
 * arithmetic on them produce.
 * Spec: spec/objectives.md#losses
 */
import { messages } from "../../../language/diagnostics/messages.js";
import { describeType } from "../types.js";
import { describeValue } from "../values.js";
import type { Rule } from "./rule.js";

export const lossIsScalar: Rule = {
  name: "loss-is-scalar",
  spec: "spec/objectives.md#losses",
  model(facts) {
    const { losses, report } = facts;
    for (const { decl, value } of losses) {
      if (value.kind === "error") continue;
      if (value.kind === "tensor" && value.type.shape.length === 0 && !value.type.batched) continue;
      const actual = value.kind === "tensor" ? describeType(value.type) : describeValue(value);
      // A value with one number per example is one step away: its mean over the batch.
      const help = value.kind === "tensor" && value.type.batched && value.type.dtype === "f32"
        ? [`reduce it to one number for the batch: 'mean(${decl.value.span.end - decl.value.span.start <= 60 ? facts.source.slice(decl.value.span) : "..."})'`]
        : [];
      report(messages.lossNotScalar, decl.value.span, { name: decl.name.text, actual }, { help });
    }
  },
};
