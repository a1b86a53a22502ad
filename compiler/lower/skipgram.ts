/**
 * Skip-gram with negative sampling (spec/objectives.md, `skipgram`):
 *
 *     mean over the batch of  −log σ(u_context · v) − Σₖ log σ(−u_wₖ · v)
 *
 * Negatives wₖ are drawn from P(w) ∝ count(w)^¾, which depends on the step's
 * data, so the distribution is fed at run time as an alias table (Walker,
 * Vose): two inputs, `prob` f32 [V'] and `alias` i32 [V'], with V' the
 * smallest power of two ≥ V (padding columns have probability 0). A draw
 * takes two uniforms from the stream `negatives/<loss>`: column
 * c = floor(u₁·V') (exact in float32, V' being a power of two) and the id
 * c if u₂ < prob[c], else alias[c]. The host builds the table from the
 * data's token counts with `negativeTable` (runtime/sampling/negative-table.ts).
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import type { CallNode, CheckedLoss, Graph } from "../check/program.js";
import type { Session } from "./context.js";
import { logSigmoid, lookupRows } from "./ops.js";

/** The names of the inputs that carry a skip-gram loss's noise distribution. */
export function negativeInputs(loss: string): { readonly prob: string; readonly alias: string } {
  return { prob: `negatives.${loss}.prob`, alias: `negatives.${loss}.alias` };
}

/**
 * The `skipgram` calls of a loss, each with the name its negatives' inputs
 * and random stream carry: the loss's name for the first, `l#2`, `l#3`, ...
 * for later ones, in the order the loss's expression reads (left to right).
 */
export function skipgramCalls(graph: Graph, loss: CheckedLoss): { readonly name: string; readonly call: CallNode }[] {
  const found: CallNode[] = [];
  const visit = (id: number): void => {
    const n = graph.nodes[id]!;
    if (n.op === "call" && n.category === "objective" && n.name === "skipgram") found.push(n);
    else if (n.op === "binary") {
      for (const side of [n.left, n.right]) if (typeof side === "number") visit(side);
    } else if (n.op === "negate") visit(n.input);
  };
  visit(loss.node);
  return found.map((call, k) => ({ name: k === 0 ? loss.name : `${loss.name}#${k + 1}`, call }));
}

/** Elements of a vector `table` [V] at integer `ids` of any shape. */
function take(b: IRBuilder, table: Node, ids: Node): Node {
  return b.reshape(b.gather(table, b.reshape(ids, [-1]), 0), ids.shape);
}

/**
 * Draws `negatives` ids per position of `context` (i32 [B, ...]) from the
 * alias table: i32 [B, ..., negatives].
 */
export function drawNegatives(s: Session, context: Node, negatives: number, tables: { prob: Node; alias: Node }, stream: string): Node {
  const b = s.b;
  const size = tables.prob.shape[0]!;
  const u = b.uniform([...context.shape, negatives, 2], s.key("negatives", stream));
  const last = u.shape.length - 1;
  const u1 = b.squeeze(b.sliceAxis(u, last, 0, 1), last);
  const u2 = b.squeeze(b.sliceAxis(u, last, 1, 2), last);
  const column = b.cast(b.mul(u1, size), "i32");
  return b.where(b.cmplt(u2, take(b, tables.prob, column)), column, take(b, tables.alias, column));
}

/** The skip-gram loss of center vectors v [B, ..., D] with context ids [B, ...] and context table [V, D]. */
export function skipgramLoss(b: IRBuilder, center: Node, context: Node, table: Node, negativeIds: Node): Node {
  const positive = b.sum(b.mul(lookupRows(b, table, context), center), -1);
  const negative = b.sum(b.mul(lookupRows(b, table, negativeIds), b.unsqueeze(center, -2)), -1);
  const loss = b.sub(b.neg(logSigmoid(b, positive)), b.sum(logSigmoid(b, b.neg(negative)), -1));
  return b.mean(loss);
}
