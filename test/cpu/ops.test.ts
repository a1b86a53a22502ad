/**
 * The CPU backend agrees with the reference backend on every op: within
 * float32 tolerance for f32 results, exactly for i32 results and for the
 * random ops' uniforms (normals: the reference value rounded to float32).
 * A test fails if an op has no CPU kernel or no case here.
 */
import { describe, expect, it } from "vitest";
import { compileCpu, MAKERS } from "../../runtime/backends/cpu/index.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Graph, Node } from "../../runtime/ir/node.js";
import { ALL_OPS, type BinaryOp, type Op, type UnaryOp } from "../../runtime/ir/ops.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { kernelGraphFromJson, kernelGraphToJson } from "../../runtime/kernel/graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { mlp } from "../kernel/models.js";
import { expectAgree, integers, numbers, relativeError } from "./compare.js";

const covered = new Set<Op>();

/** Checks a graph on both backends and records which ops it exercised. */
type FeedRecord = Record<string, { shape: number[]; data: ArrayLike<number> }>;
function check(graph: Graph, feeds: FeedRecord = {}, tol = 1e-6, params: FeedRecord = {}): void {
  const { kg } = expectAgree(graph, feeds, tol, params);
  for (const k of kg.kernels) for (const o of k.ops) covered.add(o.op);
  if (kg.inputs.length > 0) covered.add("input");
  if (kg.params.length > 0) covered.add("param");
}

const feed = (shape: number[], data: ArrayLike<number>): { shape: number[]; data: ArrayLike<number> } => ({ shape, data });

