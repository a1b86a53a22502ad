/**
 * The CPU backend agrees with the reference backend on every op: within
 * float32 tolerance for f32 results, exactly for i32 results and for the
 * random ops' uniforms (normals: the reference value rounded to float32).
 * The op cases shared with the other backends are in test/backends/op-cases.ts.
 * A test fails if an op has no CPU kernel or no case here.
 */
import { describe, expect, it } from "vitest";
import { compileCpu, MAKERS } from "../../runtime/backends/cpu/index.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Graph } from "../../runtime/ir/node.js";
import { ALL_OPS, type Op } from "../../runtime/ir/ops.js";
import { kernelGraphFromJson, kernelGraphToJson } from "../../runtime/kernel/graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { feed, type FeedRecord, OP_CASES, RANDOM_CASE } from "../backends/op-cases.js";
import { mlp } from "../kernel/models.js";
import { expectAgree, numbers, relativeError } from "./compare.js";

const covered = new Set<Op>();

/** Checks a graph on both backends and records which ops it exercised. */
function check(graph: Graph, feeds: FeedRecord = {}, tol = 1e-6, params: FeedRecord = {}): void {
  const { kg } = expectAgree(graph, feeds, tol, params);
  for (const k of kg.kernels) for (const o of k.ops) covered.add(o.op);
  if (kg.inputs.length > 0) covered.add("input");
  if (kg.params.length > 0) covered.add("param");
}

describe("cpu agrees with reference, op by op", () => {
  it("every op has a CPU kernel", () => {
    for (const op of ALL_OPS) expect(typeof MAKERS[op], op).toBe("function");
  });

  it("random: uniforms exactly, normals as the reference's rounded to float32", () => {
    const kg = planKernelGraph(RANDOM_CASE.build(), { fuse: false });
    for (const feeds of RANDOM_CASE.feeds) {
      const ref = compileReference(kg).run(feeds);
      const cpu = compileCpu(kg).run(feeds);
      for (const o of RANDOM_CASE.uniforms) expect([...cpu[o]!.data], o).toEqual([...ref[o]!.data]);
      for (const o of RANDOM_CASE.normals) expect([...cpu[o]!.data], o).toEqual([...ref[o]!.data].map(Math.fround));
    }
    covered.add("uniform").add("normal");
  });

  for (const c of OP_CASES) {
    it(c.name, () => {
      const { graph, feeds, tol, params } = c.build();
      check(graph, feeds, tol, params);
    });
  }

  it("out-of-range indices are a RangeError, as on the reference backend", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 2]);
    const idx = b.input("idx", [2, 1], "i32");
    const exe = compileCpu(planKernelGraph(b.graph({ y: b.gather(x, idx, 1) }), { fuse: false }));
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
    const kg = planKernelGraph(g, { fuse: false });
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
    const exe = compileCpu(planKernelGraph(b.graph({ y: b.add(x, b.cast(i, "f32")) }), { fuse: false }));
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
    const kg = planKernelGraph(g, { fuse: false });
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
    const kg = planKernelGraph(g, { fuse: false });
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
