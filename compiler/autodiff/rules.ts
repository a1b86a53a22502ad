/**
 * Autodiff is this table: for every IR op, either a vector-Jacobian product
 * (VJP) rule, an explicit "not differentiable" mark saying why, or a "leaf"
 * mark (ops without operands, where gradients end). A test fails when an op of
 * `runtime/ir/ops.ts` is missing here, and the type of `RULES` makes the
 * compiler fail first.
 *
 * A rule is local: given the forward node, the cotangent `g` of its output and
 * an operand index i, it builds the cotangent contribution for operand i (same
 * shape, f32) from primitives, or returns null when operand i carries no
 * gradient (indices, conditions). `grad` calls it only for operands that lead
 * to something being differentiated, so pruned work is never built.
 *
 * Conventions at non-differentiable points (those of PyTorch): relu'(0) = 0,
 * abs'(0) = 0; `maximum`/`minimum` split g equally between tied operands; the
 * reduce `max` splits g equally among tied maxima; the derivative of a^b with
 * respect to b is 0 where a ≤ 0.
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node, NodeOf } from "../../runtime/ir/node.js";
import type { Op, Shape } from "../../runtime/ir/ops.js";

/** What a VJP rule sees. */
export interface VjpContext<O extends Op> {
  /** Builds the gradient nodes (in the forward graph's builder). */
  readonly b: IRBuilder;
  /** The forward node; its own value is available as the node itself. */
  readonly node: NodeOf<O>;
  /** The cotangent of the node's output: f32, of the node's shape. */
  readonly g: Node;
}

/** The cotangent contribution for operand `i`, or null when that operand carries no gradient. */
export type Vjp<O extends Op> = (ctx: VjpContext<O>, i: number) => Node | null;

/** The rule of one op. */
export type Rule<O extends Op> =
  | { readonly vjp: Vjp<O> }
  | { readonly notDifferentiable: string }
  | { readonly leaf: true };

const LEAF = { leaf: true } as const;

