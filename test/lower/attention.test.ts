/**
 * Multi-head attention against a naive implementation: per head, scores
 * q·k/√d, −∞ above the diagonal when causal, softmax over the keys, the
 * weighted sum of values, heads concatenated and projected.
 */
import { describe, expect, it } from "vitest";
import { quantizeProbability, streamOf, uniformAt } from "../../runtime/rng/index.js";
import { expectClose, feedsFor, lowerSrc, naiveLinear, runLowered, type T } from "./harness.js";

/** Attention of x [B, L, D] over context c [B, M, D] with the weights in `w`, optionally dropping weights. */
function naiveAttention(x: T, c: T, w: Record<string, T>, heads: number, causal: boolean, drop?: (flat: number) => number): number[] {
  const [batch, l, dim] = x.shape as [number, number, number];
  const m = c.shape[1]!;
  const d = dim / heads;
  const proj = (v: T, name: string) => naiveLinear(v, w[`p.${name}.weight`]!, w[`p.${name}.bias`]!).data;
  const [q, k, v] = [proj(x, "q"), proj(c, "k"), proj(c, "v")];
  const o = new Array<number>(batch * l * dim).fill(0);
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < l; i++) {
        const scores: number[] = [];
        for (let j = 0; j < m; j++) {
          let s = 0;
          for (let t = 0; t < d; t++) s += q[(b * l + i) * dim + h * d + t]! * k[(b * m + j) * dim + h * d + t]!;
          scores.push(causal && j > i ? -Infinity : s / Math.sqrt(d));
        }
        const top = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - top));
        const total = e.reduce((a, b2) => a + b2, 0);
        for (let j = 0; j < m; j++) {
          // The weight's flat index in [B, h, L, M], for dropout.
          const a = (e[j]! / total) * (drop ? drop(((b * heads + h) * l + i) * m + j) : 1);
          for (let t = 0; t < d; t++) o[(b * l + i) * dim + h * d + t]! += a * v[(b * m + j) * dim + h * d + t]!;
        }
      }
  return naiveLinear({ shape: x.shape, data: o }, w["p.o.weight"]!, w["p.o.bias"]!).data;
}

function run(model: string, mode: "train" | "eval" = "train") {
  const lowered = lowerSrc(model, { mode });
  const feeds = feedsFor(lowered);
  return { lowered, feeds, y: runLowered(lowered, feeds)["prediction"]! };
}

describe("attention", () => {
  it("self-attention with 2 heads", () => {
    const { lowered, feeds, y } = run("model T {\n  input x: f32[3, 4]\n  part p = attention(heads: 2)\n  output p(x)\n}\n");
    expect(lowered.params.map((p) => `${p.name} [${p.shape}]`)).toEqual(
      ["q", "k", "v", "o"].flatMap((w) => [`p.${w}.weight [4,4]`, `p.${w}.bias [4]`]),
    );
    expectClose(y.data, naiveAttention(feeds["x"]!, feeds["x"]!, feeds, 2, false));
  });

  it("causal self-attention: query i sees keys j ≤ i only", () => {
    const { feeds, y } = run("model T {\n  input x: f32[4, 6]\n  part p = attention(heads: 3, causal: true)\n  output p(x)\n}\n");
    expectClose(y.data, naiveAttention(feeds["x"]!, feeds["x"]!, feeds, 3, true));
  });

  it("one head, and cross-attention over a context of another length", () => {
    const one = run("model T {\n  input x: f32[3, 4]\n  part p = attention(heads: 1)\n  output p(x)\n}\n");
    expectClose(one.y.data, naiveAttention(one.feeds["x"]!, one.feeds["x"]!, one.feeds, 1, false));
    const cross = run("model T {\n  input x: f32[3, 4]\n  input mem: f32[5, 4]\n  part p = attention(heads: 2, context: mem)\n  output p(x)\n}\n");
    expect(cross.y.shape).toEqual([2, 3, 4]);
    expectClose(cross.y.data, naiveAttention(cross.feeds["x"]!, cross.feeds["mem"]!, cross.feeds, 2, false));
  });

  it("dropout on the attention weights in training mode only", () => {
    const src = "model T {\n  input x: f32[3, 4]\n  part p = attention(heads: 2, dropout: 0.4)\n  output p(x)\n}\n";
    const train = run(src, "train");
    const q = quantizeProbability(0.4);
    const stream = streamOf("dropout", "p");
    const keep = (flat: number) => (uniformAt(5, stream, flat, 3) < q ? 0 : 1 / 0.6);
    expectClose(train.y.data, naiveAttention(train.feeds["x"]!, train.feeds["x"]!, train.feeds, 2, false, keep));
    const evaluated = run(src, "eval");
    expectClose(evaluated.y.data, naiveAttention(evaluated.feeds["x"]!, evaluated.feeds["x"]!, evaluated.feeds, 2, false));
  });
});
