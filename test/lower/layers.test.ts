/**
 * Dense layers, tables, activations, movement, normalization and dropout,
 * lowered on small shapes and run on the reference backend, against plain
 * float64 loops written here.
 */
import { describe, expect, it } from "vitest";
import { quantizeProbability, streamOf, uniformAt } from "../../runtime/rng/index.js";
import { LAYER_RULES } from "../../compiler/lower/index.js";
import { builtins } from "../../compiler/builtins/index.js";
import { at, expectClose, feedsFor, fill, lowerSrc, naiveLinear, noise, runLowered, type T } from "./harness.js";

/** Lowers `part p = <layer>` applied to an input of type `input`, runs it, returns feeds and the output. */
function applyLayer(layer: string, input: string, mode: "train" | "eval" = "train", ints?: (i: number) => number, loss = "") {
  const lowered = lowerSrc(`model T {\n  input x: ${input}\n  part p = ${layer}\n  output p(x)\n${loss}}\n`, { mode });
  const feeds = feedsFor(lowered, {}, ints);
  const out = runLowered(lowered, feeds);
  return { lowered, feeds, out, y: out["prediction"]!, x: feeds["x"]! };
}

/** Applies f to every element. */
const map = (t: T, f: (v: number, i: number) => number): number[] => t.data.map(f);

