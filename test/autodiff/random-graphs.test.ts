/**
 * The central property of autodiff: for random graphs of primitives with
 * random shapes (broadcasting included) and random values away from kinks,
 * the gradients `grad` builds match finite differences in float64; and
 * differentiating with respect to fewer leaves gives the same gradients for
 * those leaves while building no more nodes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { evaluate } from "../../runtime/backends/reference/evaluate.js";
import { topoSort } from "../../runtime/ir/node.js";
import { printNodes } from "../../runtime/ir/print.js";
import { verify } from "../../runtime/ir/verify.js";
import { checkGradients, FD_STEP, randomFeeds, rng } from "./fd.js";
import { awayFromKinks, buildGraph, graphSpec } from "./random-graph.js";

/** Kinks closer than this (to a point within 2h of the data) could fool the finite differences. */
const MARGIN = 1e-2;

describe("autodiff on random graphs", () => {
  it("matches finite differences (1e-6 relative)", () => {
    let checked = 0;
    fc.assert(
      fc.property(graphSpec, (spec) => {
        const { b, loss, leaves } = buildGraph(spec);
        const feeds = randomFeeds(leaves, rng(spec.seed ^ 0x5eed));
        const forward = topoSort([loss]);
        fc.pre(awayFromKinks(forward, evaluate([loss], feeds), MARGIN));
        const r = checkGradients(b, loss, leaves, feeds);
        if (!(r.maxError <= 1e-6 * r.scale)) {
          throw new Error(`${r.worst} (error ${r.maxError}, scale ${r.scale}, h ${FD_STEP})\n${printNodes([loss])}`);
        }
        expect(verify(b.nodes)).toEqual([]);
        checked++;
      }),
      { numRuns: 300, seed: 20240611 },
    );
    // Discarded graphs must not crowd out the checked ones.
    expect(checked).toBeGreaterThan(150);
  });

  it("prunes: gradients with respect to a subset equal the full ones, from fewer nodes", () => {
    fc.assert(
      fc.property(graphSpec, fc.nat(), (spec, pick) => {
        const full = buildGraph(spec);
        const feeds = randomFeeds(full.leaves, rng(spec.seed));
        const all = grad(full.b, full.loss, full.leaves);
        const fullSize = topoSort(all).length;

        const part = buildGraph(spec);
        const subset = part.leaves.filter((_, i) => ((pick >> i) & 1) === 1);
        const some = grad(part.b, part.loss, subset);
        expect(topoSort(some).length).toBeLessThanOrEqual(fullSize);

        const valuesAll = evaluate(all, feeds);
        const valuesSome = evaluate(some, feeds);
        subset.forEach((leaf, k) => {
          const i = part.leaves.indexOf(leaf);
          const expected = valuesAll.get(all[i]!)!.data;
          const actual = valuesSome.get(some[k]!)!.data;
          actual.forEach((e, j) => {
            const f = expected[j]!;
            if (!(Math.abs(e - f) <= 1e-12 * (1 + Math.abs(f))) && !(Number.isNaN(e) && Number.isNaN(f))) {
              throw new Error(`x${i}[${j}]: ${e} with pruning, ${f} without`);
            }
          });
        });
      }),
      { numRuns: 60, seed: 7 },
    );
  });
});
