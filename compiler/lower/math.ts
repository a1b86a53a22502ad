/**
 * Maths on values (spec/layers.md, "Maths on values"): the elementwise layers
 * `abs`, `log`, `exp`, `sqrt`, `clamp`, and the reductions `mean`, `sum`,
 * `var` over named axes, the batch included.
 *
 * A reduction finds the batch axis by rank: a lowered value has one axis more
 * than its checker type when it carries the batch (or, inside a layer applied
 * to a statistic of the batch, a leading axis of 1; see model-scope.ts), so
 * the same rule serves both. The mean's divisor is the count of reduced
 * elements as an integer constant, a polynomial in B when the batch is
 * reduced (ARCHITECTURE.md), never 1/B computed here.
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import type { ArgValue } from "../check/program.js";
import type { TensorType } from "../check/types.js";
import { type LayerRule } from "./rule.js";

const unary = (f: (b: IRBuilder, x: Node) => Node): LayerRule => ({ lower: (ctx, _node, x) => f(ctx.s.b, x.x) });

/** max(min(x, hi), lo) with either bound optional. */
export function clamp(b: IRBuilder, x: Node, lo: number | null, hi: number | null): Node {
  const below = hi === null ? x : b.minimum(x, hi);
  return lo === null ? below : b.maximum(below, lo);
}

/** Lowerings of the elementwise maths layers, by layer name. */
export const mathRules: Readonly<Record<string, LayerRule>> = {
  abs: unary((b, x) => b.abs(x)),
  log: unary((b, x) => b.log(x)),
  exp: unary((b, x) => b.exp(x)),
  sqrt: unary((b, x) => b.sqrt(x)),
  clamp: {
    lower: (ctx, node, x) => {
      const bound = (name: string): number | null => (typeof node.args[name] === "number" ? (node.args[name] as number) : null);
      return clamp(ctx.s.b, x.x, bound("min"), bound("max"));
    },
  },
};

/**
 * The IR axes a reduction's `axis` argument names on a lowered value `x`
 * whose checker type is `type`: every axis when it is absent.
 */
export function reductionAxes(x: Node, type: TensorType, axis: ArgValue | undefined): number[] {
  const lead = x.shape.length - type.shape.length;
  // A statistic of the batch carried with a leading axis of 1 keeps it: it is not the batch.
  if (axis === undefined) return x.shape.map((_, i) => i).filter((i) => type.batched || i >= lead);
  const items = Array.isArray(axis) ? (axis as readonly ArgValue[]) : [axis];
  return items.map((a) => {
    if (a === "batch") return 0;
    const n = a as number;
    return (n < 0 ? n + type.shape.length : n) + lead;
  });
}

/** `mean`, `sum` or `var` of `x` over `axes` (IR axes), the axes dropped. */
export function reduce(b: IRBuilder, name: string, x: Node, axes: readonly number[]): Node {
  switch (name) {
    case "sum":
      return b.sum(x, axes);
    case "mean":
      return b.mean(x, axes);
    case "var": {
      const d = b.sub(x, b.mean(x, axes, true));
      return b.mean(b.mul(d, d), axes);
    }
  }
  throw new Error(`internal: '${name}' is not a reduction`);
}
