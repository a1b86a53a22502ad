/**
 * Every differentiable op, alone, against finite differences: each case builds
 * one op on leaves with values in its domain (away from kinks), weights the
 * result with fixed random numbers and compares the gradient with respect to
 * every f32 operand. The last test fails when an op with a VJP rule has no case.
 */
import { describe, expect, it } from "vitest";
import { RULES } from "../../compiler/autodiff/rules.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { ALL_OPS, type Op } from "../../runtime/ir/ops.js";
import { checkGradients, rng, weightedSum } from "./fd.js";

type Leaf = { name: string; shape: number[]; values?: (u: number) => number };

/** Builds `body` on leaves a, b, c, … and checks gradients with respect to all of them. */
function check(leaves: Leaf[], body: (b: IRBuilder, ...xs: Node[]) => Node, seed = 1): void {
  const next = rng(seed);
  const b = new IRBuilder();
  const xs = leaves.map((l) => b.input(l.name, l.shape));
  const out = body(b, ...xs);
  const loss = weightedSum(b, out, next);
  const feeds = Object.fromEntries(
    leaves.map((l) => {
      const n = l.shape.reduce((a, d) => a * d, 1);
      const f = l.values ?? ((u: number) => 4 * u - 2);
      return [l.name, { shape: l.shape, data: Array.from({ length: n }, () => f(next())) }];
    }),
  );
  const r = checkGradients(b, loss, xs, feeds);
  // Observed errors are below 1e-11 relative; 1e-8 leaves a wide margin and still catches small mistakes.
  expect(r.maxError, r.worst).toBeLessThanOrEqual(1e-8 * r.scale);
}

const tested = new Set<Op>();
const covers = (...ops: Op[]): void => ops.forEach((o) => tested.add(o));

/** Values in (0.5, 2.5): positive, away from zero. */
const positive = (u: number): number => 0.5 + 2 * u;
/** Values with |x| in (0.2, 2): away from kinks at zero. */
const awayFromZero = (u: number): number => (u < 0.5 ? -1 : 1) * (0.2 + 3.6 * Math.abs(u - 0.5));
/** Distinct values far apart (a shuffled ladder), so no two tie. */
const ladder = (() => {
  let k = 0;
  return (u: number): number => ((k++ * 7919) % 97) / 10 - 4.8 + u * 0.01;
})();

describe("unary ops", () => {
  const shape = [2, 3];
  const cases: [Op & string, Leaf["values"]][] = [
    ["neg", undefined],
    ["exp", undefined],
    ["log", positive],
    ["sqrt", positive],
    ["recip", awayFromZero],
    ["tanh", undefined],
    ["sigmoid", undefined],
    ["erf", undefined],
    ["abs", awayFromZero],
    ["relu", awayFromZero],
    ["sin", undefined],
    ["cos", undefined],
  ];
  for (const [op, values] of cases) {
    it(op, () => {
      covers(op);
      check([{ name: "a", shape, values }], (b, a) => b.unary(op as "neg", a!));
    });
  }
});

describe("binary ops, with broadcasting", () => {
  it("add, sub, mul", () => {
    covers("add", "sub", "mul");
    check([{ name: "a", shape: [2, 3] }, { name: "b", shape: [3] }], (b, x, y) => b.add(x!, y!));
    check([{ name: "a", shape: [2, 1] }, { name: "b", shape: [1, 3] }], (b, x, y) => b.sub(x!, y!));
    check([{ name: "a", shape: [2, 3] }, { name: "b", shape: [2, 3] }], (b, x, y) => b.mul(x!, y!));
    check([{ name: "a", shape: [3] }], (b, x) => b.mul(x!, x!));
  });

  it("div", () => {
    covers("div");
    check([{ name: "a", shape: [2, 3] }, { name: "b", shape: [2, 1], values: awayFromZero }], (b, x, y) => b.div(x!, y!));
  });

  it("maximum and minimum (including an operand tied with itself)", () => {
    covers("maximum", "minimum");
    check([{ name: "a", shape: [2, 3] }, { name: "b", shape: [3] }], (b, x, y) => b.maximum(x!, y!), 2);
    check([{ name: "a", shape: [2, 3] }, { name: "b", shape: [2, 3] }], (b, x, y) => b.minimum(x!, y!), 3);
    check([{ name: "a", shape: [4] }], (b, x) => b.add(b.maximum(x!, x!), b.minimum(x!, x!)));
  });

  it("pow, in both operands", () => {
    covers("pow");
    check([{ name: "a", shape: [2, 3], values: positive }, { name: "b", shape: [2, 3] }], (b, x, y) => b.pow(x!, y!));
    check([{ name: "a", shape: [4], values: positive }], (b, x) => b.pow(x!, 3));
  });

  it("where, in both branches", () => {
    covers("where");
    check([{ name: "a", shape: [2, 3] }, { name: "b", shape: [2, 3] }], (b, x, y) =>
      b.where(b.literal([1, 0, 1, 0, 0, 1], [2, 3], "i32"), x!, y!),
    );
  });
});

