/**
 * The generated WebAssembly (one function per fused kernel, `generated.ts`)
 * against the float64 reference: random fused graphs with their gradients,
 * random matmul kernels with operand views and epilogues at sizes off every
 * block and tile edge, and reductions of every shape; and each feature path
 * (relaxed SIMD's fused multiply-add, mul+add, the JavaScript fallback),
 * forced by option or environment, agrees with the others within float32
 * tolerance.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { TensorFeeds } from "../../runtime/backends/backend.js";
import { compileCpu, type CpuOptions } from "../../runtime/backends/cpu/index.js";
import { relaxedSimdAvailable } from "../../runtime/backends/cpu/features.js";
import { KC, MC, NC } from "../../runtime/backends/cpu/emit/matmul-kernel.js";
import { evaluate } from "../../runtime/backends/reference/evaluate.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { topoSort, type Graph } from "../../runtime/ir/node.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { awayFromKinks, graphSpec } from "../autodiff/random-graph.js";
import { randomGraph } from "../kernel/random.js";
import { expectOutputsAgree, numbers, relativeError } from "./compare.js";

/** Fused kernels generated whole, and all fused kernels other than single ops, over the checks so far. */
const tally = { whole: 0, fused: 0 };

/**
 * Runs `graph` fused on the generated path (`options`) and on the reference;
 * expects agreement and that generated code ran: a kernel is one generated
 * function, or (a shape the emitters do not print whole: a computed matmul
 * prologue, attention) is spread into generated functions of one op each.
 */
function expectGenerated(graph: Graph, feeds: TensorFeeds, tol: number, options: CpuOptions = {}): void {
  const kg = planKernelGraph(graph);
  const exe = compileCpu(kg, options);
  expect(exe.kernels).toMatch(/^generated/);
  kg.kernels.forEach((k, i) => {
    if (k.kind === undefined || k.kind === "single") return;
    const account = exe.account.kernels[i]!;
    expect(account, `k${k.id} (${k.kind})`).toMatch(/^(k\d+_\d+: (map|reduce|matmul)|spread into \d+ kernels of one op: )/);
    tally.fused++;
    if (!account.startsWith("spread")) tally.whole++;
  });
  const ref = compileReference(kg).run(feeds, {});
  expectOutputsAgree("cpu", graph.outputs.map((o) => o.name), exe.run(feeds, {}), ref, tol);
}

const data = (shape: readonly number[], seed: number) => ({ shape, data: numbers(sizeOf(shape), seed) });

describe("generated kernels", () => {
  it("agree with the reference on random fused graphs with their gradients (float32 tolerance)", () => {
    let checked = 0;
    fc.assert(
      fc.property(graphSpec, fc.nat(), (spec, extra) => {
        const { graph, feeds } = randomGraph(spec, extra);
        const roots = graph.outputs.map((o) => o.node);
        fc.pre(awayFromKinks(topoSort(roots), evaluate(roots, feeds), 1e-2));
        expectGenerated(graph, feeds, 2e-5);
        checked++;
      }),
      { numRuns: 150, seed: 20261207 },
    );
    expect(checked).toBeGreaterThan(60);
    // Most fused kernels are one function each (spreading is for the shapes the emitters do not print whole).
    expect(tally.whole / tally.fused).toBeGreaterThan(0.85);
  });

  it("agree on matmul kernels: operands transposed or broadcast, bias and activation epilogues, sizes across block and tile edges", () => {
    fc.assert(
      fc.property(
        // Rows past four blocks too: the driver's runs of blocks sharing B's slices end at RUN = 4 blocks.
        fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: MC - 3, max: MC + 5 }), fc.integer({ min: 4 * MC - 2, max: 5 * MC + 3 })),
        fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: KC - 2, max: KC + 3 })),
        fc.oneof(fc.integer({ min: 1, max: 11 }), fc.integer({ min: NC - 3, max: NC + 9 })),
        fc.integer({ min: 1, max: 2 }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom("none", "relu", "sigmoid", "residual"),
        fc.nat(),
        (m, k, n, batch, ta, tb, epilogue, seed) => {
          const b = new IRBuilder();
          const aShape = ta ? [batch, k, m] : [batch, m, k];
          const bShape = tb ? [n, k] : [k, n];
          const a = b.input("a", aShape);
          const w = b.input("w", bShape);
          const bias = b.input("bias", [n]);
          const av = ta ? b.transpose(a) : a;
          const wv = b.broadcastTo(tb ? b.transpose(w) : w, [batch, k, n]);
          let y = b.add(b.matmul(av, wv), b.broadcastTo(bias, [batch, m, n]));
          if (epilogue === "relu") y = b.relu(y);
          if (epilogue === "sigmoid") y = b.sigmoid(y);
          if (epilogue === "residual") y = b.add(y, b.input("r", [batch, m, n]));
          const feeds: TensorFeeds = { a: data(aShape, seed), w: data(bShape, seed + 1), bias: data([n], seed + 2), r: data([batch, m, n], seed + 3) };
          if (epilogue !== "residual") delete (feeds as Record<string, unknown>)["r"];
          [tally.whole, tally.fused] = [0, 0];
          expectGenerated(b.graph({ y }), feeds, 3e-6 * Math.sqrt(k));
          // The product with its views and epilogue is generated whole.
          expect(tally.whole).toBe(tally.fused);
        },
      ),
      { numRuns: 40, seed: 7 },
    );
  });

  it("agree on reductions over every choice of axes, rows off multiples of four (softmax, a loss)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 13 }), { minLength: 1, maxLength: 3 }), fc.nat(), fc.nat(), (shape, pick, seed) => {
        const axes = shape.map((_, i) => i).filter((i) => (pick >> i) & 1);
        const use = axes.length > 0 ? axes : [shape.length - 1];
        const b = new IRBuilder();
        const x = b.input("x", shape);
        const max = b.max(x, use, true);
        const e = b.exp(b.sub(x, b.broadcastTo(max, shape)));
        const soft = b.div(e, b.broadcastTo(b.sum(e, use, true), shape));
        const loss = b.sum(b.mul(soft, b.log(b.add(soft, b.constant(1)))));
        [tally.whole, tally.fused] = [0, 0];
        expectGenerated(b.graph({ soft, loss }), { x: data(shape, seed) }, 1e-5);
        expect(tally.whole).toBe(tally.fused);
      }),
      { numRuns: 60, seed: 11 },
    );
  });
});

