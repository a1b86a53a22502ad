/**
 * Gradients of maths on values (spec/layers.md, "Maths on values") against
 * central finite differences in float64: random programs (fast-check) of an
 * elementwise layer (abs, log, exp, sqrt, clamp) and a reduction (mean, sum,
 * var) over random axes — of the example, of the batch, or all — at random
 * batch sizes and shapes, in a loss of values; and the KL-sparsity loss of a
 * sparse autoencoder.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { feedsFor, lowerSrc } from "../lower/harness.js";
import { checkLoweredGradients, expectGradientsMatch } from "./helpers.js";

/** Elementwise layers, each on values where it is smooth: log and sqrt after a sigmoid. */
const ELEMENTWISE = ["abs(h)", "log(sigmoid(h))", "exp(h)", "sqrt(sigmoid(h))", "clamp(h, min: -0.3, max: 0.4)", "clamp(h, max: 0.2)"];

const program = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    dims: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 2 }),
    fn: fc.constantFrom("mean", "sum", "var"),
    layer: fc.constantFrom(...ELEMENTWISE),
    // Which axes the inner reduction takes: none given (all), the batch, the last axis, or both.
    axes: fc.constantFrom("all", "batch", "last", "both"),
  })
  .filter((p) => !(p.fn === "var" && p.axes === "batch" && p.batch === 1));

function source(p: { dims: number[]; fn: string; layer: string; axes: string }): string {
  const axis = { all: "", batch: ", axis: batch", last: ", axis: -1", both: ", axis: [batch, -1]" }[p.axes];
  const width = p.dims[p.dims.length - 1]!;
  return `model M {
  input x: f32[${p.dims.join(", ")}]
  encoder f = dense(${width}) -> tanh
  let h = f(x)
  let r = ${p.fn}(${p.layer}${axis})
  loss l = mean(r * r) + sum(${p.fn}(h)) * 0.5
}
`;
}

describe("maths on values: gradients against finite differences", () => {
  it("random elementwise layers and reductions over random axes, batch sizes and shapes", () => {
    let compared = 0;
    fc.assert(
      fc.property(program, (p) => {
        const lowered = lowerSrc(source(p), { batch: p.batch, prediction: false });
        const report = checkLoweredGradients(lowered, feedsFor(lowered), 4, 3);
        // A kink of abs or clamp near a sampled coordinate is skipped; one case may skip them all.
        if (report.checked.length > 0) expectGradientsMatch(report);
        compared += report.checked.length;
      }),
      { numRuns: 30, seed: 15 },
    );
    expect(compared).toBeGreaterThan(60);
  });

  it("a statistic of the batch through a layer, met with every example", () => {
    const lowered = lowerSrc(
      `model M {
  input x: f32[4]
  encoder f = dense(4) -> tanh
  let centred = f(x) - mean(f(x), axis: batch)
  let scale = sqrt(var(f(x), axis: batch) + 0.1)
  loss l = mean(exp(centred / scale) * softmax(scale)) + var(x) * 0
}
`,
      { batch: 3, prediction: false },
    );
    expectGradientsMatch(checkLoweredGradients(lowered, feedsFor(lowered), 6, 5), 4);
  });

  it("the KL-sparsity loss of a sparse autoencoder", () => {
    const lowered = lowerSrc(
      `model Sparse {
  input x: f32[6]
  encoder f = dense(5) -> sigmoid
  decoder g = dense(6) -> sigmoid
  let rate = mean(f(x), axis: batch)
  let divergence = 0.05 * log(0.05 / rate) + 0.95 * log(0.95 / (1 - rate))
  loss total = bce(g(f(x)), sigmoid(x)) + 3 * sum(divergence)
}
`,
      { batch: 4, prediction: false },
    );
    expectGradientsMatch(checkLoweredGradients(lowered, feedsFor(lowered), 6, 7), 8);
  });
});
