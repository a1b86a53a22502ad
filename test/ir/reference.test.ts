/**
 * The forward semantics of every op on small hand-checked cases, on the
 * reference backend (which is the definition). The last test fails when an op
 * of `ops.ts` has no case here.
 */
import { describe, expect, it } from "vitest";
import { RunError } from "../../runtime/backends/reference/evaluate.js";
import { ALL_OPS, type Op } from "../../runtime/ir/ops.js";
import { normalAt, uniformAt } from "../../runtime/rng/index.js";
import { evalWith, expectClose, feed } from "./harness.js";

const tested = new Set<Op>();
/** Records that a test covers `ops`. */
const covers = (...ops: Op[]): void => ops.forEach((o) => tested.add(o));

describe("leaves", () => {
  it("input and param read their feeds", () => {
    covers("input", "param");
    expect(evalWith((b) => b.input("x", [2]), { x: feed([2], [1, 2]) }).data).toEqual([1, 2]);
    expect(evalWith((b) => b.param("w", [1, 2], "i32"), { w: { shape: [1, 2], data: Int32Array.of(3, -4) } }).data).toEqual([3, -4]);
  });

  it("a missing, misshapen or non-integer feed is a RunError", () => {
    expect(() => evalWith((b) => b.input("x", [2]))).toThrow(/input "x" \(f32\[2\]\) was not fed/);
    expect(() => evalWith((b) => b.input("x", [2]), { x: feed([3], [1, 2, 3]) })).toThrow(/expects shape \[2\], was fed \[3\]/);
    expect(() => evalWith((b) => b.input("x", [2]), { x: feed([2], [1]) })).toThrow(RunError);
    expect(() => evalWith((b) => b.input("i", [1], "i32"), { i: feed([1], [0.5]) })).toThrow(/is i32 but element 0 is 0.5/);
  });

  it("const fills, literal copies, iota counts along its axis", () => {
    covers("const", "literal", "iota");
    expect(evalWith((b) => b.constant(2.5, [2, 2])).data).toEqual([2.5, 2.5, 2.5, 2.5]);
    expect(evalWith((b) => b.literal([1, 2, 3, 4, 5, 6], [2, 3])).data).toEqual([1, 2, 3, 4, 5, 6]);
    expect(evalWith((b) => b.iota([2, 3], 1)).data).toEqual([0, 1, 2, 0, 1, 2]);
    expect(evalWith((b) => b.iota([2, 3], 0)).data).toEqual([0, 0, 0, 1, 1, 1]);
    expect(evalWith((b) => b.iota([2, 2, 2], 1, "f32")).data).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
  });
});

