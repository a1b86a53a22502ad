/**
 * The ONNX op table (runtime/backends/onnx/ops.ts): every IR op has a rule,
 * an op it does not know is a clear error, and each rule keeps the op's
 * meaning as the reference backend defines it, including where ONNX's own
 * op differs (integer division by zero, saturating casts, comparisons as
 * i32, stable argsort, interior padding, broadcasts left to ONNX). Each
 * case is a small graph run on the reference backend and the onnx backend.
 */
import { describe, expect, it } from "vitest";
import { referenceBackend } from "../../runtime/backends/reference/executor.js";
import { createOnnxBackend, kernelSource, ONNX_RULES, OnnxExportError, onnxRule, translateGraph } from "../../runtime/backends/onnx/index.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { ALL_OPS } from "../../runtime/ir/ops.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { onnxMissing } from "./available.js";
import { relativeError } from "./harness.js";

const missing = await onnxMissing();

describe("the ONNX op table", () => {
  it("has a rule for every IR op, and names an op it does not know", () => {
    expect(Object.keys(ONNX_RULES).sort()).toEqual([...ALL_OPS].sort());
    expect(() => onnxRule("fft")).toThrow(new OnnxExportError("the IR op 'fft' has no ONNX translation yet (add it to runtime/backends/onnx/ops.ts)"));
    expect(() => onnxRule("toString")).toThrow(OnnxExportError);
  });

  it("moves whole rows for a gather or scatter_add indexed by one row per example (Gather, ScatterND)", () => {
    const b = new IRBuilder();
    const table = b.param("table", [10, 4]);
    const ids = b.input("ids", [6, 1], "i32");
    const idx = b.broadcastTo(ids, [6, 4]);
    const rows = b.gather(table, idx, 0);
    const grad = b.scatterAdd(b.constant(0, [10, 4]), idx, rows, 0);
    const { model } = translateGraph(kernelSource(planKernelGraph(b.graph({ rows, grad }))), { name: "t" });
    const ops = model.graph.nodes.map((n) => n.opType);
    expect(ops).toContain("Gather");
    expect(ops).toContain("ScatterND");
    expect(ops).not.toContain("GatherElements");
    expect(ops).not.toContain("ScatterElements");
  });

  it("reads expanded and constant operands un-expanded where ONNX broadcasts them to the same shape", () => {
    const b = new IRBuilder();
    const x = b.input("x", [4, 3]);
    const bias = b.param("bias", [3]);
    const y = b.mul(b.add(x, b.broadcastTo(b.reshape(bias, [1, 3]), [4, 3])), b.constant(2, [4, 3]));
    const { model } = translateGraph(kernelSource(planKernelGraph(b.graph({ y }))), { name: "t" });
    const ops = model.graph.nodes.map((n) => n.opType);
    expect(ops).not.toContain("Expand");
    expect(ops).not.toContain("ConstantOfShape");
    expect(model.graph.outputs.map((o) => [o.name, o.dims])).toEqual([["y", [4, 3]]]);
  });

  it("writes a 2-D product with transposed operands and a bias as one Gemm (no Transpose, MatMul or Add)", () => {
    const b = new IRBuilder();
    const x = b.input("x", [4, 3]);
    const w = b.param("w", [5, 3]);
    const bias = b.param("bias", [5]);
    const y = b.add(b.matmul(x, b.transpose(w)), b.broadcastTo(b.reshape(bias, [1, 5]), [4, 5]));
    const gw = b.matmul(b.transpose(y), x);
    const { model } = translateGraph(kernelSource(planKernelGraph(b.graph({ y, gw }))), { name: "t" });
    const ops = model.graph.nodes.map((n) => n.opType);
    expect(ops.filter((o) => o === "Gemm")).toHaveLength(2);
    expect(ops).not.toContain("Transpose");
    expect(ops).not.toContain("MatMul");
    expect(ops).not.toContain("Add");
    const gemm = model.graph.nodes.find((n) => n.opType === "Gemm" && n.inputs.includes("w"))!;
    expect(gemm.inputs.slice(0, 2)).toEqual(["x", "w"]);
    expect(gemm.attrs["transB"]).toEqual({ kind: "int", value: 1 });
  });

  it("adds a scatter_add into zeros straight into what it is summed with (no zeros, no Add)", () => {
    const b = new IRBuilder();
    const table = b.param("table", [10, 4]);
    const ids = b.input("ids", [6, 1], "i32");
    const idx = b.broadcastTo(ids, [6, 4]);
    const grad = b.add(b.scatterAdd(b.constant(0, [10, 4]), idx, b.gather(table, idx, 0), 0), b.mul(table, 2));
    const { model } = translateGraph(kernelSource(planKernelGraph(b.graph({ grad }))), { name: "t" });
    const ops = model.graph.nodes.map((n) => n.opType);
    expect(ops).toContain("ScatterND");
    expect(ops).not.toContain("ConstantOfShape");
    expect(ops).not.toContain("Add");
  });

  it("scatters two row lists summed into zeros as one ScatterND of both (one copy of the table, not two and an Add)", () => {
    const b = new IRBuilder();
    const table = b.param("table", [10, 4]);
    const rows = (name: string, n: number): [Node, Node] => {
      const idx = b.broadcastTo(b.input(name, [n, 1], "i32"), [n, 4]);
      return [idx, b.gather(table, idx, 0)];
    };
    const [a, ra] = rows("a", 6);
    const [c, rc] = rows("c", 3);
    const grad = b.add(b.scatterAdd(b.constant(0, [10, 4]), a, ra, 0), b.scatterAdd(b.constant(0, [10, 4]), c, rc, 0));
    const { model } = translateGraph(kernelSource(planKernelGraph(b.graph({ grad }))), { name: "t" });
    const ops = model.graph.nodes.map((n) => n.opType);
    expect(ops.filter((o) => o === "ScatterND")).toHaveLength(1);
    expect(ops).not.toContain("Add");
  });

  it("carries scalar factors to where the value is read: an Adam update reads m and v once each", () => {
    const b = new IRBuilder();
    const [m, v, p] = ["m", "v", "p"].map((name) => b.input(name, [4, 3]));
    const scalar = (name: string): Node => b.broadcastTo(b.reshape(b.input(name, []), [1, 1]), [4, 3]);
    const update = b.div(b.div(m!, scalar("c1")), b.add(b.sqrt(b.div(v!, scalar("c2"))), b.constant(1e-8, [4, 3])));
    const next = b.sub(p!, b.mul(update, b.constant(0.01, [4, 3])));
    const { model } = translateGraph(kernelSource(planKernelGraph(b.graph({ next }))), { name: "t" });
    const readers = (name: string): string[] => model.graph.nodes.filter((n) => n.inputs.includes(name)).map((n) => n.opType);
    // v is not divided by c2 first, nor m by c1: m / (√v + ε·…), then one Mul by the combined factor, then the Sub.
    expect(readers("v")).toEqual(["Sqrt"]);
    const producer = (value: string): string | undefined => model.graph.nodes.find((n) => n.outputs.includes(value))?.opType;
    const quotient = model.graph.nodes.find((n) => n.inputs.includes("m"))!;
    expect([quotient.opType, producer(quotient.inputs[1]!)]).toEqual(["Div", "Add"]);
    const scaled = model.graph.nodes.find((n) => n.inputs.includes(quotient.outputs[0]!))!;
    expect(scaled.opType).toBe("Mul");
    expect(model.graph.nodes.find((n) => n.inputs.includes(scaled.outputs[0]!))?.opType).toBe("Sub");
  });
});

