/**
 * Objectives against plain loops: mse, bce (clamped), softmax cross-entropy,
 * kl, InfoNCE, losses restricted to masked positions, weighted sums, and
 * skip-gram with negatives drawn through the alias table.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { streamOf, uniformAt } from "../../runtime/rng/index.js";
import { negativeTable, tableSize } from "../../runtime/sampling/negative-table.js";
import { at, expectClose, feedsFor, fill, lowerSrc, noise, runLowered, type T } from "./harness.js";

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const logsumexp = (xs: readonly number[]) => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};
/** Rows of the last axis of a tensor. */
const rows = (t: T): number[][] => {
  const k = t.shape[t.shape.length - 1]!;
  return Array.from({ length: t.data.length / k }, (_, r) => t.data.slice(r * k, r * k + k));
};
const logSigmoid = (x: number) => -Math.log(1 + Math.exp(-x));

function lossOf(src: string, options: Parameters<typeof lowerSrc>[1] = {}, overrides: Record<string, T> = {}, ints?: (i: number) => number) {
  const lowered = lowerSrc(src, { prediction: false, ...options });
  const feeds = feedsFor(lowered, overrides, ints);
  return { feeds, out: runLowered(lowered, feeds), lowered };
}

describe("position-wise objectives", () => {
  const pair = (objective: string, shape = "[3, 2]") => `model L {\n  input a: f32${shape}\n  input b: f32${shape}\n  loss l = ${objective}(a, b)\n}\n`;

  it("mse: the mean over the batch and every element", () => {
    const { feeds, out } = lossOf(pair("mse"));
    expectClose(out["loss"]!.data, [mean(feeds["a"]!.data.map((v, i) => (v - feeds["b"]!.data[i]!) ** 2))]);
  });

  it("bce: on probabilities clamped to [1e−7, 1 − 1e−7]", () => {
    const prob = { shape: [2, 3, 2], data: [0, 1, 0.2, 0.7, 0.5, 0.99, 1, 0.3, 0.6, 0.1, 0, 0.8] };
    const target = fill([2, 3, 2], (i) => (i % 3) / 2);
    const { out } = lossOf(pair("bce"), {}, { a: prob, b: target });
    const expected = prob.data.map((p0, i) => {
      const p = Math.min(Math.max(p0, 1e-7), 1 - 1e-7);
      const t = target.data[i]!;
      return -(t * Math.log(p) + (1 - t) * Math.log(1 - p));
    });
    expectClose(out["loss"]!.data, [mean(expected)]);
  });

  it("cross_entropy: logsumexp(logits) − logits[label], per example and per position", () => {
    const single = lossOf(`model C {\n  input x: f32[5]\n  input y: label(classes: 5)\n  loss l = cross_entropy(x, y)\n}\n`, {}, {}, (i) => (i * 3) % 5);
    const ce = (logits: number[], label: number) => logsumexp(logits) - logits[label]!;
    expectClose(single.out["loss"]!.data, [mean(rows(single.feeds["x"]!).map((r, b) => ce(r, single.feeds["y"]!.data[b]!)))]);
    const seq = lossOf(`model C {\n  input x: f32[4, 3]\n  input y: tokens(length: 4, vocab: 3)\n  loss l = cross_entropy(x, y)\n}\n`, {}, {}, (i) => i % 3);
    expectClose(seq.out["loss"]!.data, [mean(rows(seq.feeds["x"]!).map((r, p) => ce(r, seq.feeds["y"]!.data[p]!)))]);
  });

  it("cross_entropy is stable for large logits", () => {
    const { out } = lossOf(`model C {\n  input x: f32[3]\n  input y: label(classes: 3)\n  loss l = cross_entropy(x, y)\n}\n`, {}, {
      x: { shape: [2, 3], data: [1000, 0, -1000, 500, 501, 502] },
      y: { shape: [2], data: [1, 2] },
    });
    expectClose(out["loss"]!.data, [mean([1000, logsumexp([500, 501, 502]) - 502])]);
  });

  it("kl: Σ softmax(p)·(log softmax(p) − log softmax(q)) averaged over positions", () => {
    const { feeds, out } = lossOf(pair("kl", "[2, 4]"));
    const kl = (p: number[], q: number[]) => {
      const [lp, lq] = [p.map((v) => v - logsumexp(p)), q.map((v) => v - logsumexp(q))];
      return lp.reduce((s, v, k) => s + Math.exp(v) * (v - lq[k]!), 0);
    };
    const [p, q] = [rows(feeds["a"]!), rows(feeds["b"]!)];
    expectClose(out["loss"]!.data, [mean(p.map((r, i) => kl(r, q[i]!)))]);
  });

  it("on m.masked: Σ M·ℓ / max(Σ M, 1) over the whole batch", () => {
    const src = `model T {\n  input t: tokens(length: 8, vocab: 5, special: [mask])\n  mask m = tokens(t, ratio: 0.5, mask_token: mask)\n  encoder f = embedding(vocab: 5, dim: 3)\n  head W = classifier(classes: 5)\n  let logits = W(f(m.input))\n  let hidden = m.masked\n  loss fill = cross_entropy(W(f(m.input)), m.target) on m.masked\n}\n`;
    const { feeds, out } = lossOf(src, { values: ["logits", "hidden"] }, {}, (i) => i % 4);
    const logits = rows(out["value/logits"]!);
    const hidden = out["value/hidden"]!.data;
    const terms = logits.map((r, p) => (logsumexp(r) - r[feeds["t"]!.data[p]!]!) * hidden[p]!);
    expect(hidden.reduce((s, v) => s + v, 0)).toBe(8);
    expectClose(out["loss"]!.data, [terms.reduce((s, v) => s + v, 0) / 8]);
  });

  it("a weighted sum of objectives", () => {
    const { feeds, out } = lossOf(`model W {\n  input a: f32[3]\n  input b: f32[3]\n  loss l = mse(a, b) + 0.5 * mse(b, a) - mse(a, a) / 4\n}\n`);
    const m = mean(feeds["a"]!.data.map((v, i) => (v - feeds["b"]!.data[i]!) ** 2));
    expectClose(out["loss"]!.data, [1.5 * m]);
  });
});

