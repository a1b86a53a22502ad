/**
 * The CPU backend agrees with the reference backend on random graphs of
 * primitives with their gradients (every op the autodiff rules emit), within
 * float32 tolerance; graphs with a value near a kink or tie (where float32
 * rounding could flip a comparison or a sort) are discarded.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluate } from "../../runtime/backends/reference/evaluate.js";
import { topoSort } from "../../runtime/ir/node.js";
import { awayFromKinks, graphSpec } from "../autodiff/random-graph.js";
import { randomGraph } from "../kernel/random.js";
import { expectAgree } from "./compare.js";

describe("cpu on random graphs", () => {
  it("agrees with reference on loss, gradients and intermediate values (float32 tolerance)", () => {
    let checked = 0;
    fc.assert(
      fc.property(graphSpec, fc.nat(), (spec, extra) => {
        const { graph, feeds } = randomGraph(spec, extra);
        const roots = graph.outputs.map((o) => o.node);
        fc.pre(awayFromKinks(topoSort(roots), evaluate(roots, feeds), 1e-2));
        expectAgree(graph, feeds, 2e-5);
        checked++;
      }),
      { numRuns: 200, seed: 20261127 },
    );
    expect(checked).toBeGreaterThan(80);
  });
});