/** Cases: a name and the graph's outputs built from its inputs `x` (f32 [2, 3], with NaN-free values) and `i` (i32 [2, 3]). */
const CASES: readonly (readonly [string, (b: IRBuilder, x: Node, i: Node) => Record<string, Node>])[] = [
  ["unary ops", (b, x) => Object.fromEntries((["neg", "exp", "sqrt", "recip", "tanh", "sigmoid", "erf", "abs", "sign", "relu", "sin", "cos", "detach"] as const).map((op) => [op, b.unary(op, op === "sqrt" || op === "recip" ? b.add(b.abs(x), 1) : x)]))],
  ["log", (b, x) => ({ y: b.log(b.add(b.abs(x), 0.5)) })],
  ["i32 unary ops", (b, _x, i) => ({ neg: b.neg(i), abs: b.abs(i), sign: b.sign(i), relu: b.relu(i) })],
  ["binary ops", (b, x) => ({ add: b.add(x, b.sin(x)), sub: b.sub(x, 1), mul: b.mul(x, x), div: b.div(x, b.add(b.abs(x), 1)), max: b.maximum(x, 0.1), min: b.minimum(x, 0.1), pow: b.pow(b.add(b.abs(x), 1), 1.5) })],
  ["comparisons as i32, and where on an i32", (b, x) => ({ lt: b.cmplt(x, 0.2), eq: b.cmpeq(x, x), w: b.where(b.cmplt(x, 0.2), x, b.neg(x)) })],
  ["integer division truncates toward zero, and x / 0 is x", (b, _x, i) => ({ d: b.div(i, b.sub(i, 1)), z: b.div(i, b.mul(i, 0)) })],
  ["reductions", (b, x, i) => ({ s: b.sum(x, [1], true), m: b.max(x, [0], true), all: b.sum(x), si: b.sum(i, [0, 1], true), mi: b.max(i, [1], true) })],
  ["matmul, with broadcast batch dims", (b, x) => ({ m: b.matmul(x, b.transpose(x)), bm: b.matmul(b.broadcastTo(b.reshape(x, [1, 2, 3]), [4, 2, 3]), b.transpose(x)) })],
  ["movement", (b, x) => ({ r: b.reshape(x, [3, 2]), p: b.permute(x, [1, 0]), e: b.broadcastTo(b.reshape(x, [2, 1, 3]), [2, 4, 3]), s: b.slice(x, [0, 1], [2, 3], [1, 2]), c: b.concat([x, x, b.neg(x)], 1) })],
  ["2-D products with transposed operands and a bias (Gemm)", (b, x) => ({
    t: b.add(b.matmul(b.transpose(x), x), b.constant(0.5, [3, 3])),
    u: b.add(b.broadcastTo(b.reshape(b.sum(x, [1]), [2, 1]), [2, 2]), b.matmul(x, b.transpose(b.sin(x)))),
  })],
  ["a scatter_add into zeros added to another value", (b, x, i) => {
    const rows = b.broadcastTo(b.literal([1, 0, 1, 1], [4, 1], "i32"), [4, 3]);
    const more = b.broadcastTo(b.literal([0, 0, 1], [3, 1], "i32"), [3, 3]);
    const updates = b.concat([x, b.neg(x)], 0);
    const twice = b.add(b.scatterAdd(b.constant(0, [2, 3]), rows, updates, 0), b.scatterAdd(b.constant(0, [2, 3]), more, b.slice(b.concat([x, x], 0), [0, 0], [3, 3], [1, 1]), 0));
    return {
      s: b.add(b.sin(x), b.scatterAdd(b.constant(0, [2, 3]), b.minimum(b.abs(b.div(i, 2)), 2), x, 1)),
      r: b.add(b.scatterAdd(b.constant(0, [2, 3]), rows, updates, 0), b.cos(x)),
      m: b.add(b.mul(b.cos(x), 0.9), b.mul(twice, b.constant(0.1, [2, 3]))),
      t: b.mul(twice, twice),
    };
  }],
  ["scalar factors carried through an Adam-like update", (b, x) => {
    const scalar = (s: Node): Node => b.broadcastTo(b.reshape(s, [1, 1]), [2, 3]);
    const c1 = b.add(b.abs(b.sum(x)), 0.5);
    const c2 = b.add(b.sum(b.mul(x, x)), 0.25);
    const m = b.add(b.mul(x, 0.9), b.mul(b.cos(x), 0.1));
    const v = b.add(b.mul(b.mul(x, x), 0.999), b.mul(b.mul(b.cos(x), b.cos(x)), 0.001));
    const update = b.div(b.div(m, scalar(c1)), b.add(b.sqrt(b.div(v, scalar(c2))), b.constant(1e-8, [2, 3])));
    return { m, v, p: b.sub(b.sin(x), b.mul(update, b.constant(0.001, [2, 3]))) };
  }],
  ["pad, with interior padding", (b, x) => ({ p: b.pad(x, [1, 0], [0, 2], { value: -1 }), q: b.pad(x, [0, 1], [1, 0], { interior: [1, 2], value: 3 }) })],
  ["gather, scatter_add and stable argsort", (b, x, i) => {
    const idx = b.abs(b.div(i, 2));
    return { g: b.gather(x, b.minimum(idx, 1), 0), sa: b.scatterAdd(b.constant(0, [2, 3]), b.minimum(idx, 2), x, 1), asc: b.argsort(b.cast(b.abs(b.div(i, 3)), "f32"), 1), desc: b.argsort(x, 1, true) };
  }],
  ["row-indexed gather and scatter_add (an embedding and its gradient) move whole rows", (b, x) => {
    const idx = b.broadcastTo(b.literal([1, 0, 1, 1], [4, 1], "i32"), [4, 3]);
    return { g: b.gather(x, idx, 0), sa: b.scatterAdd(b.constant(0.5, [2, 3]), idx, b.concat([x, b.neg(x)], 0), 0) };
  }],
  ["casts saturate, NaN → 0", (b, x) => ({ c: b.cast(b.mul(x, 1e10), "i32"), n: b.cast(b.div(b.sub(x, x), b.sub(x, x)), "i32"), f: b.cast(b.cast(b.mul(x, 10), "i32"), "f32") })],
  ["leaves: const, literal, iota", (b, x) => ({ c: b.add(x, b.constant(2, [2, 3])), l: b.mul(x, b.literal([1, 2, 3, 4, 5, 6], [2, 3])), io: b.iota([2, 3], 1, "i32"), fo: b.iota([3, 2], 0, "f32") })],
  ["random draws, filled from the shared generator", (b) => {
    const key = { seed: b.input("seed", [], "i32"), step: b.input("step", [], "i32") };
    return { u: b.uniform([2, 5], { ...key, stream: 3 }), n: b.normal([3, 3], { ...key, stream: 9 }) };
  }],
  ["interior padding of a leading axis with its lo and hi (a product from the left)", (b, x) => ({
    p: b.pad(b.reshape(x, [2, 3, 1]), [1, 0, 0], [2, 1, 0], { interior: [2, 1, 0], value: 0 }),
    q: b.pad(b.reshape(x, [3, 2]), [2, 0], [1, 1], { interior: [3, 0], value: -2 }),
  })],
];