describe("info_nce", () => {
  function naiveInfoNce(a: number[][], b: number[][], tau: number): number {
    const s = a.map((ai) => b.map((bj) => ai.reduce((acc, v, k) => acc + v * bj[k]!, 0) / tau));
    const rowsTerm = mean(s.map((r, i) => logsumexp(r) - r[i]!));
    const colsTerm = mean(s.map((_, j) => logsumexp(s.map((r) => r[j]!)) - s[j]![j]!));
    return 0.5 * (rowsTerm + colsTerm);
  }

  it("symmetric, with in-batch negatives and a temperature", () => {
    const { feeds, out } = lossOf(`model N {\n  input a: f32[4]\n  input b: f32[4]\n  loss l = info_nce(a, b, temperature: 0.2)\n}\n`, { batch: 5 });
    expectClose(out["loss"]!.data, [naiveInfoNce(rows(feeds["a"]!), rows(feeds["b"]!), 0.2)]);
  });

  it("is log B for identical embeddings that are all alike, 0 for one example", () => {
    const same = { shape: [3, 2], data: [1, 0, 1, 0, 1, 0] };
    const three = lossOf(`model N {\n  input a: f32[2]\n  input b: f32[2]\n  loss l = info_nce(a, b)\n}\n`, { batch: 3 }, { a: same, b: same });
    expectClose(three.out["loss"]!.data, [Math.log(3)]);
    const one = lossOf(`model N {\n  input a: f32[2]\n  input b: f32[2]\n  loss l = info_nce(a, b)\n}\n`, { batch: 1 });
    expectClose(one.out["loss"]!.data, [0]);
  });
});

describe("skipgram", () => {
  const src = `model S {\n  input center: token(vocab: 6)\n  input context: token(vocab: 6)\n  encoder f = embedding(vocab: 6, dim: 3)\n  part c = embedding(vocab: 6, dim: 3)\n  loss sgns = skipgram(f(center), context, table: c, negatives: 4)\n}\n`;

  it("the alias table samples P(w) ∝ count(w)^¾ exactly (to 2^−24), padding never", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 40 }), (counts) => {
        const { prob, alias } = negativeTable(counts);
        const size = tableSize(counts.length);
        expect(prob.length).toBe(size);
        const p = new Array<number>(size).fill(0);
        for (let col = 0; col < size; col++) {
          p[col]! += prob[col]! / size;
          p[alias[col]!]! += (1 - prob[col]!) / size;
          expect(Number.isInteger(prob[col]! * 2 ** 24)).toBe(true);
        }
        const w = counts.map((c) => c ** 0.75);
        const total = w.reduce((s, v) => s + v, 0);
        const target = total > 0 ? w.map((v) => v / total) : counts.map(() => 1 / counts.length);
        target.forEach((t, i) => expect(Math.abs(p[i]! - t)).toBeLessThan(size * 2 ** -23 + 1e-12));
        for (let i = counts.length; i < size; i++) expect(p[i]).toBeLessThan(size * 2 ** -23);
        return true;
      }),
      { numRuns: 60 },
    );
  });

  it("−log σ(u_ctx·v) − Σ log σ(−u_w·v) with negatives drawn from negatives/<loss>", () => {
    const counts = [5, 0, 12, 3, 1, 7];
    const { prob, alias } = negativeTable(counts);
    const tables = { "negatives.sgns.prob": { shape: [8], data: [...prob] }, "negatives.sgns.alias": { shape: [8], data: [...alias] } };
    const { feeds, out, lowered } = lossOf(src, { batch: 3 }, tables, (i) => (i * 5 + 1) % 6);
    expect(lowered.inputs.map((i) => `${i.name}:${i.kind}`).sort()).toEqual(
      ["center:data", "context:data", "negatives.sgns.alias:negatives", "negatives.sgns.prob:negatives", "seed:seed", "step:step"],
    );
    const [f, c] = [feeds["f.weight"]!, feeds["c.weight"]!];
    const dot = (table: T, id: number, v: number[]) => v.reduce((s, x, d) => s + x * at(table, id, d), 0);
    const stream = streamOf("negatives", "sgns");
    const losses = [0, 1, 2].map((b) => {
      const v = [0, 1, 2].map((d) => at(f, feeds["center"]!.data[b]!, d));
      let loss = -logSigmoid(dot(c, feeds["context"]!.data[b]!, v));
      for (let k = 0; k < 4; k++) {
        const [u1, u2] = [uniformAt(5, stream, (b * 4 + k) * 2, 3), uniformAt(5, stream, (b * 4 + k) * 2 + 1, 3)];
        const col = Math.floor(u1 * 8);
        const id = u2 < prob[col]! ? col : alias[col]!;
        expect(id).toBeLessThan(6);
        expect(counts[id]).toBeGreaterThan(0);
        loss -= logSigmoid(-dot(c, id, v));
      }
      return loss;
    });
    expectClose(out["loss"]!.data, [mean(losses)]);
    expect(noise(1)).toBeLessThan(1);
  });
});
