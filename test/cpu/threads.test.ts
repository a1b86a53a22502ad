/**
 * Threads (`threads.ts`): generated kernels split among workers over one
 * shared WebAssembly memory give bit-identical results for N = 1, 2 and 3 —
 * on an example's training step and on random graphs of matmuls and
 * reductions big enough to be split — and agree with the reference. Workers
 * come from the Node entry, which installs them; the universal entry has none.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildModelPlan } from "../../compiler/plan/index.js";
import type { TensorFeeds, TensorValue } from "../../runtime/backends/backend.js";
import { compileCpu } from "../../runtime/backends/cpu/index.js";
// Worker threads, as users get them: the Node entry installs them (runtime/backends/cpu/node-threads.ts).
import "../../runtime/node.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import { instantiateBatchGraph } from "../../runtime/ir/batch-graph.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import type { KernelGraph, NamedValue } from "../../runtime/kernel/graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { examplePrograms } from "../gradients/helpers.js";
import { expectOutputsAgree, numbers, outputBits } from "./compare.js";

/** Kernel calls split among threads, over the checks so far. */
let splits = 0;

/** Runs `kg` on 1, 2 and 3 threads; expects the same bits from each, and returns the 1-thread outputs. */
function expectSameBits(kg: KernelGraph, feeds: TensorFeeds, params: TensorFeeds): Record<string, TensorValue> {
  const one = compileCpu(kg, { threads: 1 });
  const want = outputBits(one.run(feeds, params));
  for (const threads of [2, 3]) {
    const exe = compileCpu(kg, { threads });
    expect(exe.threads).toBe(threads);
    const got = outputBits(exe.run(feeds, params));
    splits += exe.splitCalls ?? 0;
    for (const name of Object.keys(want)) expect(got[name], `${name} on ${threads} threads`).toEqual(want[name]);
  }
  return one.run(feeds, params);
}

const random = (list: readonly NamedValue[], seed: number): TensorFeeds =>
  Object.fromEntries(list.map((n, i) => [n.name, { shape: n.shape, data: n.dtype === "f32" ? numbers(sizeOf(n.shape), seed + i, -1, 1) : new Int32Array(sizeOf(n.shape)) }]));

describe("threads", () => {
  it("the autoencoder's training step is bit for bit the same on 1, 2 and 3 threads", () => {
    const ae = examplePrograms().find((p) => p.file === "mnist-autoencoder.repr")!;
    const step = buildModelPlan(ae.program, ae.program.models[0]!.name, {}).training[0]!;
    const kg = planKernelGraph(instantiateBatchGraph(step.graph, 64));
    splits = 0;
    expectSameBits(kg, random(kg.inputs, 1), random(kg.params, 100));
    expect(splits).toBeGreaterThan(10);
  });

  it("random matmul, softmax and column-sum graphs big enough to split: the same bits on 1, 2 and 3 threads, and the reference's values", () => {
    splits = 0;
    fc.assert(
      fc.property(fc.integer({ min: 33, max: 300 }), fc.integer({ min: 1, max: 90 }), fc.integer({ min: 5, max: 300 }), fc.nat(), (m, k, n, seed) => {
        const b = new IRBuilder();
        const x = b.input("x", [m, k]);
        const w = b.input("w", [k, n]);
        const y = b.tanh(b.matmul(x, w));
        const e = b.exp(b.sub(y, b.broadcastTo(b.max(y, 1, true), [m, n])));
        const soft = b.div(e, b.broadcastTo(b.sum(e, 1, true), [m, n]));
        const columns = b.sum(soft, 0);
        const loss = b.sum(b.mul(y, y));
        const kg = planKernelGraph(b.graph({ y, soft, columns, loss }));
        const feeds = { x: { shape: [m, k], data: numbers(m * k, seed, -1, 1) }, w: { shape: [k, n], data: numbers(k * n, seed + 1, -1, 1) } };
        const got = expectSameBits(kg, feeds, {});
        expectOutputsAgree("cpu", ["y", "soft", "columns", "loss"], got, compileReference(kg).run(feeds, {}), 1e-5);
      }),
      { numRuns: 12, seed: 3 },
    );
    expect(splits).toBeGreaterThan(12);
  });

  it("come from the Node entry: a process that loads only the universal runtime runs kernels on the calling thread", () => {
    const url = (f: string) => JSON.stringify(pathToFileURL(join(import.meta.dirname, "..", "..", f)).href);
    const threadsWith = (entry: string) => {
      const code = [
        `const { compileCpu } = await import(${url("runtime/backends/cpu/index.ts")});`,
        `await import(${url(entry)});`,
        `const { IRBuilder } = await import(${url("runtime/ir/builder.ts")});`,
        `const { planKernelGraph } = await import(${url("runtime/kernel/plan.ts")});`,
        `const b = new IRBuilder(); const x = b.input("x", [64, 64]);`,
        `console.log(compileCpu(planKernelGraph(b.graph({ y: b.matmul(x, x) })), { threads: 2 }).threads);`,
      ].join("\n");
      const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { encoding: "utf8", timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      return Number(r.stdout.trim());
    };
    expect(threadsWith("runtime/index.ts")).toBe(1);
    expect(threadsWith("runtime/node.ts")).toBe(2);
  });
});