describe("feature paths", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ["REPR_CPU_FMA", "REPR_CPU_SIMD", "REPR_CPU_GENERATED"]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  /** A two-layer step with a loss: matmuls (the path that differs), a reduction, elementwise ops. */
  function layers(): { graph: Graph; feeds: TensorFeeds } {
    const b = new IRBuilder();
    const x = b.input("x", [37, 70]);
    const w1 = b.input("w1", [70, 45]);
    const w2 = b.input("w2", [45, 19]);
    const h = b.tanh(b.matmul(x, w1));
    const y = b.matmul(h, w2);
    const loss = b.sum(b.mul(y, y));
    return { graph: b.graph({ y, loss }), feeds: { x: data([37, 70], 1), w1: data([70, 45], 2), w2: data([45, 19], 3) } };
  }

  it("relaxed SIMD's fused multiply-add, mul+add and the JavaScript fallback agree within float32 tolerance", () => {
    const { graph, feeds } = layers();
    const kg = planKernelGraph(graph);
    const ref = compileReference(kg).run(feeds, {});
    const paths: [CpuOptions, string][] = [
      [{}, relaxedSimdAvailable() ? "generated-fma" : "generated"],
      [{ fma: false }, "generated"],
      [{ generated: false }, "ops"],
      [{ simd: false }, "javascript"],
    ];
    const results = paths.map(([options, kernels]) => {
      const exe = compileCpu(kg, options);
      expect(exe.kernels).toBe(kernels);
      const out = exe.run(feeds, {});
      expectOutputsAgree(kernels, ["y", "loss"], out, ref, 2e-6);
      return Float32Array.from(out["y"]!.data);
    });
    for (const r of results.slice(1)) expect(relativeError(r, results[0]!)).toBeLessThan(2e-6);
  });

  it("relaxed SIMD is found on this engine (Node 20 switches it on at run time)", () => {
    expect(relaxedSimdAvailable()).toBe(true);
    expect(compileCpu(planKernelGraph(layers().graph)).kernels).toBe("generated-fma");
  });

  it("the environment forces each path: REPR_CPU_FMA=0, REPR_CPU_GENERATED=0, REPR_CPU_SIMD=0", () => {
    const kg = planKernelGraph(layers().graph);
    process.env["REPR_CPU_FMA"] = "0";
    expect(compileCpu(kg).kernels).toBe("generated");
    process.env["REPR_CPU_GENERATED"] = "0";
    expect(compileCpu(kg).kernels).toBe("ops");
    process.env["REPR_CPU_SIMD"] = "0";
    expect(compileCpu(kg).kernels).toBe("javascript");
  });
});
