/**
 * How values and layers compose: value functions (`add`, `concat`,
 * `similarity`), parts used inside other parts, blocks with further inputs,
 * the prediction path through a bottleneck, and state updated by two
 * applications of one batch norm in a step.
 */
import { describe, expect, it } from "vitest";
import { at, expectClose, feedsFor, lowerSrc, naiveLinear, runLowered, type T } from "./harness.js";

function run(src: string, options: Parameters<typeof lowerSrc>[1] = {}) {
  const lowered = lowerSrc(src, options);
  const feeds = feedsFor(lowered);
  return { lowered, feeds, out: runLowered(lowered, feeds) };
}

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
const rowsOf = (t: T, k: number) => Array.from({ length: t.data.length / k }, (_, r) => t.data.slice(r * k, r * k + k));

describe("value functions", () => {
  it("add, concat along an axis, and x + y", () => {
    const { feeds, out } = run(`model V {\n  input a: f32[2, 3]\n  input b: f32[2, 3]\n  let s = add(a, b)\n  let c = concat(a, b, axis: 0)\n  let d = concat(a, b)\n  let e = a * 2 - b / 4\n  loss l = mse(s, e)\n}\n`, { values: ["s", "c", "d", "e"] });
    const [a, b] = [feeds["a"]!, feeds["b"]!];
    expectClose(out["value/s"]!.data, a.data.map((v, i) => v + b.data[i]!));
    expectClose(out["value/e"]!.data, a.data.map((v, i) => 2 * v - b.data[i]! / 4));
    expect(out["value/c"]!.shape).toEqual([2, 4, 3]);
    expect(out["value/c"]!.data).toEqual([0, 1].flatMap((n) => [...a.data.slice(n * 6, n * 6 + 6), ...b.data.slice(n * 6, n * 6 + 6)]));
    expect(out["value/d"]!.shape).toEqual([2, 2, 6]);
    expect(out["value/d"]!.data).toEqual([0, 1, 2, 3].flatMap((r) => [...a.data.slice(r * 3, r * 3 + 3), ...b.data.slice(r * 3, r * 3 + 3)]));
  });

  it("similarity: one dot product per example, or a matrix; cosine divides by the norms", () => {
    const { feeds, out } = run(`model S {\n  input a: f32[3]\n  input b: f32[3]\n  input p: f32[2, 3]\n  input q: f32[4, 3]\n  let d = similarity(a, b)\n  let c = similarity(a, b, metric: cosine)\n  let m = similarity(p, q)\n  loss l = mse(m, m)\n}\n`, { values: ["d", "c", "m"] });
    const [a, b] = [rowsOf(feeds["a"]!, 3), rowsOf(feeds["b"]!, 3)];
    expectClose(out["value/d"]!.data, a.map((r, i) => dot(r, b[i]!)));
    expectClose(out["value/c"]!.data, a.map((r, i) => dot(r, b[i]!) / Math.sqrt(dot(r, r) * dot(b[i]!, b[i]!))));
    const [p, q] = [feeds["p"]!, feeds["q"]!];
    const m = out["value/m"]!;
    expect(m.shape).toEqual([2, 2, 4]);
    for (let n = 0; n < 2; n++)
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 4; j++) expect(at(m, n, i, j)).toBeCloseTo(dot([0, 1, 2].map((k) => at(p, n, i, k)), [0, 1, 2].map((k) => at(q, n, j, k))), 12);
  });
});

describe("parts and blocks", () => {
  it("a part used inside another part runs with its own weights", () => {
    const { lowered, feeds, out } = run(`model P {\n  input x: f32[4]\n  encoder f = dense(3)\n  part h = f -> relu -> dense(2)\n  loss l = mse(h(x), h(x))\n  output h(x)\n}\n`);
    expect(lowered.params.map((p) => p.name)).toEqual(["f.weight", "f.bias", "h.2.weight", "h.2.bias"]);
    const hidden = naiveLinear(feeds["x"]!, feeds["f.weight"]!, feeds["f.bias"]!);
    const y = naiveLinear({ shape: hidden.shape, data: hidden.data.map((v) => Math.max(v, 0)) }, feeds["h.2.weight"]!, feeds["h.2.bias"]!);
    expectClose(out["prediction"]!.data, y.data);
  });

  it("a block's further input reaches its body (cross-attention over a model value)", () => {
    const src = `block cross(heads: int) {
  input x
  input context
  output x + (x -> attention(heads: heads, context: context))
}
model C {
  input x: f32[3, 4]
  input mem: f32[5, 4]
  encoder f = cross(heads: 2, context: mem)
  loss l = mse(f(x), x)
  output f(x)
}
`;
    const { lowered, feeds, out } = run(src);
    expect(lowered.params.filter((p) => p.used).map((p) => p.name)).toEqual(
      ["q", "k", "v", "o"].flatMap((w) => [`f.0.${w}.weight`, `f.0.${w}.bias`]),
    );
    // Changing the context changes the output; the residual keeps x in it.
    const other = runLowered(lowered, { ...feeds, mem: { shape: feeds["mem"]!.shape, data: feeds["mem"]!.data.map((v) => -v) } });
    expect(other["prediction"]!.data).not.toEqual(out["prediction"]!.data);
    expect(out["prediction"]!.shape).toEqual([2, 3, 4]);
  });

  it("without an output, the prediction is the head along the encoder and the bottleneck, masks off", () => {
    const src = `model B {
  input image: f32[4]
  input label: label(classes: 3)
  mask m = features(image, ratio: 0.5)
  encoder f = dense(5)
  bottleneck z = plain(dim: 2)
  head W = classifier(classes: 3)
  loss r = mse(z(f(m.input)), z(f(image)))
}
`;
    const { feeds, out } = run(src);
    const h = naiveLinear(naiveLinear(naiveLinear(feeds["image"]!, feeds["f.weight"]!, feeds["f.bias"]!), feeds["z.weight"]!, feeds["z.bias"]!), feeds["W.weight"]!, feeds["W.bias"]!);
    expectClose(out["prediction"]!.data, h.data);
  });

  it("two applications of one batch norm update its statistics in turn", () => {
    const src = `model N {\n  input a: f32[3]\n  input b: f32[3]\n  encoder f = batch_norm(momentum: 0.5)\n  loss l = mse(f(a), f(b))\n}\n`;
    const { feeds, out } = run(src);
    const batchMean = (t: T) => [0, 1, 2].map((k) => (t.data[k]! + t.data[3 + k]!) / 2);
    const first = feeds["f.running_mean"]!.data.map((r, k) => 0.5 * r + 0.5 * batchMean(feeds["a"]!)[k]!);
    expectClose(out["state/f.running_mean"]!.data, first.map((r, k) => 0.5 * r + 0.5 * batchMean(feeds["b"]!)[k]!));
    expect(out["state/f.num_batches_tracked"]!.data).toEqual([2]);
  });
});
