/**
 * A convolution with its pool fused on the CPU (`emit/conv-pool-plan.ts`,
 * `emit/conv-pool-kernel.ts`): conv2d, a channel bias, an activation, then a
 * max or mean pool over s×s windows at stride s, with and without the
 * gradients that read the activation. Where the windows tile the image, the
 * filters come in fours and a band of s rows fits a block, the three kernels
 * run as one (the account says so, and the map and pool run inside the
 * convolution); elsewhere they run as planned. Either way the results agree
 * with the float64 reference within float32 tolerance, and 1 and 2 threads
 * give the same bits.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { conv2d, pool } from "../../compiler/lower/layers-conv.js";
import { compileCpu, CPU_PLAN } from "../../runtime/backends/cpu/index.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import "../../runtime/node.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { expectOutputsAgree, numberFeeds, outputBits } from "./compare.js";

interface PoolCase {
  readonly batch: number;
  readonly cin: number;
  readonly cout: number;
  readonly h: number;
  readonly w: number;
  readonly k: number;
  readonly s: number;
  readonly kind: "max" | "avg";
  readonly activation: "relu" | "tanh";
  readonly gradients: boolean;
}

const poolCase: fc.Arbitrary<PoolCase> = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    cin: fc.integer({ min: 1, max: 4 }),
    cout: fc.constantFrom(4, 8, 12, 6),
    h: fc.integer({ min: 2, max: 12 }),
    w: fc.integer({ min: 2, max: 12 }),
    k: fc.constantFrom(1, 3),
    s: fc.constantFrom(2, 2, 3, 4),
    kind: fc.constantFrom("max" as const, "avg" as const),
    activation: fc.constantFrom("relu" as const, "tanh" as const),
    gradients: fc.boolean(),
  })
  // A window must fit the image; most images are whole windows (else the kernels run as planned).
  .chain((c) =>
    fc.constantFrom(true, true, false).map((tiled) => (tiled ? { ...c, h: c.s * Math.ceil(c.h / c.s), w: c.s * Math.ceil(c.w / c.s) } : { ...c, h: Math.max(c.h, c.s), w: Math.max(c.w, c.s) })),
  );

/** Whether the fusion should take the case: windows tile the image, filters in fours, a band of s rows within a block (64 rows). */
const fusable = (c: PoolCase): boolean => c.h % c.s === 0 && c.w % c.s === 0 && c.cout % 4 === 0 && c.s * c.w <= 64;

function poolGraph(c: PoolCase) {
  const b = new IRBuilder();
  const x = b.input("x", [c.batch, c.cin, c.h, c.w]);
  const w = b.input("w", [c.cout, c.cin, c.k, c.k]);
  const bias = b.input("bias", [c.cout]);
  const pre = b.add(conv2d(b, x, w, 1, "same"), b.reshape(bias, [c.cout, 1, 1]));
  const y = pool(b, c.activation === "relu" ? b.relu(pre) : b.tanh(pre), c.kind, c.s, c.s);
  const dy = b.input("dy", y.shape);
  const gradients = c.gradients ? grad(b, b.sum(b.mul(y, dy)), [x, w, bias]) : [];
  const outputs = Object.fromEntries(gradients.map((g, i) => [["dx", "dw", "dbias"][i]!, g!]));
  const graph = b.graph({ y, ...outputs });
  const feeds = numberFeeds({ x, w, bias, dy }, c.h + 3 * c.w, 5);
  return { graph, feeds, names: ["y", ...Object.keys(outputs)] };
}

describe("a convolution with its pool fused on the CPU", () => {
  it("agrees with the reference on random shapes, fused where the windows tile the image; 1 and 2 threads give the same bits", () => {
    let fused = 0;
    let cases = 0;
    fc.assert(
      fc.property(poolCase, (c) => {
        const { graph, feeds, names } = poolGraph(c);
        const kg = planKernelGraph(graph, CPU_PLAN);
        const one = compileCpu(kg, { threads: 1 });
        expect(one.kernels).toMatch(/^generated/);
        const accounts = one.account.kernels.join("\n");
        const taken = /pool \d×\d of k\d+'s map/.test(accounts);
        expect(taken, `${JSON.stringify(c)}\n${accounts}`).toBe(fusable(c));
        if (taken) {
          expect(accounts).toContain(`${c.kind === "max" ? "max" : "sum"} pool ${c.s}×${c.s}`);
          // The activation is written only where the gradients read it.
          expect(accounts).toMatch(c.gradients ? /[1-9] of its results written/ : /0 of its results written/);
          expect(accounts.match(/runs inside k\d+'s convolution/g)).toHaveLength(2);
          fused++;
        }
        const got = one.run(feeds, {});
        expectOutputsAgree("cpu", names, got, compileReference(kg).run(feeds, {}), 2e-5);
        expect(outputBits(compileCpu(kg, { threads: 2 }).run(feeds, {}))).toEqual(outputBits(got));
        cases++;
      }),
      { numRuns: 60, seed: 31 },
    );
    expect(cases).toBe(60);
    expect(fused).toBeGreaterThan(20);
  });

  it("leaves the kernels as planned where an op after the pool reads another input (a skip connection), and still agrees", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 3, 8, 8]);
    const w = b.input("w", [4, 3, 3, 3]);
    // Read through a reshape, as a flattened skip connection is.
    const skip = b.input("skip", [2, 64]);
    const y = b.add(pool(b, b.relu(conv2d(b, x, w, 1, "same")), "avg", 2, 2), b.reshape(skip, [2, 4, 4, 4]));
    const kg = planKernelGraph(b.graph({ y }), CPU_PLAN);
    const exe = compileCpu(kg, { threads: 2 });
    // The skip connection joined the pool's kernel, after its fold: not a read the fusion takes.
    expect(kg.kernels.find((k) => k.kind === "reduce")!.inputs.length).toBeGreaterThan(1);
    expect(exe.account.kernels.join("\n")).not.toMatch(/pool \d×\d of k\d+'s map/);
    const feeds = numberFeeds({ x, w, skip }, 1, 1);
    expectOutputsAgree("cpu", ["y"], exe.run(feeds, {}), compileReference(kg).run(feeds, {}), 2e-5);
  });

  it("takes the colorization encoder's shapes: 28×28 and 14×14 images in bands of 56 rows, writing the activation for the backward pass", () => {
    for (const [h, cin, cout] of [
      [28, 1, 32],
      [14, 32, 64],
    ] as const) {
      const c: PoolCase = { batch: 2, cin, cout, h, w: h, k: 3, s: 2, kind: "max", activation: "relu", gradients: true };
      const { graph, feeds, names } = poolGraph(c);
      const kg = planKernelGraph(graph, CPU_PLAN);
      const exe = compileCpu(kg, { threads: 2 });
      expect(exe.account.kernels.join("\n")).toMatch(/blocks 56×\d+.*max pool 2×2 of k\d+'s map \(k\d+\) in bands of 2 image rows, [1-9] of its results written/);
      expectOutputsAgree("cpu", names, exe.run(feeds, {}), compileReference(kg).run(feeds, {}), 2e-5);
    }
  });
});