describe("reductions and matmul", () => {
  it("sum over some axes and all", () => {
    covers("sum");
    check([{ name: "a", shape: [2, 3, 2] }], (b, x) => b.sum(x!, [0, 2]));
    check([{ name: "a", shape: [2, 3] }], (b, x) => b.sum(x!, 1, true));
  });

  it("max over axes (no ties), and with ties split equally", () => {
    covers("max");
    check([{ name: "a", shape: [3, 4], values: ladder }], (b, x) => b.max(x!, 1));
    check([{ name: "a", shape: [2, 2, 3], values: ladder }], (b, x) => b.max(x!, [0, 2]));
    // Ties made by broadcasting: every copy of an element ties, and the gradient still sums to the element's.
    check([{ name: "a", shape: [3], values: ladder }], (b, x) => b.max(b.broadcastTo(x!, [2, 3]), 0));
  });

  it("matmul, plain and with broadcast batch dimensions", () => {
    covers("matmul");
    check([{ name: "a", shape: [2, 3] }, { name: "b", shape: [3, 4] }], (b, x, y) => b.matmul(x!, y!));
    check([{ name: "a", shape: [2, 2, 3] }, { name: "b", shape: [3, 2] }], (b, x, y) => b.matmul(x!, y!));
    check([{ name: "a", shape: [1, 2, 3] }, { name: "b", shape: [2, 1, 3, 2] }], (b, x, y) => b.matmul(x!, y!));
  });
});

describe("movement", () => {
  it("reshape and permute", () => {
    covers("reshape", "permute");
    check([{ name: "a", shape: [2, 3] }], (b, x) => b.reshape(x!, [3, 2]));
    check([{ name: "a", shape: [2, 3, 4] }], (b, x) => b.permute(x!, [2, 0, 1]));
  });

  it("expand", () => {
    covers("expand");
    check([{ name: "a", shape: [1, 3, 1] }], (b, x) => b.node("expand", [x!], { shape: [2, 3, 4] }));
  });

  it("slice, with steps", () => {
    covers("slice");
    check([{ name: "a", shape: [5, 4] }], (b, x) => b.slice(x!, [1, 0], [5, 3], [2, 2]));
    check([{ name: "a", shape: [7] }], (b, x) => b.slice(x!, [2], [7], [3]));
  });

  it("pad, with interior padding", () => {
    covers("pad");
    check([{ name: "a", shape: [2, 3] }], (b, x) => b.pad(x!, [1, 0], [0, 2], { interior: [2, 1], value: 0.5 }));
  });

  it("concat of several operands", () => {
    covers("concat");
    check([{ name: "a", shape: [2, 1] }, { name: "b", shape: [2, 3] }], (b, x, y) => b.concat([x!, y!, x!], 1));
  });
});

describe("indexing and conversion", () => {
  it("gather, with repeated indices", () => {
    covers("gather");
    check([{ name: "a", shape: [3, 2] }], (b, x) => b.gather(x!, b.literal([2, 0, 2, 2, 1, 1, 0, 0], [4, 2], "i32"), 0));
  });

  it("scatter_add, in the target and the updates", () => {
    covers("scatter_add");
    check([{ name: "a", shape: [2, 3] }, { name: "b", shape: [2, 4] }], (b, t, u) =>
      b.scatterAdd(t!, b.literal([0, 2, 0, 1, 1, 1, 2, 0], [2, 4], "i32"), u!, 1),
    );
  });

  it("cast f32 → f32 passes the gradient", () => {
    covers("cast");
    check([{ name: "a", shape: [3] }], (b, x) => b.node("cast", [x!], { dtype: "f32" }));
  });
});

it("has a finite-difference case for every op with a VJP rule", () => {
  const withRule = ALL_OPS.filter((op) => "vjp" in RULES[op]);
  expect(withRule.filter((op) => !tested.has(op))).toEqual([]);
});