describe.skipIf(missing !== null)(`each rule keeps the op's meaning${missing ? ` (skipped: ${missing})` : ""}`, () => {
  for (const [name, build] of CASES) {
    it(name, async () => {
      const onnx = await createOnnxBackend();
      const b = new IRBuilder();
      const x = b.input("x", [2, 3]);
      const i = b.input("i", [2, 3], "i32");
      const graph = planKernelGraph(b.graph(build(b, x, i)));
      const feeds = {
        x: { shape: [2, 3], data: Float32Array.of(0.5, -1.25, 2, 0.125, -0.75, 3) },
        i: { shape: [2, 3], data: Int32Array.of(7, -7, 0, 5, -3, 2) },
        seed: { shape: [], data: Int32Array.of(-5) },
        step: { shape: [], data: Int32Array.of(11) },
      };
      const fed = Object.fromEntries(graph.inputs.map((v) => [v.name, feeds[v.name as keyof typeof feeds]]));
      const want = referenceBackend.compile(graph).run(fed);
      const exe = onnx.compile(graph);
      const got = await exe.runAsync(fed);
      for (const [out, v] of Object.entries(want)) {
        expect(got[out]!.shape, out).toEqual(v.shape);
        expect(relativeError(got[out]!.data, v.data), `${out}: ${Array.from(got[out]!.data)} vs ${Array.from(v.data)}`).toBeLessThan(1e-6);
      }
      exe.dispose();
    });
  }
});