/** 2/√π, the scale of erf's derivative. */
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** The table: one entry per op. */
export const RULES: { readonly [O in Op]: Rule<O> } = {
  input: LEAF,
  param: LEAF,
  const: LEAF,
  literal: LEAF,
  iota: LEAF,

  uniform: { notDifferentiable: "random draws depend only on integer seeds and steps" },
  normal: { notDifferentiable: "random draws depend only on integer seeds and steps" },

  neg: { vjp: ({ b, g }) => b.neg(g) },
  exp: { vjp: ({ b, node, g }) => b.mul(g, node) },
  log: { vjp: ({ b, node, g }) => b.div(g, x0(node)) },
  // d sqrt(x) = 1 / (2 sqrt(x)).
  sqrt: { vjp: ({ b, node, g }) => b.div(g, b.mul(node, 2)) },
  // d (1/x) = −1/x² = −y².
  recip: { vjp: ({ b, node, g }) => b.neg(b.mul(g, b.mul(node, node))) },
  tanh: { vjp: ({ b, node, g }) => b.mul(g, b.sub(1, b.mul(node, node))) },
  sigmoid: { vjp: ({ b, node, g }) => b.mul(g, b.mul(node, b.sub(1, node))) },
  erf: { vjp: ({ b, node, g }) => b.mul(g, b.mul(b.exp(b.neg(b.mul(x0(node), x0(node)))), TWO_OVER_SQRT_PI)) },
  abs: { vjp: ({ b, node, g }) => b.mul(g, b.sign(x0(node))) },
  sign: { notDifferentiable: "piecewise constant: its derivative is zero wherever it exists" },
  relu: { vjp: ({ b, node, g }) => b.where(b.cmplt(0, x0(node)), g, 0) },
  sin: { vjp: ({ b, node, g }) => b.mul(g, b.cos(x0(node))) },
  cos: { vjp: ({ b, node, g }) => b.neg(b.mul(g, b.sin(x0(node)))) },
  detach: { notDifferentiable: "stop-gradient: the identity through which, by definition, no gradient flows" },

  add: { vjp: ({ g }) => g },
  sub: { vjp: ({ b, g }, i) => (i === 0 ? g : b.neg(g)) },
  mul: { vjp: ({ b, node, g }, i) => b.mul(g, node.inputs[1 - i]!) },
  // d(a/b)/da = 1/b; d(a/b)/db = −a/b² = −y/b.
  div: { vjp: ({ b, node, g }, i) => (i === 0 ? b.div(g, x1(node)) : b.neg(b.div(b.mul(g, node), x1(node)))) },
  maximum: { vjp: ({ b, node, g }, i) => b.mul(g, winner(b, node.inputs[i]!, node.inputs[1 - i]!, "maximum")) },
  minimum: { vjp: ({ b, node, g }, i) => b.mul(g, winner(b, node.inputs[i]!, node.inputs[1 - i]!, "minimum")) },
  pow: {
    vjp: ({ b, node, g }, i) => {
      const [a, e] = [x0(node), x1(node)];
      if (i === 0) return b.mul(g, b.mul(e, b.pow(a, b.sub(e, 1))));
      return b.where(b.cmplt(0, a), b.mul(g, b.mul(node, b.log(a))), 0);
    },
  },
  cmplt: { notDifferentiable: "a comparison: its i32 result carries no gradient" },
  cmpeq: { notDifferentiable: "a comparison: its i32 result carries no gradient" },

  where: {
    vjp: ({ b, node, g }, i) => {
      const cond = node.inputs[0]!;
      return i === 0 ? null : i === 1 ? b.where(cond, g, 0) : b.where(cond, 0, g);
    },
  },

  // g has the reduced axes kept with size 1, so it broadcasts back.
  sum: { vjp: ({ b, node, g }) => b.broadcastTo(g, x0(node).shape) },
  max: {
    vjp: ({ b, node, g }) => {
      const x = x0(node);
      const hit = b.cast(b.cmpeq(x, b.broadcastTo(node, x.shape)), "f32");
      const share = b.div(g, b.sum(hit, node.attrs.axes, true));
      return b.mul(b.broadcastTo(share, x.shape), hit);
    },
  },

  // C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC, each summed over the batch axes its operand was broadcast along.
  matmul: {
    vjp: ({ b, node, g }, i) => {
      const [a, m] = [x0(node), x1(node)];
      return i === 0 ? unbroadcast(b, b.matmul(g, b.transpose(m)), a.shape) : unbroadcast(b, b.matmul(b.transpose(a), g), m.shape);
    },
  },

  reshape: { vjp: ({ b, node, g }) => b.reshape(g, x0(node).shape) },
  permute: {
    vjp: ({ b, node, g }) => {
      const inverse = new Array<number>(node.attrs.perm.length);
      node.attrs.perm.forEach((p, j) => (inverse[p] = j));
      return b.permute(g, inverse);
    },
  },
  expand: {
    vjp: ({ b, node, g }) => {
      const x = x0(node);
      return b.sum(g, x.shape.flatMap((d, j) => (d === 1 && node.shape[j] !== 1 ? [j] : [])), true);
    },
  },
  // The elements a slice took go back to their places; the rest get zero.
  slice: {
    vjp: ({ b, node, g }) => {
      const { starts, steps } = node.attrs;
      const x = x0(node);
      const spans = node.shape.map((n, j) => n + Math.max(n - 1, 0) * (steps[j]! - 1));
      return b.pad(
        g,
        starts,
        x.shape.map((d, j) => d - starts[j]! - spans[j]!),
        { interior: steps.map((s) => s - 1) },
      );
    },
  },
  // The padding gets no gradient; the original elements are every (interior+1)-th from lo.
  pad: {
    vjp: ({ b, node, g }) => {
      const { lo, interior } = node.attrs;
      const x = x0(node);
      const ends = x.shape.map((d, j) => (d === 0 ? lo[j]! : lo[j]! + (d - 1) * (interior[j]! + 1) + 1));
      return b.slice(g, lo, ends, interior.map((s) => s + 1));
    },
  },
  concat: {
    vjp: ({ b, node, g }, i) => {
      const axis = node.attrs.axis;
      const start = node.inputs.slice(0, i).reduce((s, x) => s + x.shape[axis]!, 0);
      return b.sliceAxis(g, axis, start, start + node.inputs[i]!.shape[axis]!);
    },
  },

  gather: {
    vjp: ({ b, node, g }, i) => {
      if (i === 1) return null;
      const x = x0(node);
      return b.scatterAdd(b.constant(0, x.shape), x1(node), g, node.attrs.axis);
    },
  },
  scatter_add: {
    vjp: ({ b, node, g }, i) => (i === 0 ? g : i === 1 ? null : b.gather(g, node.inputs[1]!, node.attrs.axis)),
  },

  argsort: { notDifferentiable: "its i32 indices carry no gradient" },
  // Only f32 → f32 (a no-op the builder never makes) passes a gradient; integers carry none.
  cast: { vjp: ({ node, g }) => (x0(node).dtype === "f32" && node.dtype === "f32" ? g : null) },
};

/** The first operand. */
function x0(node: Node): Node {
  return node.inputs[0]!;
}

/** The second operand. */
function x1(node: Node): Node {
  return node.inputs[1]!;
}

/** 1 where `mine` strictly wins `maximum`/`minimum` against `other`, ½ where they tie, else 0. */
function winner(b: IRBuilder, mine: Node, other: Node, op: "maximum" | "minimum"): Node {
  const wins = op === "maximum" ? b.cmplt(other, mine) : b.cmplt(mine, other);
  return b.add(b.cast(wins, "f32"), b.mul(b.cast(b.cmpeq(mine, other), "f32"), 0.5));
}

/**
 * Sums `t` down to `shape`, undoing NumPy broadcasting: leading axes that
 * `shape` lacks are summed away, and axes where `shape` has 1 are summed
 * with the size-1 axis kept.
 */
export function unbroadcast(b: IRBuilder, t: Node, shape: Shape): Node {
  const lead = t.shape.length - shape.length;
  const axes = t.shape.flatMap((d, j) => (j < lead || (shape[j - lead] === 1 && d !== 1) ? [j] : []));
  return b.reshape(b.sum(t, axes, true), shape);
}
