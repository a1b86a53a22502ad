/**
 * Losses: a loss's expression — objective calls and reductions of values
 * combined with `+ − * /` and numbers — lowered to one scalar, in the masked world (masks drawn, views
 * augmented). `on m.masked` restricts every position-wise objective of the
 * loss to the hidden positions.
 */
import type { Node } from "../../runtime/ir/node.js";
import { tableSize } from "../../runtime/sampling/negative-table.js";
import type { CallNode, CheckedLoss, NodeId } from "../check/program.js";
import { LowerError } from "./context.js";
import { builtinParams } from "./layers.js";
import type { ModelLowerer } from "./model-scope.js";
import { infoNce, POSITIONWISE, reducePositions } from "./objectives.js";
import { nodeArg, numArg } from "./rule.js";
import { drawNegatives, negativeInputs, skipgramCalls, skipgramLoss } from "./skipgram.js";

/** The two value arguments of each position-wise objective, in order. */
const ARGUMENTS: Readonly<Record<string, readonly [string, string]>> = {
  mse: ["pred", "target"],
  bce: ["prob", "target"],
  cross_entropy: ["logits", "labels"],
  kl: ["p_logits", "q_logits"],
};

/** Lowers one loss to a scalar node. */
export function lowerLoss(m: ModelLowerer, loss: CheckedLoss): Node {
  const on = loss.on === null ? null : m.worlds.masked.value(loss.on).x;
  // Named once, in one place: the plan's noise tables (compiler/plan/noise.ts) find them by these names.
  const skipgramNames = new Map(skipgramCalls(m.model.graph, loss).map((s) => [s.call.id, s.name]));
  const value = (id: NodeId): Node => {
    const n = m.model.graph.nodes[id]!;
    const b = m.s.b;
    switch (n.op) {
      case "call":
        if (n.category !== "objective") break;
        if (n.name === "skipgram") return skipgram(m, n, skipgramNames.get(n.id)!);
        return objective(m, n, on, loss.name);
      case "binary": {
        const side = (o: NodeId | { readonly constant: number }): Node | number => (typeof o === "number" ? value(o) : o.constant);
        const ops = { "+": "add", "-": "sub", "*": "mul", "/": "div" } as const;
        return b.binary(ops[n.operator], side(n.left), side(n.right));
      }
      case "negate":
        return b.neg(value(n.input));
      default:
        break;
    }
    // Any other value (`mean(abs(h))`, a reduction over the batch) is computed as values are, masks and views on.
    return m.worlds.masked.value(id).x;
  };
  return value(loss.node);
}

/** mse, bce, cross_entropy, kl and info_nce. */
function objective(m: ModelLowerer, n: CallNode, on: Node | null, loss: string): Node {
  const b = m.s.b;
  const arg = (name: string): Node => m.worlds.masked.value(nodeArg(n, name)!).x;
  if (n.name === "info_nce") return infoNce(b, arg("a"), arg("b"), numArg(n, "temperature", 0.1));
  const perPosition = POSITIONWISE[n.name];
  const names = ARGUMENTS[n.name];
  if (!perPosition || !names) throw new LowerError(`the objective '${n.name}' cannot be lowered yet`);
  const [pred, target] = [arg(names[0]), arg(names[1])];
  const value = reducePositions(b, perPosition(b, pred, target), on);
  m.s.objectives.push({ loss, name: n.name, pred, target, on, value });
  return value;
}

/** skipgram: the table part's weight, negatives drawn with the fed alias table. */
function skipgram(m: ModelLowerer, n: CallNode, name: string): Node {
  const b = m.s.b;
  const partName = (n.args["table"] as { part: string }).part;
  const { layer } = m.part(partName);
  if (layer.kind !== "builtin" || layer.name !== "embedding") {
    throw new LowerError(`skipgram's table '${partName}' must be exactly an embedding`);
  }
  const table = m.s.param(builtinParams(layer, partName, []).find((p) => p.name.endsWith(".weight"))!);
  const center = m.worlds.masked.value(nodeArg(n, "center")!).x;
  const context = m.worlds.masked.value(nodeArg(n, "context")!).x;
  const inputs = negativeInputs(name);
  const size = tableSize(table.shape[0]!);
  const tables = { prob: b.input(inputs.prob, [size], "f32"), alias: b.input(inputs.alias, [size], "i32") };
  const negatives = drawNegatives(m.s, context, numArg(n, "negatives", 5), tables, name);
  return skipgramLoss(b, center, context, table, negatives);
}
