/**
 * Loss on masked positions: `loss l = objective on m.masked` names the
 * `masked` field of a mask, and every objective in the loss compares position
 * by position (mse, bce, cross_entropy, kl) on the mask's positions; a term
 * made of values alone (`mean(abs(h))`) has no positions to restrict.
 * Spec: spec/masks.md#loss-on
 */
import { messages } from "../../../language/diagnostics/messages.js";
import { ancestors, type GraphBuilder } from "../graph.js";
import { formatDims, sameShape } from "../types.js";
import { describeValue } from "../values.js";
import type { Rule } from "./rule.js";

export const lossOnMask: Rule = {
  name: "loss-on-mask",
  spec: "spec/masks.md#loss-on",
  model({ losses, graph, report }) {
    for (const { decl, value, on } of losses) {
      if (!on || !decl.on || on.kind === "error") continue;
      const select = on.kind === "tensor" ? graph.node(on.node) : null;
      const mask = select?.op === "select" ? graph.node(select.source) : null;
      if (!select || select.op !== "select" || select.field !== "masked" || mask?.op !== "mask") {
        report(messages.lossOnNeedsMask, decl.on.span, { actual: describeValue(on) });
        continue;
      }
      if (value.kind !== "tensor") continue;
      // Every objective in the loss compares position by position, on the mask's positions.
      const objectives = [...ancestors(graph, value.node)].sort((a, b) => a - b).flatMap((id) => {
        const node = graph.node(id);
        return node.op === "call" && node.category === "objective" ? [{ id, name: node.name }] : [];
      });
      // A term of values (`mean(abs(h))`) has no positions to restrict.
      for (const id of valueTerms(graph, value.node)) {
        const node = graph.node(id);
        report(messages.lossOnNotPositionwise, node.location.span, { name: decl.name.text, actual: node.op === "call" ? node.name : "a value" });
      }
      for (const { id, name } of objectives) {
        const call = graph.calls.get(id);
        const positions = call?.def.positions?.(call.args);
        if (!positions) {
          report(messages.lossOnNotPositionwise, graph.node(id).location.span, { name: decl.name.text, actual: name });
        } else if (!sameShape(positions, mask.fields.masked.shape)) {
          report(messages.maskPositions, decl.on.span, {
            name: decl.name.text,
            mask: mask.name,
            maskShape: formatDims(mask.fields.masked.shape),
            objective: name,
            actual: formatDims(positions),
          });
        }
      }
    }
  },
};

/** The terms of a loss's arithmetic that are not objective calls: the nodes below `+ − * /` and negation that are something else. */
function valueTerms(graph: GraphBuilder, id: number): number[] {
  const node = graph.node(id);
  switch (node.op) {
    case "binary":
      return [node.left, node.right].flatMap((side) => (typeof side === "number" ? valueTerms(graph, side) : []));
    case "negate":
      return valueTerms(graph, node.input);
    case "call":
      return node.category === "objective" ? [] : [id];
    default:
      return [id];
  }
}
