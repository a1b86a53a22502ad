/**
 * The kernel graph and its memory plan: validity over random IR graphs (and
 * their gradients), reuse where it is possible, JSON round trips, the text
 * form, and the reference backend behind the device interface agreeing
 * exactly with the IR interpreter.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import { run } from "../../runtime/backends/reference/evaluate.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Graph } from "../../runtime/ir/node.js";
import { kernelGraphFromJson, kernelGraphToJson, printKernelGraph, type Kernel, type KernelGraph } from "../../runtime/kernel/graph.js";
import { planKernelGraph, sizeClass } from "../../runtime/kernel/plan.js";
import { kernelGraphProblems } from "../../runtime/kernel/validate.js";
import { compileCpu } from "../../runtime/backends/cpu/index.js";
import { graphSpec } from "../autodiff/random-graph.js";
import { planViolations } from "./check-plan.js";
import { randomGraph } from "./random.js";

describe("memory plan", () => {
  it("is valid on random graphs: no two live values share a buffer, reads follow writes, outputs are distinct; JSON round-trips", () => {
    let reused = 0;
    fc.assert(
      fc.property(graphSpec, fc.nat(), (spec, extra) => {
        const { graph } = randomGraph(spec, extra);
        const kg = planKernelGraph(graph, { fuse: false });
        expect(planViolations(kg)).toEqual([]);
        expect(kernelGraphProblems(kg)).toEqual([]);
        expect(kernelGraphFromJson(kernelGraphToJson(kg))).toEqual(kg);
        expect(kg.memory.liveBytesMax).toBeLessThanOrEqual(kg.memory.peakBytesWithoutReuse);
        const shared = kg.buffers.filter((buf) => buf.role === "shared").length;
        const temps = kg.values.filter((v) => v.role === "temp").length;
        if (shared < temps) reused++;
      }),
      { numRuns: 200, seed: 7 },
    );
    // The property is not vacuous: most graphs do reuse buffers.
    expect(reused).toBeGreaterThan(150);
  });

  it("the checker and the reference executor catch a broken plan", () => {
    fc.assert(
      fc.property(graphSpec, fc.nat(), (spec, extra) => {
        const { graph, feeds } = randomGraph(spec, extra);
        const kg = planKernelGraph(graph, { fuse: false });
        // Move a kernel's output into the buffer of one of its operands (a temporary live at that kernel).
        const victim = kg.kernels.find((k) => kg.values[k.output]!.role === "temp" && k.inputs.some((v) => kg.values[v]!.role === "temp"));
        fc.pre(victim !== undefined);
        const operand = kg.values[victim!.inputs.find((v) => kg.values[v]!.role === "temp")!]!;
        const values = kg.values.map((v) => (v.id === victim!.output ? { ...v, buffer: operand.buffer } : v));
        const broken = { ...kg, values, buffers: kg.buffers.map((buf) => ({ ...buf, bytes: Math.max(buf.bytes, 1 << 20) })) };
        expect(planViolations(broken).some((p) => p.includes("are live together"))).toBe(true);
        expect(kernelGraphProblems(broken).some((p) => p.includes("are live together"))).toBe(true);
        expect(() => compileCpu(broken)).toThrow(/invalid kernel graph: .*live together/);
        // When the operand is read again later, the reference backend finds its buffer taken.
        if (operand.lastUse > victim!.id) expect(() => compileReference(broken, { trustPlan: true }).run(feeds)).toThrow(/memory plan is broken/);
      }),
      { numRuns: 50, seed: 3 },
    );
  });

  it("the reference backend runs the plan and agrees exactly with the IR interpreter", () => {
    fc.assert(
      fc.property(graphSpec, fc.nat(), (spec, extra) => {
        const { graph, feeds } = randomGraph(spec, extra);
        const expected = run(graph, feeds);
        const got = compileReference(planKernelGraph(graph, { fuse: false })).run(feeds);
        for (const o of graph.outputs) expect([...got[o.name]!.data]).toEqual([...expected[o.name]!.data]);
      }),
      { numRuns: 100, seed: 11 },
    );
  });

  it("reuses dead buffers of the same size class, first fit", () => {
    const b = new IRBuilder();
    let x = b.input("x", [64]);
    for (let i = 0; i < 10; i++) x = b.exp(b.neg(x));
    const kg = planKernelGraph(b.graph({ y: x }), { fuse: false });
    expect(planViolations(kg)).toEqual([]);
    // 20 kernels; the 19 temporaries ping-pong between two shared buffers.
    expect(kg.buffers.filter((buf) => buf.role === "shared")).toHaveLength(2);
    expect(kg.memory.peakBytes).toBe(4 * 256);
    expect(kg.memory.peakBytesWithoutReuse).toBe(21 * 256);
    // At any kernel, its operand and its result are live: two values.
    expect(kg.memory.liveBytesMax).toBe(2 * 256);
  });

  it("never lends an input, param or output buffer", () => {
    const b = new IRBuilder();
    const x = b.input("x", [4]);
    const w = b.param("w", [4]);
    const h = b.mul(x, w);
    const y = b.exp(h);
    const z = b.exp(b.neg(y));
    const kg = planKernelGraph(b.graph({ y, z, alsoY: y, w }), { fuse: false });
    expect(planViolations(kg)).toEqual([]);
    const roles = kg.values.map((v) => kg.buffers[v.buffer]!.role);
    expect(roles.filter((r) => r !== "shared")).toHaveLength(4);
    expect(kg.outputs.map((o) => o.name)).toEqual(["y", "z", "alsoY", "w"]);
    expect(kg.outputs[0]!.value).toBe(kg.outputs[2]!.value);
  });

  it("size classes are powers of two, at least 16 bytes", () => {
    expect([0, 1, 16, 17, 1000, 1024].map(sizeClass)).toEqual([16, 16, 16, 32, 1024, 1024]);
  });
});

describe("kernel graph data", () => {
  it("a kernel may hold an expression of several primitives (fusion-ready); the reference backend runs it", () => {
    const b = new IRBuilder();
    const x = b.input("x", [5]);
    const y = b.input("y", [5]);
    const g = b.graph({ z: b.exp(b.mul(b.neg(x), y)) });
    const kg = planKernelGraph(g, { fuse: false });
    expect(kg.kernels.map((k) => k.ops[0]!.op)).toEqual(["neg", "mul", "exp"]);
    // Fuse the three kernels by hand: t0 = neg(in0); t1 = mul(t0, in1); exp(t1).
    const [neg, mul, exp] = kg.kernels as [Kernel, Kernel, Kernel];
    // The values of neg and mul disappear into the kernel; z becomes v2.
    const z = { ...kg.values[exp.output]!, id: 2, def: 0, lastUse: 1 };
    const fused: Kernel = {
      id: 0,
      ops: [
        { ...neg.ops[0]!, args: [{ input: 0 }] },
        { ...mul.ops[0]!, args: [{ op: 0 }, { input: 1 }] },
        { ...exp.ops[0]!, args: [{ op: 1 }] },
      ],
      inputs: [neg.inputs[0]!, mul.inputs[1]!],
      output: 2,
      shape: exp.shape,
      dtype: exp.dtype,
    };
    const values = [...kg.values.slice(0, 2).map((v) => ({ ...v, lastUse: 0 })), z];
    const fusedGraph: KernelGraph = { ...kg, kernels: [fused], values, outputs: kg.outputs.map((o) => ({ ...o, value: 2 })) };
    expect(kernelGraphProblems(fusedGraph)).toEqual([]);
    const feeds = { x: { shape: [5], data: [1, 2, 3, 4, 5] }, y: { shape: [5], data: [0.5, 0.25, 0.1, 0, -1] } };
    expect([...compileReference(fusedGraph).run(feeds).z!.data]).toEqual([...run(g, feeds).z!.data]);
    expect(printKernelGraph(fusedGraph)).toContain("t0 = neg(v0); t1 = mul(t0, v1); t2 = exp(t1)");
  });

  const small = (): Graph => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 3]);
    const w = b.param("w", [3, 4]);
    const h = b.relu(b.matmul(x, w));
    const masked = b.where(b.cmplt(h, 0.5), h, -Infinity);
    return b.graph({ y: b.max(masked, 1), z: b.pad(h, [0, 1], [0, 0], { value: -0 }) });
  };

  it("round-trips through JSON, infinities and −0 included", () => {
    const kg = planKernelGraph(small(), { fuse: false });
    const text = kernelGraphToJson(kg);
    const back = kernelGraphFromJson(text);
    expect(back).toEqual(kg);
    expect(text).toContain('{"$num":"-Infinity"}');
    expect(Object.is((back.kernels.find((k) => k.ops[0]!.op === "pad")!.ops[0]!.attrs as { value: number }).value, -0)).toBe(true);
    // Plain data only: no IR nodes inside.
    expect(JSON.parse(JSON.stringify(kg, (_k, v: unknown) => (v === -Infinity ? null : v)))).toBeTypeOf("object");
  });

  it("prints one line per kernel with its buffer and live range, and the memory summary", () => {
    const text = printKernelGraph(planKernelGraph(small(), { fuse: false }));
    expect(text).toMatch(/^kernel graph: \d+ kernels, \d+ values, \d+ buffers\n/);
    expect(text).toContain("input x: f32[2, 3] = v0 @b0");
    expect(text).toContain("param w: f32[3, 4] = v1 @b1");
    expect(text).toMatch(/k0: v2 = matmul\(v0, v1\) : f32\[2, 4\] @b\d+ live 0\.\.1/);
    expect(text).toMatch(/= max\(v\d+\) \{axes=\[1\]\} : f32\[2, 1\]/);
    expect(text).toMatch(/output y: f32\[2\] = v\d+ @b\d+/);
    expect(text).toMatch(/memory: \d+ B with reuse, \d+ B without, \d+ B live at most\n$/);
  });
});

describe("kernel graph validation", () => {
  const graph = () => {
    const b = new IRBuilder();
    const x = b.input("x", [3]);
    return planKernelGraph(b.graph({ y: b.exp(b.neg(x)), z: b.sin(x) }), { fuse: false });
  };

  it("accepts what the planner makes", () => {
    expect(kernelGraphProblems(graph())).toEqual([]);
  });

  it("names kernels out of order, reads of dead or unwritten values, small buffers and short-lived outputs", () => {
    const kg = graph();
    const swapped = { ...kg, kernels: [kg.kernels[1]!, kg.kernels[0]!, ...kg.kernels.slice(2)] };
    expect(kernelGraphProblems(swapped).join("\n")).toMatch(/kernel at 0 has id 1/);
    const early = { ...kg, values: kg.values.map((v) => (v.id === 0 ? { ...v, lastUse: -1 } : v)) };
    expect(kernelGraphProblems(early).join("\n")).toMatch(/k0 reads v0, live only -1\.\.-1/);
    const small = { ...kg, buffers: kg.buffers.map((b) => ({ ...b, bytes: 4 })) };
    expect(kernelGraphProblems(small).join("\n")).toMatch(/does not fit/);
    const y = kg.outputs[0]!.value;
    const short = { ...kg, values: kg.values.map((v) => (v.id === y ? { ...v, lastUse: v.def } : v)) };
    expect(kernelGraphProblems(short).join("\n")).toMatch(/output y \(v\d+\) is only live to/);
    const badArg = { ...kg, kernels: kg.kernels.map((k) => (k.id === 0 ? { ...k, ops: [{ ...k.ops[0]!, args: [{ op: 0 }] }] } : k)) };
    expect(kernelGraphProblems(badArg).join("\n")).toMatch(/bad operand/);
    expect(() => compileReference(small)).toThrow(/invalid kernel graph/);
  });
});
