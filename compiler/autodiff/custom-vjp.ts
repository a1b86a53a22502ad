/**
 * Gradients a lowering knows better than autodiff's op-by-op rules: a
 * lowering that builds `output` from `input` through ops of its own may say
 * how `input`'s contribution through `output` is computed (`defineVjp`),
 * naming an edge (an operand of one of its nodes) that every path from
 * `input` to `output` crosses and nothing else does. `grad` then follows no
 * gradient across that edge, so nothing of the op-by-op path towards `input`
 * is built, and adds the contribution `vjp(g)` when `output` gets its
 * cotangent g. Other operands of the same nodes (a convolution's weight)
 * keep their op-by-op gradients.
 *
 * A convolution uses it (`compiler/lower/layers-conv.ts`): its image
 * gradient is itself a convolution of the padded output gradient, read in
 * place by the matmul as windows, where the op-by-op path wrote a column
 * buffer and summed k² pads of it back into the image.
 *
 * *Invariant*: the contribution equals what the op-by-op rules would give
 * for every path from `input` to `output` across the cut edge, and a path
 * across it leads only to `output`. (The convolution cuts its matmul's
 * columns operand: hash-consing shares that matmul only with the same
 * convolution, whose output is then the same node.)
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";

/** A custom contribution to `input`'s cotangent through `output`. */
export interface CustomVjp {
  readonly input: Node;
  /** The contribution to `input`'s cotangent, given `output`'s cotangent g. */
  vjp(b: IRBuilder, g: Node): Node;
}

const byOutput = new WeakMap<Node, CustomVjp[]>();
const cutEdges = new WeakMap<Node, Set<number>>();

/**
 * Declares that the gradient of `output` with respect to `input` is `vjp`,
 * and that every path between them crosses operand `cut[1]` of node `cut[0]`.
 */
export function defineVjp(output: Node, input: Node, cut: readonly [Node, number], vjp: CustomVjp["vjp"]): void {
  const [node, operand] = cut;
  (cutEdges.get(node) ?? cutEdges.set(node, new Set()).get(node)!).add(operand);
  const list = byOutput.get(output) ?? byOutput.set(output, []).get(output)!;
  // The same convolution built twice (hash-consed to the same nodes) declares the same gradient once.
  if (!list.some((c) => c.input === input)) list.push({ input, vjp });
}

/** The custom contributions made at `node`'s cotangent. */
export function customVjpsAt(node: Node): readonly CustomVjp[] {
  return byOutput.get(node) ?? [];
}

/** Whether the edge into operand `i` of `node` is cut (its gradient comes from a custom VJP instead). */
export function isCut(node: Node, i: number): boolean {
  return cutEdges.get(node)?.has(i) ?? false;
}