describe("random", () => {
  const feeds = (seed: number, step: number) => ({ seed: feed([], [seed]), step: feed([], [step]) });
  const draw = (op: "uniform" | "normal", stream: number) => (b: import("../../runtime/ir/builder.js").IRBuilder) =>
    b[op]([2, 3], { seed: b.input("seed", [], "i32"), step: b.input("step", [], "i32"), stream });

  it("uniform: element i is the shared generator's draw at index i", () => {
    covers("uniform");
    const u = evalWith(draw("uniform", 7), feeds(42, 3));
    expect(u.data).toEqual([0, 1, 2, 3, 4, 5].map((i) => uniformAt(42, 7, i, 3)));
    expect(u.data.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(evalWith(draw("uniform", 7), feeds(42, 4)).data).not.toEqual(u.data);
    expect(evalWith(draw("uniform", 8), feeds(42, 3)).data).not.toEqual(u.data);
  });

  it("normal: element i is the shared generator's normal at index i; seeds are read as u32", () => {
    covers("normal");
    expect(evalWith(draw("normal", 1), feeds(-1, 0)).data).toEqual([0, 1, 2, 3, 4, 5].map((i) => normalAt(0xffffffff, 1, i, 0)));
  });
});

describe("unary", () => {
  const un = (op: Op & string, xs: number[], dtype: "f32" | "i32" = "f32") =>
    evalWith((b) => b.node(op as "neg", [b.literal(xs, [xs.length], dtype)], {})).data;

  it("the float functions", () => {
    covers("neg", "exp", "log", "sqrt", "recip", "tanh", "sigmoid", "erf", "sin", "cos", "detach");
    expect(un("neg", [1, -2])).toEqual([-1, 2]);
    expectClose(un("exp", [0, 1]), [1, Math.E]);
    expectClose(un("log", [1, Math.E]), [0, 1]);
    expect(un("sqrt", [4, 9])).toEqual([2, 3]);
    expect(un("recip", [2, -4])).toEqual([0.5, -0.25]);
    expectClose(un("tanh", [0, 1]), [0, 0.7615941559557649]);
    expectClose(un("sigmoid", [0, 2, -800]), [0.5, 0.8807970779778823, 0]);
    expectClose(un("erf", [0, 0.5, -1, 3]), [0, 0.5204998778130465, -0.8427007929497149, 0.9999779095030014], 1e-15);
    expectClose(un("sin", [0, Math.PI / 2]), [0, 1]);
    expectClose(un("cos", [0, Math.PI]), [1, -1]);
    expect(un("detach", [3, -1])).toEqual([3, -1]);
  });

  it("abs, sign and relu, also on i32 (neg and abs wrap)", () => {
    covers("abs", "sign", "relu");
    expect(un("abs", [-3, 0, 2])).toEqual([3, 0, 2]);
    expect(un("sign", [-3, 0, 2])).toEqual([-1, 0, 1]);
    expect(un("relu", [-1, 0, 2])).toEqual([0, 0, 2]);
    expect(un("relu", [-1, 5], "i32")).toEqual([0, 5]);
    expect(un("neg", [-(2 ** 31)], "i32")).toEqual([-(2 ** 31)]);
    expect(un("abs", [-(2 ** 31), -4], "i32")).toEqual([-(2 ** 31), 4]);
  });
});

describe("binary", () => {
  const bin = (op: Op & string, xs: number[], ys: number[], dtype: "f32" | "i32" = "f32") =>
    evalWith((b) => b.node(op as "add", [b.literal(xs, [xs.length], dtype), b.literal(ys, [ys.length], dtype)], {}));

  it("arithmetic on floats", () => {
    covers("add", "sub", "mul", "div", "pow");
    expect(bin("add", [1, 2], [10, 20]).data).toEqual([11, 22]);
    expect(bin("sub", [1, 2], [10, 20]).data).toEqual([-9, -18]);
    expect(bin("mul", [1.5, 2], [10, -3]).data).toEqual([15, -6]);
    expect(bin("div", [1, -3], [4, 2]).data).toEqual([0.25, -1.5]);
    expect(bin("pow", [2, 9, 4], [3, 0.5, -1]).data).toEqual([8, 3, 0.25]);
  });

  it("i32 arithmetic wraps, division truncates, x / 0 = x", () => {
    expect(bin("add", [2 ** 31 - 1], [1], "i32").data).toEqual([-(2 ** 31)]);
    expect(bin("mul", [65536], [65536], "i32").data).toEqual([0]);
    expect(bin("div", [7, -7, 5], [2, 2, 0], "i32").data).toEqual([3, -3, 5]);
  });

  it("maximum, minimum and comparisons (which give i32)", () => {
    covers("maximum", "minimum", "cmplt", "cmpeq");
    expect(bin("maximum", [1, 5], [3, 2]).data).toEqual([3, 5]);
    expect(bin("minimum", [1, 5], [3, 2]).data).toEqual([1, 2]);
    const lt = bin("cmplt", [1, 2, 3], [2, 2, 2]);
    expect([lt.dtype, ...lt.data]).toEqual(["i32", 1, 0, 0]);
    expect(bin("cmpeq", [1, 2, 3], [2, 2, 2], "i32").data).toEqual([0, 1, 0]);
  });

  it("where picks the first branch where the condition is nonzero", () => {
    covers("where");
    const r = evalWith((b) => b.where(b.literal([1, 0, -2], [3], "i32"), b.literal([1, 2, 3], [3]), b.literal([7, 8, 9], [3])));
    expect(r.data).toEqual([1, 8, 3]);
  });
});

describe("reductions and matmul", () => {
  const x = (b: import("../../runtime/ir/builder.js").IRBuilder) => b.literal([1, 5, 3, 4, 2, 6], [2, 3]);

  it("sum and max keep the reduced axes with size 1", () => {
    covers("sum", "max");
    const rows = evalWith((b) => b.node("sum", [x(b)], { axes: [1] }));
    expect([rows.shape, rows.data]).toEqual([[2, 1], [9, 12]]);
    const cols = evalWith((b) => b.node("max", [x(b)], { axes: [0] }));
    expect([cols.shape, cols.data]).toEqual([[1, 3], [4, 5, 6]]);
    expect(evalWith((b) => b.node("sum", [x(b)], { axes: [0, 1] })).data).toEqual([21]);
    expect(evalWith((b) => b.node("max", [b.literal([-3, -1, -2], [3, 1, 1])], { axes: [0, 2] })).data).toEqual([-1]);
  });

  it("empty reductions: sum 0, max −∞ (f32) or −2^31 (i32); i32 sums wrap", () => {
    expect(evalWith((b) => b.node("sum", [b.constant(1, [2, 0])], { axes: [1] })).data).toEqual([0, 0]);
    expect(evalWith((b) => b.node("max", [b.constant(1, [0])], { axes: [0] })).data).toEqual([-Infinity]);
    expect(evalWith((b) => b.node("max", [b.constant(1, [0], "i32")], { axes: [0] })).data).toEqual([-(2 ** 31)]);
    expect(evalWith((b) => b.sum(b.constant(2 ** 30, [4], "i32"))).data).toEqual([0]);
  });

  it("matmul multiplies matrices", () => {
    covers("matmul");
    const r = evalWith((b) => b.matmul(x(b), b.literal([1, 0, 0, 1, 1, 1], [3, 2])));
    // [[1,5,3],[4,2,6]] · [[1,0],[0,1],[1,1]]
    expect([r.shape, r.data]).toEqual([[2, 2], [4, 8, 10, 8]]);
  });

  it("matmul broadcasts batch dimensions", () => {
    // a: two 1×2 matrices; b: one 2×2 matrix shared, then b batched against a size-1 batch of a.
    const shared = evalWith((b) => b.matmul(b.literal([1, 2, 3, 4], [2, 1, 2]), b.literal([1, 10, 100, 1000], [2, 2])));
    expect([shared.shape, shared.data]).toEqual([[2, 1, 2], [201, 2010, 403, 4030]]);
    const r = evalWith((b) => b.matmul(b.literal([1, 2], [1, 1, 1, 2]), b.literal([1, 0, 0, 1, 2, 0, 0, 2], [2, 2, 2])));
    expect([r.shape, r.data]).toEqual([[1, 2, 1, 2], [1, 2, 2, 4]]);
  });
});

describe("movement", () => {
  const m23 = (b: import("../../runtime/ir/builder.js").IRBuilder) => b.literal([1, 2, 3, 4, 5, 6], [2, 3]);

  it("reshape keeps row-major order; permute moves axes", () => {
    covers("reshape", "permute");
    expect(evalWith((b) => b.reshape(m23(b), [3, 2])).data).toEqual([1, 2, 3, 4, 5, 6]);
    const t = evalWith((b) => b.permute(m23(b), [1, 0]));
    expect([t.shape, t.data]).toEqual([[3, 2], [1, 4, 2, 5, 3, 6]]);
    const p = evalWith((b) => b.permute(b.iota([2, 3, 4], 2, "f32"), [2, 0, 1]));
    expect(p.shape).toEqual([4, 2, 3]);
    expect(p.data.slice(0, 12)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  });

  it("expand repeats size-1 axes", () => {
    covers("expand");
    const r = evalWith((b) => b.node("expand", [b.literal([1, 2, 3], [1, 3])], { shape: [2, 3] }));
    expect(r.data).toEqual([1, 2, 3, 1, 2, 3]);
    expect(evalWith((b) => b.node("expand", [b.literal([1, 2], [2, 1])], { shape: [2, 2] })).data).toEqual([1, 1, 2, 2]);
  });

  it("slice takes start, start+step, … below end", () => {
    covers("slice");
    expect(evalWith((b) => b.slice(b.iota([7], 0), [1], [6], [2])).data).toEqual([1, 3, 5]);
    expect(evalWith((b) => b.slice(b.iota([7], 0), [1], [7], [3])).data).toEqual([1, 4]);
    const r = evalWith((b) => b.slice(m23(b), [1, 0], [2, 3], [1, 2]));
    expect([r.shape, r.data]).toEqual([[1, 2], [4, 6]]);
  });

  it("pad puts values before, after and between elements", () => {
    covers("pad");
    const r = evalWith((b) => b.pad(b.literal([1, 2], [2]), [1], [2], { interior: [1], value: 9 }));
    expect(r.data).toEqual([9, 1, 9, 2, 9, 9]);
    const m = evalWith((b) => b.pad(b.literal([1, 2, 3, 4], [2, 2]), [0, 1], [1, 0]));
    expect([m.shape, m.data]).toEqual([[3, 3], [0, 1, 2, 0, 3, 4, 0, 0, 0]]);
  });

  it("concat joins along an axis", () => {
    covers("concat");
    const r = evalWith((b) => b.concat([b.literal([1, 2], [2, 1]), b.literal([3, 4, 5, 6], [2, 2])], 1));
    expect([r.shape, r.data]).toEqual([[2, 3], [1, 3, 4, 2, 5, 6]]);
    const rows = evalWith((b) => b.concat([b.literal([1, 2], [1, 2]), b.literal([3, 4], [1, 2]), b.literal([5, 6], [1, 2])], 0));
    expect(rows.data).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe("indexing, sorting, casting", () => {
  const x22 = (b: import("../../runtime/ir/builder.js").IRBuilder) => b.literal([1, 2, 3, 4], [2, 2]);

  it("gather reads x[…, idx, …] along the axis", () => {
    covers("gather");
    expect(evalWith((b) => b.gather(x22(b), b.literal([0, 0, 1, 0], [2, 2], "i32"), 1)).data).toEqual([1, 1, 4, 3]);
    const rows = evalWith((b) => b.gather(x22(b), b.literal([1, 0, 1, 1, 0, 1], [3, 2], "i32"), 0));
    expect([rows.shape, rows.data]).toEqual([[3, 2], [3, 2, 3, 4, 1, 4]]);
    expect(() => evalWith((b) => b.gather(x22(b), b.literal([0, 2, 0, 0], [2, 2], "i32"), 1))).toThrow(
      /gather: index 2 is out of range 0..1 of axis 1/,
    );
  });

  it("scatter_add adds updates at the indices, accumulating repeats", () => {
    covers("scatter_add");
    const r = evalWith((b) => b.scatterAdd(b.constant(0, [3]), b.literal([0, 2, 0], [3], "i32"), b.literal([1, 2, 3], [3]), 0));
    expect(r.data).toEqual([4, 0, 2]);
    const idx = [1, 1, 0, 0, 0, 0];
    const m = evalWith((b) => b.scatterAdd(x22(b), b.literal(idx, [2, 3], "i32"), b.literal([10, 20, 30, 1, 1, 1], [2, 3]), 1));
    expect(m.data).toEqual([31, 32, 6, 4]);
  });

  it("argsort is stable, ascending or descending, along any axis", () => {
    covers("argsort");
    expect(evalWith((b) => b.argsort(b.literal([3, 1, 2], [3]))).data).toEqual([1, 2, 0]);
    expect(evalWith((b) => b.argsort(b.literal([1, 0, 1, 0], [4]))).data).toEqual([1, 3, 0, 2]);
    expect(evalWith((b) => b.argsort(b.literal([1, 0, 1, 0], [4]), 0, true)).data).toEqual([0, 2, 1, 3]);
    const cols = evalWith((b) => b.argsort(b.literal([3, 0, 1, 5, 2, 4], [3, 2]), 0));
    expect([cols.dtype, ...cols.data]).toEqual(["i32", 1, 0, 2, 2, 0, 1]);
  });

  it("cast truncates toward zero to i32 (saturating, NaN to 0) and is exact back", () => {
    covers("cast");
    expect(evalWith((b) => b.cast(b.literal([1.7, -1.7, 0, 3e9, -3e9], [5]), "i32")).data).toEqual([1, -1, 0, 2 ** 31 - 1, -(2 ** 31)]);
    expect(evalWith((b) => b.cast(b.div(b.constant(0, [1]), 0), "i32")).data).toEqual([0]);
    const f = evalWith((b) => b.cast(b.literal([3, -4], [2], "i32"), "f32"));
    expect([f.dtype, ...f.data]).toEqual(["f32", 3, -4]);
  });
});

// Runs last (vitest runs a file's tests in order), after every case recorded its ops.
it("has a forward case for every op", () => {
  expect(ALL_OPS.filter((op) => !tested.has(op))).toEqual([]);
});