describe("cpu agrees with reference, op by op", () => {
  it("every op has a CPU kernel", () => {
    for (const op of ALL_OPS) expect(typeof MAKERS[op], op).toBe("function");
  });

  it("leaves: input, param, const, literal, iota", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 3]);
    const w = b.param("w", [3], "i32");
    const g = b.graph({
      x,
      w,
      c: b.constant(-1.5, [2, 2]),
      ci: b.constant(7, [3], "i32"),
      lit: b.literal([1, 2.5, -3, 0.1], [2, 2]),
      liti: b.literal([1, -2, 3], [3], "i32"),
      iota: b.iota([2, 3, 4], 1),
      iotaf: b.iota([5], 0, "f32"),
      sum: b.add(x, 1),
    });
    check(g, { x: feed([2, 3], numbers(6, 1)) }, 1e-6, { w: feed([3], [4, -5, 6]) });
  });

  it("random: uniforms exactly, normals as the reference's rounded to float32", () => {
    const b = new IRBuilder();
    const seed = b.input("seed", [], "i32");
    const step = b.input("step", [], "i32");
    const g = b.graph({
      u: b.uniform([3, 7], { seed, step, stream: 5 }),
      n: b.normal([2, 9], { seed, step, stream: 6 }),
    });
    const kg = planKernelGraph(g);
    for (const [s, t] of [
      [0, 0],
      [-1, 3],
      [123456, -7],
    ] as const) {
      const feeds = { seed: feed([], [s]), step: feed([], [t]) };
      const ref = compileReference(kg).run(feeds);
      const cpu = compileCpu(kg).run(feeds);
      expect([...cpu.u!.data]).toEqual([...ref.u!.data]);
      expect([...cpu.n!.data]).toEqual([...ref.n!.data].map(Math.fround));
    }
    covered.add("uniform").add("normal");
  });

  it("unary ops on f32, and those defined on i32", () => {
    const floats: UnaryOp[] = ["neg", "exp", "tanh", "sigmoid", "erf", "abs", "sign", "relu", "sin", "cos", "detach"];
    const positive: UnaryOp[] = ["log", "sqrt", "recip"];
    const ints: UnaryOp[] = ["neg", "abs", "sign", "relu", "detach"];
    const b = new IRBuilder();
    const x = b.input("x", [4, 5]);
    const p = b.input("p", [4, 5]);
    const i = b.input("i", [7], "i32");
    const outs: Record<string, Node> = {};
    for (const op of floats) outs[op] = b.unary(op, x);
    for (const op of positive) outs[op] = b.unary(op, p);
    for (const op of ints) outs[`i_${op}`] = b.unary(op, i);
    const xs = numbers(20, 2, -4, 4);
    xs[0] = 0;
    xs[1] = -0;
    check(b.graph(outs), {
      x: feed([4, 5], xs),
      p: feed([4, 5], numbers(20, 3, 0.01, 10)),
      i: feed([7], [0, 1, -1, 2147483647, -2147483648, 12345, -99]),
    });
  });

  it("binary ops on f32 and i32 (wrapping, truncating division, x / 0 = x)", () => {
    const ops: BinaryOp[] = ["add", "sub", "mul", "div", "maximum", "minimum", "cmplt", "cmpeq"];
    const b = new IRBuilder();
    const x = b.input("x", [3, 4]);
    const y = b.input("y", [3, 4]);
    const p = b.input("p", [3, 4]);
    const i = b.input("i", [10], "i32");
    const j = b.input("j", [10], "i32");
    const outs: Record<string, Node> = { pow: b.pow(p, y) };
    for (const op of ops) {
      outs[op] = b.binary(op, x, y);
      outs[`i_${op}`] = b.binary(op, i, j);
    }
    const xs = numbers(12, 4);
    const ys = numbers(12, 5);
    ys[0] = xs[0]!; // a tie for cmpeq, maximum, minimum
    check(b.graph(outs), {
      x: feed([3, 4], xs),
      y: feed([3, 4], ys),
      p: feed([3, 4], numbers(12, 6, 0.1, 3)),
      i: feed([10], [7, -7, 7, -7, 0, 2147483647, -2147483648, -2147483648, 5, 100000]),
      j: feed([10], [2, 2, -2, 0, 0, 1, -1, 2, 5, 100000]),
    });
  });

  it("where, on f32 and i32 branches", () => {
    const b = new IRBuilder();
    const c = b.input("c", [6], "i32");
    const x = b.input("x", [6]);
    const i = b.input("i", [6], "i32");
    check(b.graph({ f: b.where(c, x, b.neg(x)), i: b.where(c, i, 3) }), {
      c: feed([6], [0, 1, 2, -1, 0, 0]),
      x: feed([6], numbers(6, 7)),
      i: feed([6], [1, 2, 3, 4, 5, 6]),
    });
  });

  it("sum and max over every pattern of axes (last, first, middle, scattered, all, empty), on f32 and i32", () => {
    const shapes: number[][] = [[5], [3, 4], [2, 3, 4], [2, 1, 3, 5], [3, 0, 2]];
    const b = new IRBuilder();
    const outs: Record<string, Node> = {};
    const feeds: Record<string, { shape: number[]; data: ArrayLike<number> }> = {};
    shapes.forEach((shape, s) => {
      const x = b.input(`x${s}`, shape);
      const i = b.input(`i${s}`, shape, "i32");
      feeds[`x${s}`] = feed(shape, numbers(sizeOf(shape), 10 + s));
      feeds[`i${s}`] = feed(shape, integers(sizeOf(shape), 20 + s, -(2 ** 30), 2 ** 30));
      const rank = shape.length;
      for (let mask = 1; mask < 1 << rank; mask++) {
        const axes = shape.map((_, a) => a).filter((a) => (mask >> a) & 1);
        for (const kind of ["sum", "max"] as const) {
          outs[`${kind}_${s}_${mask}`] = b[kind](x, axes, true);
          outs[`i${kind}_${s}_${mask}`] = b[kind](i, axes, true);
        }
      }
    });
    check(b.graph(outs), feeds, 1e-6);
  });

  it("max propagates NaN and sees −∞", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 3]);
    check(b.graph({ last: b.max(x, 1), first: b.max(x, 0) }), { x: feed([2, 3], [1, NaN, 3, -Infinity, -Infinity, -Infinity]) });
  });

  it("matmul: small, odd, blocked (k and n beyond one block), batched with broadcasting, k = 0", () => {
    const cases: [number[], number[]][] = [
      [[1, 1], [1, 1]],
      [[3, 5], [5, 2]],
      [[4, 4], [4, 4]],
      [[7, 9], [9, 13]],
      [[9, 300], [300, 261]],
      [[2, 3, 4, 5], [5, 6]],
      [[3, 1, 4, 5], [2, 5, 3]],
      [[1, 6, 7], [4, 7, 2]],
      [[3, 0], [0, 4]],
      [[0, 3], [3, 2]],
    ];
    const b = new IRBuilder();
    const outs: Record<string, Node> = {};
    const feeds: Record<string, { shape: number[]; data: ArrayLike<number> }> = {};
    cases.forEach(([as, bs], c) => {
      outs[`m${c}`] = b.matmul(b.input(`a${c}`, as), b.input(`b${c}`, bs));
      feeds[`a${c}`] = feed(as, numbers(sizeOf(as), 30 + c));
      feeds[`b${c}`] = feed(bs, numbers(sizeOf(bs), 40 + c));
    });
    check(b.graph(outs), feeds, 1e-6);
  });

  it("movement: reshape, permute, expand, slice, pad, concat", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 3, 4]);
    const i = b.input("i", [2, 3], "i32");
    const s = b.input("s", []);
    const r = b.input("r", [3, 1]);
    check(
      b.graph({
        reshape: b.reshape(x, [6, 4]),
        permute: b.permute(x, [2, 0, 1]),
        permuteLast: b.permute(x, [0, 2, 1]),
        expand: b.broadcastTo(r, [2, 3, 5]),
        expandScalar: b.broadcastTo(s, [3, 2]),
        slice: b.slice(x, [1, 0, 1], [2, 3, 4], [1, 2, 2]),
        sliceI: b.slice(i, [0, 1], [2, 3]),
        pad: b.pad(x, [1, 0, 2], [0, 1, 1], { interior: [0, 1, 2], value: -1.5 }),
        padI: b.pad(i, [1, 1], [0, 2], { value: 9 }),
        concat0: b.concat([x, b.neg(x)], 0),
        concat2: b.concat([x, b.slice(x, [0, 0, 0], [2, 3, 1]), x], 2),
        concatI: b.concat([i, i, i], 1),
      }),
      {
        x: feed([2, 3, 4], numbers(24, 50)),
        i: feed([2, 3], [1, 2, 3, 4, 5, 6]),
        s: feed([], [2.5]),
        r: feed([3, 1], [1, 2, 3]),
      },
    );
  });

  it("gather, scatter_add (repeats accumulate) and argsort (stable, both directions, NaN last)", () => {
    const b = new IRBuilder();
    const x = b.input("x", [3, 4]);
    const xi = b.input("xi", [3, 4], "i32");
    const idx = b.input("idx", [3, 2], "i32");
    const idx0 = b.input("idx0", [2, 4], "i32");
    const u = b.input("u", [3, 2]);
    const ties = b.input("ties", [2, 5]);
    check(
      b.graph({
        gather: b.gather(x, idx, 1),
        gather0: b.gather(x, idx0, 0),
        gatherI: b.gather(xi, idx, 1),
        scatter: b.scatterAdd(x, idx, u, 1),
        scatterI: b.scatterAdd(xi, idx, b.cast(u, "i32"), 1),
        scatter0: b.scatterAdd(x, idx0, b.slice(x, [0, 0], [2, 4]), 0),
        argsort: b.argsort(ties, 1),
        argsortDesc: b.argsort(ties, 1, true),
        argsort0: b.argsort(x, 0, true),
        argsortI: b.argsort(xi, 1),
      }),
      {
        x: feed([3, 4], numbers(12, 60)),
        xi: feed([3, 4], [5, 1, 5, -3, 0, 0, 0, 0, 9, -9, 8, 7]),
        idx: feed([3, 2], [0, 3, 1, 1, 2, 2]),
        idx0: feed([2, 4], [0, 1, 2, 2, 2, 0, 1, 0]),
        u: feed([3, 2], [1.5, -2.25, 3, 4, -5, 6.5]),
        ties: feed([2, 5], [1, 2, 1, NaN, 2, Infinity, NaN, -Infinity, Infinity, 0]),
      },
    );
  });

  it("cast: f32 → i32 truncates and saturates (NaN → 0); i32 → f32", () => {
    const b = new IRBuilder();
    const x = b.input("x", [8]);
    const i = b.input("i", [3], "i32");
    check(b.graph({ toInt: b.cast(x, "i32"), toFloat: b.cast(i, "f32") }), {
      x: feed([8], [1.9, -1.9, 0.5, -0.5, 3e9, -3e9, NaN, 42]),
      i: feed([3], [1, -2, 16777217]),
    });
  });

  it("out-of-range indices are a RangeError, as on the reference backend", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 2]);
    const idx = b.input("idx", [2, 1], "i32");
    const exe = compileCpu(planKernelGraph(b.graph({ y: b.gather(x, idx, 1) })));
    expect(() => exe.run({ x: feed([2, 2], [1, 2, 3, 4]), idx: feed([2, 1], [0, 2]) })).toThrow(RangeError);
  });

  it("every op was exercised by a case above", () => {
    expect(ALL_OPS.filter((op) => !covered.has(op))).toEqual([]);
  });
});

