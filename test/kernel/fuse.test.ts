/**
 * The fusion planner: fused and unfused kernel graphs compute the same
 * function on random graphs (their gradients and intermediates included), on
 * the float64 reference backend, where fusion cannot hide behind rounding:
 * the fused graph's ops are the unfused graph's primitives, so the results
 * must be bit-identical. The fused graphs are valid, read only values written
 * before, stay within the binding limit, and have fewer kernels.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import { kernelOutputs } from "../../runtime/kernel/graph.js";
import { MAX_BINDINGS } from "../../runtime/kernel/fuse.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { kernelGraphProblems } from "../../runtime/kernel/validate.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { graphSpec } from "../autodiff/random-graph.js";
import { randomGraph } from "./random.js";

describe("fusion planner", () => {
  it("a one-element product joins its epilogue like any other (its value is not read as a scalar)", () => {
    for (const [m, k, n] of [[1, 1, 1], [1, 5, 1], [2, 1, 3]]) {
      const b = new IRBuilder();
      const h = b.matmul(b.input("x", [m, k]), b.input("w", [k, n]));
      const kg = planKernelGraph(b.graph({ y: b.relu(b.add(h, b.input("bias", [n]))) }));
      expect(kg.kernels.map((q) => q.kind)).toEqual(["matmul"]);
    }
  });
  it("fused and unfused graphs compute the same function on random graphs, bit for bit in float64", () => {
    let fewer = 0;
    fc.assert(
      fc.property(graphSpec, fc.nat(), (spec, extra) => {
        const { graph, feeds } = randomGraph(spec, extra);
        const unfused = planKernelGraph(graph, { fuse: false });
        const fused = planKernelGraph(graph);
        expect(kernelGraphProblems(fused)).toEqual([]);
        for (const k of fused.kernels) expect(new Set(k.inputs).size + kernelOutputs(k).length).toBeLessThanOrEqual(MAX_BINDINGS);
        if (fused.kernels.length < unfused.kernels.length) fewer++;
        const want = compileReference(unfused).run(feeds);
        const got = compileReference(fused).run(feeds);
        for (const o of graph.outputs) expect([...got[o.name]!.data], o.name).toEqual([...want[o.name]!.data]);
      }),
      { numRuns: 300, seed: 20261207 },
    );
    expect(fewer).toBeGreaterThan(200);
  });

  it("with wideViews (WebGPU's plan), fused graphs still compute the same function, within the binding limit", () => {
    fc.assert(
      fc.property(graphSpec, fc.nat(), (spec, extra) => {
        const { graph, feeds } = randomGraph(spec, extra);
        const fused = planKernelGraph(graph, { wideViews: true });
        expect(kernelGraphProblems(fused)).toEqual([]);
        for (const k of fused.kernels) expect(new Set(k.inputs).size + kernelOutputs(k).length).toBeLessThanOrEqual(MAX_BINDINGS);
        const want = compileReference(planKernelGraph(graph, { fuse: false })).run(feeds);
        const got = compileReference(fused).run(feeds);
        for (const o of graph.outputs) expect([...got[o.name]!.data], o.name).toEqual([...want[o.name]!.data]);
      }),
      { numRuns: 150, seed: 20261208 },
    );
  });
});