/** erf by its Taylor series (|x| ≤ 3 here), independent of the backend's. */
function erf(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 80; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

describe("every built-in layer has a lowering", () => {
  it("covers the checker's catalogue", () => {
    // `repeat`, `ema` and `tied` are structural: they lower the layers they hold or name (layers.ts).
    const layers = builtins.filter((b) => (b.category === "layer" || b.category === "bottleneck") && !["repeat", "ema", "tied"].includes(b.name));
    expect(layers.map((l) => l.name).filter((name) => !LAYER_RULES[name])).toEqual([]);
  });
});

describe("dense family", () => {
  it("dense: x·Wᵀ + b with W stored [units, in]", () => {
    const { lowered, feeds, y, x } = applyLayer("dense(5)", "f32[3, 4]");
    expect(lowered.params.map((p) => [p.name, p.shape])).toEqual([["p.weight", [5, 4]], ["p.bias", [5]]]);
    expect(y.shape).toEqual([2, 3, 5]);
    expectClose(y.data, naiveLinear(x, feeds["p.weight"]!, feeds["p.bias"]!).data);
  });

  it("dense without bias has no bias tensor", () => {
    const { lowered, feeds, y, x } = applyLayer("dense(3, bias: false)", "f32[4]");
    expect(lowered.params.map((p) => p.name)).toEqual(["p.weight"]);
    expectClose(y.data, naiveLinear(x, feeds["p.weight"]!, null).data);
  });

  it("classifier: logits from a dense map", () => {
    const { feeds, y, x } = applyLayer("classifier(classes: 3)", "f32[6]");
    expectClose(y.data, naiveLinear(x, feeds["p.weight"]!, feeds["p.bias"]!).data);
  });

  it("embedding: row t of the table for each id", () => {
    const { feeds, y } = applyLayer("embedding(vocab: 7, dim: 4)", "tokens(length: 3, vocab: 7)", "train", (i) => (i * 5) % 7);
    const ids = feeds["x"]!;
    const table = feeds["p.weight"]!;
    expect(y.shape).toEqual([2, 3, 4]);
    expectClose(y.data, ids.data.flatMap((t) => [0, 1, 2, 3].map((d) => at(table, t, d))));
  });

  it("positional: adds table row p to the row at position p", () => {
    const { feeds, y, x } = applyLayer("positional(length: 6)", "f32[5, 4]");
    const table = feeds["p.weight"]!;
    expect(table.shape).toEqual([6, 4]);
    expectClose(y.data, map(x, (v, i) => v + at(table, Math.floor(i / 4) % 5, i % 4)));
  });
});

describe("activations", () => {
  const cases: [string, (v: number) => number][] = [
    ["relu", (v) => Math.max(v, 0)],
    ["gelu", (v) => v * 0.5 * (1 + erf(v / Math.SQRT2))],
    ["tanh", Math.tanh],
    ["sigmoid", (v) => 1 / (1 + Math.exp(-v))],
    ["silu", (v) => v / (1 + Math.exp(-v))],
  ];
  for (const [name, f] of cases) {
    it(`${name} elementwise`, () => {
      const { y, x } = applyLayer(name, "f32[3, 4]");
      expectClose(y.data, map(x, f), 1e-12);
    });
  }

  it("softmax along the last axis and along axis 0", () => {
    const last = applyLayer("softmax", "f32[3, 4]");
    const expected = last.x.data.map((_, i) => {
      const row = Math.floor(i / 4);
      const values = [0, 1, 2, 3].map((j) => last.x.data[row * 4 + j]!);
      return Math.exp(last.x.data[i]!) / values.reduce((s, v) => s + Math.exp(v), 0);
    });
    expectClose(last.y.data, expected);
    const first = applyLayer("softmax(axis: 0)", "f32[3, 4]");
    const col = (b: number, j: number) => [0, 1, 2].reduce((s, r) => s + Math.exp(at(first.x, b, r, j)), 0);
    expectClose(first.y.data, first.x.data.map((v, i) => Math.exp(v) / col(Math.floor(i / 12), i % 4)));
  });

  it("softmax is stable for large logits", () => {
    const lowered = lowerSrc("model T {\n  input x: f32[3]\n  part p = softmax\n  output p(x)\n}\n");
    const y = runLowered(lowered, { x: { shape: [2, 3], data: [1000, 1001, 1002, -1000, -1000, -1000] } })["prediction"]!;
    const e = [Math.exp(-2), Math.exp(-1), 1];
    const s = e[0]! + e[1]! + e[2]!;
    expectClose(y.data, [...e.map((v) => v / s), 1 / 3, 1 / 3, 1 / 3]);
  });

  it("l2_normalize divides by max(‖x‖, 1e−12)", () => {
    const { y, x } = applyLayer("l2_normalize", "f32[3, 4]");
    const norm = (i: number) => Math.sqrt([0, 1, 2, 3].reduce((s, j) => s + x.data[Math.floor(i / 4) * 4 + j]! ** 2, 0));
    expectClose(y.data, map(x, (v, i) => v / Math.max(norm(i), 1e-12)));
    const zero = lowerSrc("model T {\n  input x: f32[2]\n  part p = l2_normalize\n  output p(x)\n}\n");
    expect(runLowered(zero, { x: { shape: [2, 2], data: [0, 0, 3, 4] } })["prediction"]!.data).toEqual([0, 0, 0.6, 0.8]);
  });
});

describe("movement", () => {
  it("flatten and reshape keep row-major order", () => {
    const flat = applyLayer("flatten", "f32[2, 3, 2]");
    expect(flat.y.shape).toEqual([2, 12]);
    expect(flat.y.data).toEqual(flat.x.data);
    const re = applyLayer("reshape(shape: [3, -1])", "f32[12]");
    expect(re.y.shape).toEqual([2, 3, 4]);
    expect(re.y.data).toEqual(re.x.data);
  });

  it("patchify: patch r·(W/s)+c, element ch·s²+i·s+j", () => {
    const { y, x } = applyLayer("patchify(size: 2)", "f32[2, 4, 6]");
    expect(y.shape).toEqual([2, 6, 8]);
    for (let b = 0; b < 2; b++) {
      for (let n = 0; n < 6; n++) {
        for (let k = 0; k < 8; k++) {
          const [r, c] = [Math.floor(n / 3), n % 3];
          const [ch, i, j] = [Math.floor(k / 4), Math.floor(k / 2) % 2, k % 2];
          expect(at(y, b, n, k)).toBe(at(x, b, ch, r * 2 + i, c * 2 + j));
        }
      }
    }
  });

  it("unpatchify inverts patchify on a square image", () => {
    const { y, x } = applyLayer("patchify(size: 2) -> unpatchify(size: 2, channels: 3)", "f32[3, 4, 4]");
    expect(y.shape).toEqual([2, 3, 4, 4]);
    expect(y.data).toEqual(x.data);
  });

  it("mean_pool averages one axis away", () => {
    const { y, x } = applyLayer("mean_pool", "f32[3, 4]");
    expect(y.shape).toEqual([2, 4]);
    expectClose(y.data, fill([2, 4], (i) => [0, 1, 2].reduce((s, r) => s + at(x, Math.floor(i / 4), r, i % 4), 0) / 3).data);
    const last = applyLayer("mean_pool(axis: -1)", "f32[3, 4]");
    expectClose(last.y.data, fill([2, 3], (i) => [0, 1, 2, 3].reduce((s, j) => s + at(last.x, Math.floor(i / 3), i % 3, j), 0) / 4).data);
  });
});

describe("normalization", () => {
  it("layer_norm normalizes the last axis with the biased variance", () => {
    const { feeds, y, x } = applyLayer("layer_norm", "f32[3, 4]");
    const [g, beta] = [feeds["p.weight"]!, feeds["p.bias"]!];
    const expected = x.data.map((v, i) => {
      const row = [0, 1, 2, 3].map((j) => x.data[Math.floor(i / 4) * 4 + j]!);
      const mean = row.reduce((s, r) => s + r, 0) / 4;
      const variance = row.reduce((s, r) => s + (r - mean) ** 2, 0) / 4;
      return ((v - mean) / Math.sqrt(variance + 1e-5)) * g.data[i % 4]! + beta.data[i % 4]!;
    });
    expectClose(y.data, expected);
  });

  /** batch_norm by hand: features on `axis`, statistics over every other axis. */
  function naiveBatchNorm(x: T, axis: number, gamma: T, beta: T, stats: { mean: number[]; variance: number[] } | null, eps = 1e-5) {
    const f = x.shape[axis]!;
    const strides = x.shape.map((_, a) => x.shape.slice(a + 1).reduce((p, d) => p * d, 1));
    const feature = (i: number) => Math.floor(i / strides[axis]!) % f;
    const sums = new Array<number>(f).fill(0);
    const counts = new Array<number>(f).fill(0);
    x.data.forEach((v, i) => {
      sums[feature(i)]! += v;
      counts[feature(i)]!++;
    });
    const mean = sums.map((s, k) => s / counts[k]!);
    const sq = new Array<number>(f).fill(0);
    x.data.forEach((v, i) => (sq[feature(i)]! += (v - mean[feature(i)]!) ** 2));
    const variance = sq.map((s, k) => s / counts[k]!);
    const use = stats ?? { mean, variance };
    const y = x.data.map((v, i) => ((v - use.mean[feature(i)]!) / Math.sqrt(use.variance[feature(i)]! + eps)) * gamma.data[feature(i)]! + beta.data[feature(i)]!);
    return { y, mean, variance, n: counts[0]! };
  }

  it("batch_norm on images, training mode: batch statistics and running-statistics updates", () => {
    // Running statistics change in a training step's objective (here a loss through the layer).
    const { lowered, feeds, out, y, x } = applyLayer("batch_norm(momentum: 0.2)", "f32[3, 2, 2]", "train", undefined, "  loss l = mse(p(x), x)\n");
    expect(lowered.params.map((p) => [p.name, p.kind, p.trainable])).toEqual([
      ["p.weight", "weight", true],
      ["p.bias", "weight", true],
      ["p.running_mean", "state", false],
      ["p.running_var", "state", false],
      ["p.num_batches_tracked", "state", false],
    ]);
    const r = naiveBatchNorm(x, 1, feeds["p.weight"]!, feeds["p.bias"]!, null);
    expectClose(y.data, r.y);
    const [rm, rv] = [feeds["p.running_mean"]!, feeds["p.running_var"]!];
    expectClose(out["state/p.running_mean"]!.data, rm.data.map((v, k) => 0.8 * v + 0.2 * r.mean[k]!));
    expectClose(out["state/p.running_var"]!.data, rv.data.map((v, k) => 0.8 * v + 0.2 * r.variance[k]! * (r.n / (r.n - 1))));
    expect(out["state/p.num_batches_tracked"]!.data).toEqual([1]);
  });

  it("batch_norm in inference mode uses the running statistics and updates nothing", () => {
    const { feeds, out, y, x } = applyLayer("batch_norm", "f32[3, 2, 2]", "eval", undefined, "  loss l = mse(p(x), x)\n");
    const stats = { mean: feeds["p.running_mean"]!.data, variance: feeds["p.running_var"]!.data };
    expectClose(y.data, naiveBatchNorm(x, 1, feeds["p.weight"]!, feeds["p.bias"]!, stats).y);
    expect(Object.keys(out).filter((k) => k.startsWith("state/"))).toEqual([]);
  });

  it("batch_norm on features normalizes the last axis over the batch and leading axes", () => {
    const { feeds, y, x } = applyLayer("batch_norm", "f32[3, 4]");
    expectClose(y.data, naiveBatchNorm(x, 2, feeds["p.weight"]!, feeds["p.bias"]!, null).y);
  });
});

describe("dropout", () => {
  it("training mode: zeroes where u < rate (stream dropout/p, the step's counter), scales the rest", () => {
    const { y, x } = applyLayer("dropout(rate: 0.3)", "f32[5, 4]");
    const q = quantizeProbability(0.3);
    const stream = streamOf("dropout", "p");
    const expected = x.data.map((v, i) => (uniformAt(5, stream, i, 3) < q ? 0 : v / 0.7));
    expectClose(y.data, expected);
    const dropped = expected.filter((v) => v === 0).length;
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBeLessThan(x.data.length);
  });

  it("inference mode: the identity", () => {
    const { y, x } = applyLayer("dropout(rate: 0.3)", "f32[5, 4]", "eval");
    expect(y.data).toEqual(x.data);
  });

  it("draws a new pattern at every step", () => {
    const lowered = lowerSrc("model T {\n  input x: f32[64]\n  part p = dropout(rate: 0.5)\n  output p(x)\n}\n");
    const feeds = feedsFor(lowered, { x: fill([2, 64], () => 1) });
    const at3 = runLowered(lowered, feeds)["prediction"]!.data;
    const at4 = runLowered(lowered, { ...feeds, "step": { shape: [], data: [4] } })["prediction"]!.data;
    expect(at3).not.toEqual(at4);
    expect(noise(0)).not.toBe(noise(1));
  });
});