describe("cpu executables", () => {
  it("reuse their buffers across runs and return the same views, with fresh results", () => {
    const b = new IRBuilder();
    const x = b.input("x", [4, 4]);
    const w = b.param("w", [4, 4]);
    const g = b.graph({ y: b.sum(b.relu(b.matmul(x, w)), 1) });
    const kg = planKernelGraph(g);
    const cpu = compileCpu(kg);
    const ref = compileReference(kg);
    const first = cpu.run({ x: feed([4, 4], numbers(16, 1)) }, { w: feed([4, 4], numbers(16, 2)) });
    const firstData = first.y!.data;
    for (let r = 3; r < 8; r++) {
      const feeds = { x: feed([4, 4], numbers(16, r)) };
      const params = { w: feed([4, 4], new Float32Array(numbers(16, r + 100))) };
      const got = cpu.run(feeds, params);
      expect(got.y!.data).toBe(firstData);
      const want = ref.run(feeds, params);
      [...got.y!.data].forEach((v, i) => expect(v).toBeCloseTo(want.y!.data[i]!, 5));
    }
  });

  it("reject missing, misshapen and non-integer feeds", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2]);
    const i = b.input("i", [1], "i32");
    const exe = compileCpu(planKernelGraph(b.graph({ y: b.add(x, b.cast(i, "f32")) })));
    expect(() => exe.run({ x: feed([2], [1, 2]) })).toThrow(/input "i" \(i32\[1\]\) was not fed/);
    expect(() => exe.run({ x: feed([3], [1, 2, 3]), i: feed([1], [1]) })).toThrow(/expects shape \[2\]/);
    expect(() => exe.run({ x: feed([2], [1, 2]), i: feed([1], [1.5]) })).toThrow(/is i32 but element 0 is 1.5/);
  });
});

