/**
 * Tied weights (spec/paths.md): `tied(e)` computes with the transpose of
 * e's weight, the same tensor, so the gradient of e's weight is the sum of
 * what both uses send. Checked against central finite differences in float64
 * as fast-check properties over random widths, for a tied autoencoder
 * (dense) and a tied output layer (embedding).
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { lowerCheckedModel } from "../../compiler/lower/index.js";
import { feedsFor, modelOf, runLowered } from "../lower/harness.js";
import { checkLoweredGradients, expectGradientsMatch } from "./helpers.js";

describe("tied weights", () => {
  it("a tied autoencoder: dense and its transpose share one weight; gradients match finite differences", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 99 }), (d, h, salt) => {
        const lowered = lowerCheckedModel(
          modelOf(`model T {\n  input x: f32[${d}]\n  encoder f = dense(${h}) -> tanh\n  decoder g = tied(f.0) -> sigmoid\n  loss l = mse(g(f(x)), x)\n}\n`),
          { batch: 3, mode: "train" },
        );
        // The decoder owns nothing: f's weight and bias are the only tensors.
        expect(lowered.params.map((p) => p.name)).toEqual(["f.0.weight", "f.0.bias"]);
        expectGradientsMatch(checkLoweredGradients(lowered, feedsFor(lowered, {}, (k) => (k + salt) % 3), 5, salt));
      }),
      { numRuns: 10 },
    );
  });

  it("a language model's output tied to its embedding: scores are h·Eᵀ; gradients match finite differences", () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 7 }), fc.integer({ min: 2, max: 4 }), fc.integer({ min: 0, max: 99 }), (vocab, dim, salt) => {
        const src = `model L {\n  input t: tokens(length: 4, vocab: ${vocab})\n  input y: tokens(length: 4, vocab: ${vocab})\n  part emb = embedding(vocab: ${vocab}, dim: ${dim})\n  encoder f = emb -> tanh\n  head out = tied(emb)\n  loss l = cross_entropy(out(f(t)), y)\n  output out(f(t))\n}\n`;
        const lowered = lowerCheckedModel(modelOf(src), { batch: 2, mode: "train" });
        const feeds = feedsFor(lowered, {}, (k, name) => (k * 7 + salt + name.length) % vocab);
        expectGradientsMatch(checkLoweredGradients(lowered, feeds, 6, salt));
        // The forward pass: out's scores are tanh(E[t])·Eᵀ.
        const out = runLowered(lowered, feeds)["prediction"]!;
        const E = feeds["emb.weight"]!.data;
        const [b, l] = [1, 2];
        const id = feeds["t"]!.data[b * 4 + l]!;
        const hidden = Array.from({ length: dim }, (_, j) => Math.tanh(E[id * dim + j]!));
        for (let v = 0; v < vocab; v++) {
          const expected = hidden.reduce((s, hj, j) => s + hj * E[v * dim + j]!, 0);
          expect(Math.abs(out.data[(b * 4 + l) * vocab + v]! - expected)).toBeLessThan(1e-12);
        }
      }),
      { numRuns: 10 },
    );
  });
});
