/**
 * Reverse-mode autodiff on the IR.
 *
 * `grad(b, loss, wrt)` appends to the builder the nodes that compute the
 * gradient of `loss` with respect to each node of `wrt` (usually params), by
 * walking the forward graph backwards and applying the local rules of
 * `rules.ts`. Nothing is built for what does not need it: a node gets a
 * cotangent only when it lies on a path from a `wrt` node to the loss, so a
 * frozen parameter (one not in `wrt`) costs no gradient computation at all —
 * it is pruned, not multiplied by zero. Only f32 values carry gradients.
 */
import { IRError, type IRBuilder } from "../../runtime/ir/builder.js";
import { formatType } from "../../runtime/ir/infer.js";
import { topoSort, type Node } from "../../runtime/ir/node.js";
import { sameShape } from "../../runtime/ir/shape.js";
import { customVjpsAt, isCut } from "./custom-vjp.js";
import { RULES, type VjpContext } from "./rules.js";
import { interleavedPads, tiledPads } from "./tile-pads.js";

/** Options of `grad`. */
export interface GradOptions {
  /**
   * The cotangent of the loss (f32, the loss's shape). Default: 1, which
   * requires a scalar loss.
   */
  readonly cotangent?: Node;
}

/**
 * The gradients of `loss` with respect to each node of `wrt`, in order, as new
 * nodes of `b` (the builder that made the forward graph). A node of `wrt` the
 * loss does not depend on gets a zero constant.
 */
export function grad(b: IRBuilder, loss: Node, wrt: readonly Node[], options: GradOptions = {}): Node[] {
  for (const w of wrt) {
    if (w.dtype !== "f32") throw new IRError(`grad: cannot differentiate with respect to %${w.id}: ${formatType(w)} (only f32 carries gradients)`);
  }
  if (loss.dtype !== "f32") throw new IRError(`grad: the loss %${loss.id}: ${formatType(loss)} must be f32`);
  const seed = options.cotangent ?? scalarOne(b, loss);
  if (!sameShape(seed.shape, loss.shape) || seed.dtype !== "f32") {
    throw new IRError(`grad: the cotangent ${formatType(seed)} must be f32 of the loss's shape ${formatType(loss)}`);
  }

  const order = topoSort([loss]);
  const needs = nodesThatNeedGradients(order, new Set(wrt));
  const cotangents = new Map<Node, Node>();
  if (needs.has(loss)) cotangents.set(loss, seed);
  // Each node's contributions too: where they are zero pads tiling it (side by side, or interleaved), its cotangent is their pieces joined (`tile-pads.ts`).
  const contributions = new Map<Node, Node[]>();
  const cotangentOf = (n: Node): Node | undefined => {
    const parts = contributions.get(n);
    if (parts !== undefined && parts.length > 1) {
      const joined = tiledPads(b, parts) ?? interleavedPads(b, parts);
      if (joined !== undefined) cotangents.set(n, joined);
      contributions.delete(n);
    }
    return cotangents.get(n);
  };

  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k]!;
    const g = cotangentOf(node);
    if (g === undefined) continue;
    const contribute = (operand: Node, contribution: Node, what: string): void => {
      if (!sameShape(contribution.shape, operand.shape) || contribution.dtype !== "f32") {
        throw new Error(`internal: ${what} gave ${formatType(contribution)} for ${formatType(operand)}`);
      }
      const previous = cotangents.get(operand);
      cotangents.set(operand, previous === undefined ? contribution : b.add(previous, contribution));
      (contributions.get(operand) ?? contributions.set(operand, []).get(operand)!).push(contribution);
    };
    // A lowering's own gradient towards an input whose op-by-op path it cut (`custom-vjp.ts`).
    for (const c of customVjpsAt(node)) if (needs.has(c.input)) contribute(c.input, c.vjp(b, g), `the custom VJP at %${node.id}`);
    const rule = RULES[node.op];
    if (!("vjp" in rule)) continue;
    const ctx = { b, node, g } as VjpContext<typeof node.op>;
    node.inputs.forEach((operand, i) => {
      if (!needs.has(operand) || isCut(node, i)) return;
      const contribution = (rule.vjp as (c: typeof ctx, i: number) => Node | null)(ctx, i);
      if (contribution === null) return;
      contribute(operand, contribution, `the VJP of ${node.op}, operand ${i},`);
    });
  }
  return wrt.map((w) => cotangentOf(w) ?? b.constant(0, w.shape));
}

/**
 * The nodes (in `order`, a topological order ending at the loss) through which
 * a gradient must flow: the `wrt` nodes, every f32 node of a differentiable
 * op with an operand that needs one (through an edge not cut), and every
 * node with a custom VJP towards one (`custom-vjp.ts`).
 */
export function nodesThatNeedGradients(order: readonly Node[], wrt: ReadonlySet<Node>): Set<Node> {
  const needs = new Set<Node>();
  for (const node of order) {
    if (node.dtype !== "f32") continue;
    const rule = RULES[node.op];
    const fed = "vjp" in rule && node.inputs.some((x, i) => needs.has(x) && !isCut(node, i));
    if (wrt.has(node) || fed || customVjpsAt(node).some((c) => needs.has(c.input))) needs.add(node);
  }
  return needs;
}

function scalarOne(b: IRBuilder, loss: Node): Node {
  if (loss.shape.length !== 0) {
    throw new IRError(`grad: the loss %${loss.id}: ${formatType(loss)} is not a scalar; pass a cotangent`);
  }
  return b.constant(1);
}
