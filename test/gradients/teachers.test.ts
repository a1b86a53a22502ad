/**
 * Gradients with stop_gradient and momentum teachers (spec/teachers.md),
 * against central finite differences in float64 on the reference backend,
 * as fast-check properties over random widths and data.
 *
 * `stop_gradient(v)` makes the loss a function of the parameters with `v`
 * held fixed: autodiff of the model must equal the finite differences of
 * the same model with `v` fed as a constant input. A teacher's copies are
 * not trained, but a gradient still flows through the teacher to what it is
 * applied to, as through a frozen part.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { grad } from "../../compiler/autodiff/grad.js";
import { lowerCheckedModel } from "../../compiler/lower/index.js";
import { evaluate } from "../../runtime/backends/reference/evaluate.js";
import { feedsFor, modelOf, runLowered } from "../lower/harness.js";
import { checkLoweredGradients, expectGradientsMatch } from "./helpers.js";

const widths = fc.record({ d: fc.integer({ min: 2, max: 5 }), h: fc.integer({ min: 2, max: 4 }), salt: fc.integer({ min: 0, max: 1000 }) });

describe("stop_gradient", () => {
  it("SimSiam's loss: autodiff equals the finite differences of the loss with the stopped side held fixed", () => {
    fc.assert(
      fc.property(widths, ({ d, h, salt }) => {
        const stopped = modelOf(`model S {
  input a: f32[${d}]
  input b: f32[${d}]
  encoder f = dense(${h}) -> tanh
  part q = dense(${h})
  loss l = mse(q(f(a)), stop_gradient(f(b)))
  output f(b)
}
`);
        const lowered = lowerCheckedModel(stopped, { batch: 3, mode: "train" });
        const feeds = feedsFor(lowered, {}, (k) => (k + salt) % 3);
        for (const name of ["a", "b"]) feeds[name] = { ...feeds[name]!, data: feeds[name]!.data.map((v, i) => Math.sin(v * 3 + salt + i)) };
        const fixed = runLowered(lowered, feeds)["prediction"]!;
        // The same loss with the stopped value fed as a constant.
        const held = lowerCheckedModel(
          modelOf(`model H {\n  input a: f32[${d}]\n  input c: f32[${h}]\n  encoder f = dense(${h}) -> tanh\n  part q = dense(${h})\n  loss l = mse(q(f(a)), c)\n}\n`),
          { batch: 3, mode: "train" },
        );
        const heldFeeds = { ...feeds, c: fixed };
        const report = checkLoweredGradients(held, heldFeeds, 4, salt);
        expectGradientsMatch(report);
        // Autodiff of the model with stop_gradient gives the held model's gradients, which match finite differences.
        const names = ["f.0.weight", "f.0.bias", "q.weight", "q.bias"];
        const gradsOf = (l: typeof lowered, f: typeof feeds) => {
          const g = grad(l.builder, l.outputs.loss!, names.map((n) => l.builder.leaf(n)!));
          const values = evaluate(g, f);
          return g.map((n) => [...values.get(n)!.data]);
        };
        const ours = gradsOf(lowered, feeds);
        const theirs = gradsOf(held, heldFeeds);
        ours.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - theirs[i]![j]!)).toBeLessThan(1e-12 * (1 + Math.abs(v)))));
      }),
      { numRuns: 8 },
    );
  });
});

describe("momentum teachers", () => {
  it("the gradient flows through the teacher to what it is applied to, and its copies take none", () => {
    fc.assert(
      fc.property(widths, ({ d, h, salt }) => {
        const lowered = lowerCheckedModel(
          modelOf(`model T {
  input x: f32[${d}]
  input y: f32[${d}]
  encoder f = dense(${h}) -> tanh
  part g = dense(${h})
  part r = dense(${d}) -> tanh
  part t = ema(f -> g, momentum: 0.5)
  loss l = mse(g(f(x)), t(r(y)))
}
`),
          { batch: 2, mode: "train" },
        );
        const trained = lowered.params.filter((p) => p.trainable).map((p) => p.part);
        expect(new Set(trained)).toEqual(new Set(["f", "g", "r"]));
        const report = checkLoweredGradients(lowered, feedsFor(lowered, {}, (k) => (k + salt) % 3), 4, salt + 1);
        expectGradientsMatch(report);
        // r's gradient comes only through the teacher's copies.
        expect(report.checked.some((c) => c.param.startsWith("r.") && c.autodiff !== 0)).toBe(true);
      }),
      { numRuns: 8 },
    );
  });
});
