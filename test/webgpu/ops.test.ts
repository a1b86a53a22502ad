/**
 * The WebGPU backend agrees with the reference backend on every op it
 * renders: within float32 tolerance for f32 results, exactly for i32 results
 * and for the random ops' uniforms. The fixed cases are shared with
 * test/cpu/ops.test.ts (test/backends/op-cases.ts); the properties draw
 * small random shapes (fast-check) for each op family.
 * A test fails if an op the renderer supports has no case here.
 */
import { describe, expect, it } from "vitest";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import { OP_RENDERERS } from "../../runtime/backends/webgpu/index.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Graph } from "../../runtime/ir/node.js";
import type { Op } from "../../runtime/ir/ops.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { feed, type FeedRecord, OP_CASES, RANDOM_CASE } from "../backends/op-cases.js";
import { numbers } from "../cpu/compare.js";
import { expectAgree, gpu, runGpu, skipReason } from "./gpu.js";

const covered = new Set<Op>();

/** Checks a graph on both backends and records which ops it exercised. */
async function check(graph: Graph, feeds: FeedRecord = {}, tol = 1e-6, params: FeedRecord = {}): Promise<void> {
  const kg = await expectAgree(graph, feeds, tol, params);
  for (const k of kg.kernels) for (const o of k.ops) covered.add(o.op);
}

describe.skipIf(skipReason !== null)("webgpu agrees with reference, op by op", () => {
  it("random: uniforms exactly, normals within float32 tolerance", async () => {
    const kg = planKernelGraph(RANDOM_CASE.build());
    for (const feeds of RANDOM_CASE.feeds) {
      const ref = compileReference(kg).run(feeds);
      const got = await runGpu(kg, feeds);
      for (const o of RANDOM_CASE.uniforms) expect([...got[o]!.data], o).toEqual([...ref[o]!.data]);
      for (const o of RANDOM_CASE.normals) {
        const want = ref[o]!.data;
        [...got[o]!.data].forEach((v, i) => expect(Math.abs(v - want[i]!), o).toBeLessThan(2e-5 * Math.max(1, Math.abs(want[i]!))));
      }
    }
    covered.add("uniform").add("normal");
  });

  for (const c of OP_CASES) {
    it(c.name, async () => {
      const { graph, feeds, tol, params } = c.build();
      await check(graph, feeds, tol, params);
    });
  }

  it("every op the renderer supports was exercised by a case above", () => {
    expect(Object.keys(OP_RENDERERS).filter((op) => !covered.has(op as Op))).toEqual([]);
  });
});

describe.skipIf(skipReason !== null)("webgpu executables", () => {
  it("run throws and says to use runAsync; runAsync reuses buffers with fresh results", async () => {
    const b = new IRBuilder();
    const x = b.input("x", [4, 4]);
    const w = b.param("w", [4, 4]);
    const kg = planKernelGraph(b.graph({ y: b.sum(b.relu(b.matmul(x, w)), 1) }));
    const exe = gpu!.compile(kg);
    expect(() => exe.run({})).toThrow(/use `await executable.runAsync/);
    const ref = compileReference(kg);
    for (let r = 0; r < 4; r++) {
      const feeds = { x: feed([4, 4], numbers(16, r)) };
      const params = { w: feed([4, 4], new Float32Array(numbers(16, r + 100))) };
      const got = await exe.runAsync(feeds, params);
      const want = ref.run(feeds, params);
      [...got.y!.data].forEach((v, i) => expect(v).toBeCloseTo(want.y!.data[i]!, 5));
    }
    exe.destroy();
    await expect(exe.runAsync({})).rejects.toThrow(/destroyed/);
  });

  it("reject missing, misshapen and non-integer feeds", async () => {
    const b = new IRBuilder();
    const x = b.input("x", [2]);
    const i = b.input("i", [1], "i32");
    const exe = gpu!.compile(planKernelGraph(b.graph({ y: b.add(x, b.cast(i, "f32")) })));
    await expect(exe.runAsync({ x: feed([2], [1, 2]) })).rejects.toThrow(/input "i" \(i32\[1\]\) was not fed/);
    await expect(exe.runAsync({ x: feed([3], [1, 2, 3]), i: feed([1], [1]) })).rejects.toThrow(/expects shape \[2\]/);
    await expect(exe.runAsync({ x: feed([2], [1, 2]), i: feed([1], [1.5]) })).rejects.toThrow(/is i32 but element 0 is 1.5/);
  });

  it("more than 65535 workgroups spill into a second dispatch dimension", async () => {
    const n = 65535 * 64 + 100;
    const b = new IRBuilder();
    const kg = planKernelGraph(b.graph({ y: b.iota([n], 0, "i32") }));
    const got = await runGpu(kg, {});
    const y = got.y!.data;
    expect([y[0], y[65535 * 64 - 1], y[65535 * 64], y[n - 1]]).toEqual([0, 65535 * 64 - 1, 65535 * 64, n - 1]);
    expect(y.every((v, i) => v === i)).toBe(true);
  });
});
