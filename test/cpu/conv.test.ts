/**
 * Convolutions on the CPU's generated kernels as implicit GEMMs: the matmul
 * of a `conv` kernel packs its windows operand straight from the image
 * (`emit/window-plan.ts`, `emit/window-pack.ts`: padding as zeros, stride,
 * k×k windows, channels), so no window is written to memory. Random shapes
 * (batch, channels, height, width, k ∈ {1, 3, 5}, stride 1 or 2, `same` or
 * `valid`), forward and the gradients with respect to image and weight, of
 * `conv2d` and `conv_transpose2d`, agree with the float64 reference within
 * float32 tolerance and give the same bits on 1 and 2 threads.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { conv2d, convTranspose2d, pool } from "../../compiler/lower/layers-conv.js";
import { compileCpu } from "../../runtime/backends/cpu/index.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
// Worker threads, as users get them: the Node entry installs them.
import "../../runtime/node.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { KernelGraph } from "../../runtime/kernel/graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { expectOutputsAgree, numberFeeds, outputBits } from "./compare.js";

interface ConvCase {
  readonly batch: number;
  readonly cin: number;
  readonly cout: number;
  readonly h: number;
  readonly w: number;
  readonly k: number;
  readonly stride: number;
  readonly padding: "same" | "valid";
  readonly transposed: boolean;
  readonly pooled: boolean;
}

const convCase: fc.Arbitrary<ConvCase> = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    cin: fc.integer({ min: 1, max: 5 }),
    cout: fc.integer({ min: 1, max: 6 }),
    h: fc.integer({ min: 1, max: 11 }),
    w: fc.integer({ min: 1, max: 11 }),
    k: fc.constantFrom(1, 3, 5),
    stride: fc.constantFrom(1, 2),
    padding: fc.constantFrom("same" as const, "valid" as const),
    transposed: fc.boolean(),
    pooled: fc.boolean(),
  })
  // A `valid` window must fit the image.
  .map((c) => (c.padding === "valid" && !c.transposed ? { ...c, h: Math.max(c.h, c.k), w: Math.max(c.w, c.k) } : c));

/** The graph of a case: y = relu(conv(x, w)) (then a 2×2 max pool), and the gradients of Σ y · dy with respect to x and w. */
function convGraph(c: ConvCase) {
  const b = new IRBuilder();
  const x = b.input("x", [c.batch, c.cin, c.h, c.w]);
  const w = b.input("w", c.transposed ? [c.cin, c.cout, c.k, c.k] : [c.cout, c.cin, c.k, c.k]);
  let y = b.relu(c.transposed ? convTranspose2d(b, x, w, c.stride, c.padding) : conv2d(b, x, w, c.stride, c.padding));
  if (c.pooled && y.shape[2]! >= 2 && y.shape[3]! >= 2) y = pool(b, y, "max", 2, 2);
  const dy = b.input("dy", y.shape);
  const [dx, dw] = grad(b, b.sum(b.mul(y, dy)), [x, w]);
  const graph = b.graph({ y, dx: dx!, dw: dw! });
  const feeds = numberFeeds({ x, w, dy }, c.h + c.w, 7);
  return { graph, feeds };
}

/** Every matmul operand that reads windows (or any view that is no strided one) is read in place through a table. */
function expectWindowsInPlace(kg: KernelGraph, accounts: readonly string[]): number {
  let tables = 0;
  kg.kernels.forEach((k, i) => {
    if (k.kind !== "conv") return;
    const account = accounts[i]!;
    expect(account, `k${k.id}`).not.toMatch(/gathered/);
    tables += (account.match(/read in place through a table/g) ?? []).length;
  });
  return tables;
}

describe("implicit-GEMM convolution on the CPU", () => {
  it("agrees with the reference, forward and gradients, on random shapes; 1 and 2 threads give the same bits", () => {
    let inPlace = 0;
    let cases = 0;
    fc.assert(
      fc.property(convCase, (c) => {
        const { graph, feeds } = convGraph(c);
        const kg = planKernelGraph(graph);
        const one = compileCpu(kg, { threads: 1 });
        expect(one.kernels).toMatch(/^generated/);
        inPlace += expectWindowsInPlace(kg, one.account.kernels);
        const want = compileReference(kg).run(feeds, {});
        const got = one.run(feeds, {});
        expectOutputsAgree("cpu", ["y", "dx", "dw"], got, want, 2e-5);
        const gotBits = outputBits(got);
        const two = compileCpu(kg, { threads: 2 });
        expect(outputBits(two.run(feeds, {}))).toEqual(gotBits);
        cases++;
      }),
      { numRuns: 40, seed: 12 },
    );
    expect(cases).toBe(40);
    // The windows path ran, not only strided reads.
    expect(inPlace).toBeGreaterThan(20);
  });

  it("packs a 5×5 stride-2 `same` convolution's windows in place, with the pad's zeros as guards", () => {
    const c: ConvCase = { batch: 2, cin: 3, cout: 4, h: 13, w: 10, k: 5, stride: 2, padding: "same", transposed: false, pooled: false };
    const { graph, feeds } = convGraph(c);
    const kg = planKernelGraph(graph);
    const exe = compileCpu(kg, { threads: 1 });
    const forward = kg.kernels.findIndex((k) => k.kind === "conv");
    expect(forward, kg.kernels.map((k) => k.kind).join(" ")).toBeGreaterThanOrEqual(0);
    expect(exe.account.kernels[forward]).toMatch(/A read in place through a table of 75 rows over k \(2 guards\)/);
    expectOutputsAgree("cpu", ["y", "dx", "dw"], exe.run(feeds, {}), compileReference(kg).run(feeds, {}), 2e-5);
  });
});
