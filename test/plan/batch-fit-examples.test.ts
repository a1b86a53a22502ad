/**
 * Batch graphs of real models (compiler/plan/batch-fit.ts): every function
 * and training step of every example model and every model of the spec's
 * examples is fitted once, instantiated at B = 1, 2, 5, 32 and a size
 * fast-check draws, and compared with the model lowered directly at that B.
 * Both are planned and run on the CPU backend with the same inputs and
 * params: every input, param and output has the same name and type, and
 * every output the same bits.
 *
 * At B = 1 the direct lowering skips what is a no-op only there (an expand
 * from [1, D] to [B, D], a reshape to the same shape), and its gradient then
 * has no sum over an axis of one element; the instantiated graph keeps those
 * copies and one-element sums. Both are exact, so the bits match there too.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fitBatchGraph } from "../../compiler/plan/batch-fit.js";
import { batchGraphFromJson, batchGraphToJson, instantiateBatchGraph, type BatchGraph } from "../../runtime/ir/batch-graph.js";
import { verifyGraph } from "../../runtime/ir/verify.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import type { KernelGraph, NamedValue } from "../../runtime/kernel/graph.js";
import { compileCpu } from "../../runtime/backends/cpu/index.js";
import type { TensorFeed } from "../../runtime/backends/backend.js";
import { exampleCases, inputFeeds, paramFeeds, specCases, type BatchCase } from "./batch-cases.js";

/** The batch sizes every graph is compared at, besides one fast-check draws. */
const SIZES = [1, 2, 5, 32];

function signature(list: readonly NamedValue[]): string[] {
  return list.map((v) => `${v.name}: ${v.dtype}[${v.shape.join(", ")}]`).sort();
}

/** Plans and runs the instantiated and the direct graph at `batch`; expects the same interface and bits. */
function compareAt(c: BatchCase, fitted: BatchGraph, batch: number, cache: Map<string, TensorFeed>): void {
  const instantiated = instantiateBatchGraph(fitted, batch);
  expect(verifyGraph(instantiated), `${c.label} at B = ${batch}`).toEqual([]);
  const ours: KernelGraph = planKernelGraph(instantiated);
  const direct: KernelGraph = planKernelGraph(c.lowerAt(batch));
  expect(signature(ours.inputs), "inputs").toEqual(signature(direct.inputs));
  expect(signature(ours.params), "params").toEqual(signature(direct.params));
  expect(ours.outputs.map((o) => `${o.name}: ${o.dtype}[${o.shape.join(", ")}]`), "outputs").toEqual(
    direct.outputs.map((o) => `${o.name}: ${o.dtype}[${o.shape.join(", ")}]`),
  );
  const feeds = inputFeeds(direct.inputs, c.model);
  const params = paramFeeds(direct.params, cache);
  const got = compileCpu(ours).run(feeds, params);
  const want = compileCpu(direct).run(feeds, params);
  for (const o of direct.outputs) {
    const [g, w] = [got[o.name]!.data, want[o.name]!.data];
    for (let k = 0; k < w.length; k++) {
      const same = Object.is(g[k], w[k]);
      if (!same) expect.fail(`${c.label} at B = ${batch}, output ${o.name}[${k}]: instantiated ${g[k]}, direct ${w[k]}`);
    }
  }
}

function suite(title: string, cases: () => BatchCase[]): void {
  describe(title, () => {
    const list = cases();
    it("has graphs to compare", () => {
      expect(list.length).toBeGreaterThan(0);
    });
    for (const c of list) {
      it(c.label, () => {
        const fitted = fitBatchGraph(c.lowerAt, c.label);
        // What a plan would store: the graph after a JSON round trip.
        const stored = batchGraphFromJson(batchGraphToJson(fitted));
        const cache = new Map<string, TensorFeed>();
        for (const batch of SIZES) compareAt(c, stored, batch, cache);
        fc.assert(
          fc.property(fc.integer({ min: 1, max: 48 }), (batch) => compareAt(c, stored, batch, cache)),
          { numRuns: 1 },
        );
      });
    }
  });
}

suite("the example models' batch graphs equal direct lowering", exampleCases);
suite("the spec models' batch graphs equal direct lowering", specCases);
