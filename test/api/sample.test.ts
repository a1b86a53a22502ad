/**
 * Sampling from a model through the runtime (spec/sampling.md): what the
 * compiler decides can be sampled, a language model that learned a pattern
 * continues it, sampling is deterministic under the seed and draws from the
 * softmax of the scores over the top k, special tokens are never drawn, and
 * a variational model decodes draws from its prior.
 */
import { describe, expect, it } from "vitest";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { Model, ReprError, drawToken } from "../../runtime/index.js";
import { normalAt, streamOf } from "../../runtime/rng/index.js";
import { programOf } from "./plans.js";

const LANGUAGE = (special = "") => `model LM {
  input text: tokens(length: 8, vocab: 6${special})
  mask m = next_token(text)
  encoder f = embedding(vocab: 6, dim: 16) -> positional -> attention(heads: 2, causal: true) -> dense(16) -> relu
  head W = classifier(classes: 6)
  loss next = cross_entropy(W(f(m.input)), m.target)
}
`;

const VAE = `model VAE {
  input x: f32[6]
  encoder f = dense(8) -> tanh
  bottleneck z = variational(dim: 3, beta: 1)
  decoder g = dense(6) -> sigmoid
  loss r = mse(g(z(f(x))), x)
  output g(z(f(x)))
}
`;

async function modelOf(src: string, name: string): Promise<Model> {
  return Model.create(buildModelPlan(programOf(src), name), { backend: "cpu", seed: 3 });
}

describe("what can be sampled", () => {
  it("a next-token model over a tokens input, and a variational bottleneck a decoder reads", () => {
    expect(buildModelPlan(programOf(LANGUAGE(", special: [pad, cls]")), "LM").sampling).toEqual({
      kind: "next-token",
      fn: "forward",
      input: "text",
      length: 8,
      vocab: 6,
      special: ["pad", "cls"],
    });
    expect(buildModelPlan(programOf(VAE), "VAE").sampling).toEqual({ kind: "prior", fn: "decode", input: "code", shape: [3] });
  });

  it("not a classifier, nor a plain autoencoder; sample() then rejects, saying why", async () => {
    const plain = VAE.replace("variational(dim: 3, beta: 1)", "plain(dim: 3)");
    expect(buildModelPlan(programOf(plain), "VAE").sampling).toBeNull();
    const model = await modelOf(plain, "VAE");
    await expect(model.sample()).rejects.toThrow(ReprError);
    await expect(model.sample()).rejects.toThrow(/cannot be sampled/);
    model.dispose();
  });
});

describe("a language model", () => {
  it("that learned a pattern continues it greedily, past its window", async () => {
    const model = await modelOf(LANGUAGE(), "LM");
    // Windows of a text of period 3, 0 1 2 0 1 2 ..., starting anywhere in it.
    const windows = Int32Array.from({ length: 64 * 8 }, (_, i) => ((i % 8) + Math.floor(i / 8)) % 3);
    await model.fit("train", { text: windows }, { batch: 16, epochs: 60, seed: 1 });
    const greedy = await model.sample({ prompt: [1, 2], tokens: 12, temperature: 0 });
    expect([...greedy]).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
    // top-k 1 is greedy too, whatever the temperature and seed.
    expect([...(await model.sample({ prompt: [1, 2], tokens: 12, topK: 1, temperature: 3, seed: 9 }))]).toEqual([...greedy]);
    model.dispose();
  }, 60_000);

  it("is deterministic under its seed; samples side by side draw apart", async () => {
    const model = await modelOf(LANGUAGE(), "LM");
    const a = await model.sample({ count: 3, tokens: 20, seed: 5, temperature: 2 });
    const b = await model.sample({ count: 3, tokens: 20, seed: 5, temperature: 2 });
    const c = await model.sample({ count: 3, tokens: 20, seed: 6, temperature: 2 });
    expect(a).toHaveLength(60);
    expect([...b]).toEqual([...a]);
    expect([...c]).not.toEqual([...a]);
    expect([...a.subarray(0, 20)]).not.toEqual([...a.subarray(20, 40)]);
    model.dispose();
  });

  it("never draws a special token, and starts from cls by default", async () => {
    const model = await modelOf(LANGUAGE(", special: [pad, cls]"), "LM");
    const ids = await model.sample({ count: 4, tokens: 40, temperature: 5, seed: 2 });
    expect(ids.every((id) => id >= 0 && id < 4)).toBe(true);
    model.dispose();
  });

  it("refuses options that mean nothing", async () => {
    const model = await modelOf(LANGUAGE(), "LM");
    await expect(model.sample({ temperature: -1 })).rejects.toThrow(/temperature/);
    await expect(model.sample({ prompt: [] })).rejects.toThrow(/at least one token/);
    await expect(model.sample({ prompt: [6] })).rejects.toThrow(/prompt id 6/);
    await expect(model.sample({ topK: 1.5 })).rejects.toThrow(/topK/);
    model.dispose();
  });
});

describe("drawing a token", () => {
  it("draws each kept token with its softmax probability, in id order", () => {
    const scores = [1, 3, 0.5, 2, -1];
    const n = 20000;
    const counts = new Array<number>(5).fill(0);
    for (let k = 0; k < n; k++) counts[drawToken(scores, new Set(), 0.5, 3, (k + 0.5) / n)]!++;
    const kept = [1, 3, 0];
    const w = kept.map((id) => Math.exp(scores[id]! / 0.5));
    const total = w.reduce((a, b) => a + b, 0);
    kept.forEach((id, j) => expect(counts[id]! / n).toBeCloseTo(w[j]! / total, 3));
    expect(counts[2]! + counts[4]!).toBe(0);
  });

  it("at temperature 0 takes the largest score, the lowest id on a tie, skipping special ones", () => {
    expect(drawToken([1, 5, 5, 2], new Set(), 0, 0, 0.9)).toBe(1);
    expect(drawToken([1, 5, 5, 2], new Set([1]), 0, 0, 0.9)).toBe(2);
  });
});

describe("the prior of a variational model", () => {
  it("decodes draws from N(0, temperature²) of the stream sample/prior", async () => {
    const model = await modelOf(VAE, "VAE");
    const out = await model.sample({ count: 4, seed: 7, temperature: 0.5 });
    expect(out).toHaveLength(4 * 6);
    const stream = streamOf("sample", "prior");
    const codes = Float32Array.from({ length: 12 }, (_, k) => 0.5 * normalAt(7, stream, k));
    expect([...out]).toEqual([...(await model.call("decode", { code: codes }))]);
    model.dispose();
  });
});