describe("kernel graphs as data", () => {
  it("a kernel graph read back from JSON compiles and runs the same", () => {
    const b = new IRBuilder();
    const x = b.input("x", [3, 5]);
    const w = b.param("w", [5, 2]);
    const h = b.matmul(x, w);
    const g = b.graph({ y: b.max(b.where(b.cmplt(h, 0), -Infinity, h), 1), s: b.sum(b.pad(h, [1, 0], [0, 0], { value: -0 })) });
    const kg = planKernelGraph(g);
    const feeds = { x: feed([3, 5], numbers(15, 1)) };
    const params = { w: feed([5, 2], numbers(10, 2)) };
    const direct = compileCpu(kg).run(feeds, params);
    const viaJson = compileCpu(kernelGraphFromJson(kernelGraphToJson(kg))).run(feeds, params);
    for (const o of g.outputs) expect([...viaJson[o.name]!.data]).toEqual([...direct[o.name]!.data]);
  });
});

describe("cpu on a whole training step", () => {
  it("an MLP's loss and SGD-updated weights agree with reference, step after step with weights fed back", () => {
    const g = mlp(true);
    const kg = planKernelGraph(g);
    const [cpu, ref] = [compileCpu(kg), compileReference(kg)];
    const feeds = { x: feed([8, 4], numbers(32, 1)), target: feed([8, 2], numbers(16, 2)) };
    let cpuParams: Record<string, { shape: number[]; data: ArrayLike<number> }> = {
      w1: feed([4, 16], numbers(64, 3, -0.5, 0.5)),
      b1: feed([16], numbers(16, 4, -0.1, 0.1)),
      w2: feed([16, 2], numbers(32, 5, -0.5, 0.5)),
    };
    let refParams = cpuParams;
    for (let step = 0; step < 5; step++) {
      const [c, r] = [cpu.run(feeds, cpuParams), ref.run(feeds, refParams)];
      expect(relativeError(c.loss!.data, r.loss!.data)).toBeLessThan(1e-5);
      for (const name of ["w1", "b1", "w2"]) expect(relativeError(c[`new_${name}`]!.data, r[`new_${name}`]!.data)).toBeLessThan(1e-5);
      const next = (out: typeof c): typeof cpuParams =>
        Object.fromEntries(["w1", "b1", "w2"].map((n) => [n, { shape: [...out[`new_${n}`]!.shape], data: out[`new_${n}`]!.data.slice() }]));
      [cpuParams, refParams] = [next(c), next(r)];
    }
  });
});
