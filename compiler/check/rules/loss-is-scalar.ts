/**
 * Loss is a scalar: a loss evaluates to one number for the batch, which
 * objectives (and arithmetic on them) produce.
 * Spec: spec/objectives.md#losses
 */
import { messages } from "../../../language/diagnostics/messages.js";
import { describeType } from "../types.js";
import { describeValue } from "../values.js";
import type { Rule } from "./rule.js";

export const lossIsScalar: Rule = {
  name: "loss-is-scalar",
  spec: "spec/objectives.md#losses",
  model({ losses, report }) {
    for (const { decl, value } of losses) {
      if (value.kind === "error") continue;
      if (value.kind === "tensor" && value.type.shape.length === 0 && !value.type.batched) continue;
      const actual = value.kind === "tensor" ? describeType(value.type) : describeValue(value);
      report(messages.lossNotScalar, decl.value.span, { name: decl.name.text, actual });
    }
  },
};
