/**
 * Maths on values against plain loops: the elementwise layers `abs`, `log`,
 * `exp`, `sqrt`, `clamp`, written with call syntax or piped, and the
 * reductions `mean`, `sum`, `var` over axes of an example, over the batch,
 * and over everything; a statistic of the batch met with every example; a
 * layer applied to a statistic of the batch; a loss of values alone.
 */
import { describe, expect, it } from "vitest";
import { expectClose, feedsFor, lowerSrc, runLowered, type T } from "./harness.js";

/** Runs model `src` (inputs `x: f32[3, 4]`, batch 2) and returns its value `v` and the feeds. */
function valueOf(expr: string, input = "f32[3, 4]", batch = 2, mode: "train" | "eval" = "eval"): { v: T; x: T } {
  const src = `model M {\n  input x: ${input}\n  let v = ${expr}\n  loss l = mean(x)\n}\n`;
  const lowered = lowerSrc(src, { batch, mode, values: ["v"], prediction: false });
  const feeds = feedsFor(lowered);
  const out = runLowered(lowered, feeds);
  return { v: out["value/v"]!, x: feeds["x"]! };
}

/** x[b][i][j] of a [B, 3, 4] feed. */
const el = (x: T, b: number, i: number, j: number) => x.data[b * 12 + i * 4 + j]!;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const meanOf = (xs: number[]) => xs.reduce((a, c) => a + c, 0) / xs.length;
const varOf = (xs: number[]) => meanOf(xs.map((v) => (v - meanOf(xs)) ** 2));

describe("elementwise maths", () => {
  it("abs, exp, clamp: call syntax and pipes give the same numbers", () => {
    const called = valueOf("clamp(exp(abs(x)), min: 1.2, max: 2)");
    const piped = valueOf("x -> abs -> exp -> clamp(min: 1.2, max: 2)");
    const expected = called.x.data.map((v) => Math.min(Math.max(Math.exp(Math.abs(v)), 1.2), 2));
    expect(called.v.shape).toEqual([2, 3, 4]);
    expectClose(called.v.data, expected);
    expectClose(piped.v.data, expected);
  });

  it("log and sqrt, and clamp with one bound", () => {
    const { v, x } = valueOf("log(clamp(x, min: 0.01)) + sqrt(abs(x)) + clamp(x, max: 0)");
    expectClose(v.data, x.data.map((a) => Math.log(Math.max(a, 0.01)) + Math.sqrt(Math.abs(a)) + Math.min(a, 0)));
  });
});

describe("reductions over named axes", () => {
  it("over every axis, the batch included, by default: one number", () => {
    const { v, x } = valueOf("mean(x)");
    expect(v.shape).toEqual([]);
    expectClose(v.data, [meanOf(x.data)]);
    expectClose(valueOf("sum(x)").v.data, [x.data.reduce((a, c) => a + c, 0)]);
    expectClose(valueOf("var(x)").v.data, [varOf(x.data)]);
  });

  it("over an axis of the example, negative axes from the end", () => {
    const { v, x } = valueOf("sum(x, axis: -1)");
    expect(v.shape).toEqual([2, 3]);
    expectClose(v.data, range(2).flatMap((b) => range(3).map((i) => range(4).reduce((s, j) => s + el(x, b, i, j), 0))));
    const first = valueOf("var(x, axis: 0)");
    expect(first.v.shape).toEqual([2, 4]);
    expectClose(first.v.data, range(2).flatMap((b) => range(4).map((j) => varOf(range(3).map((i) => el(x, b, i, j))))));
  });

  it("over the batch: a statistic of the batch, one per feature", () => {
    for (const batch of [1, 2, 5]) {
      const { v, x } = valueOf("mean(x, axis: batch)", "f32[3, 4]", batch);
      expect(v.shape).toEqual([3, 4]);
      expectClose(v.data, range(12).map((k) => meanOf(range(batch).map((b) => x.data[b * 12 + k]!))));
    }
    const both = valueOf("var(x, axis: [batch, 1])", "f32[3, 4]", 3);
    expect(both.v.shape).toEqual([3]);
    expectClose(both.v.data, range(3).map((i) => varOf(range(3).flatMap((b) => range(4).map((j) => el(both.x, b, i, j))))));
  });

  it("a statistic of the batch meets every example, and goes through layers", () => {
    const { v, x } = valueOf("x - mean(x, axis: batch) + exp(sum(x, axis: [batch, 0, 1]))", "f32[3, 4]", 3);
    const total = Math.exp(x.data.reduce((a, c) => a + c, 0));
    const means = range(12).map((k) => meanOf(range(3).map((b) => x.data[b * 12 + k]!)));
    expect(v.shape).toEqual([3, 3, 4]);
    expectClose(v.data, x.data.map((a, n) => a - means[n % 12]! + total));
    const softened = valueOf("softmax(mean(x, axis: batch), axis: 0)", "f32[3, 4]", 2);
    expect(softened.v.shape).toEqual([3, 4]);
    const m = range(12).map((k) => (softened.x.data[k]! + softened.x.data[12 + k]!) / 2);
    const expected = range(12).map((k) => {
      const j = k % 4;
      const column = range(3).map((i) => Math.exp(m[i * 4 + j]!));
      return Math.exp(m[k]!) / column.reduce((a, c) => a + c, 0);
    });
    expectClose(softened.v.data, expected);
  });
});

describe("losses of values", () => {
  it("the KL divergence of a sparse autoencoder: to a target rate, over the batch's mean activations", () => {
    const src = `model S {
  input x: f32[5]
  let rate = mean(sigmoid(x), axis: batch)
  let divergence = 0.1 * log(0.1 / rate) + 0.9 * log(0.9 / (1 - rate))
  loss sparsity = 3 * sum(divergence) + 0 * mse(x, x)
}
`;
    const lowered = lowerSrc(src, { batch: 4, prediction: false });
    const feeds = feedsFor(lowered);
    const out = runLowered(lowered, feeds);
    const x = feeds["x"]!;
    const rates = range(5).map((j) => meanOf(range(4).map((b) => 1 / (1 + Math.exp(-x.data[b * 5 + j]!)))));
    const kl = rates.reduce((s, r) => s + 0.1 * Math.log(0.1 / r) + 0.9 * Math.log(0.9 / (1 - r)), 0);
    expectClose(out["loss/sparsity"]!.data, [3 * kl]);
    expect(kl).toBeGreaterThan(0);
  });
});
