/**
 * Metrics from the prediction and its target, independent of the losses
 * (spec/pipelines.md, "Metrics"), through the engine: a bce autoencoder's
 * test step reports mse, mae and psnr equal to what its forward function
 * gives on the same images, and a language model reports perplexity and
 * per-position accuracy equal to its cross-entropy loss and its scores.
 */
import { describe, expect, it } from "vitest";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { Pipeline } from "../../runtime/index.js";
import { mnistDigits } from "../../runtime/node.js";
import { programOf } from "../api/plans.js";
import { digitArrays } from "./helpers.js";

const AUTOENCODER = `model AE {
  input image: f32[1, 28, 28]
  encoder f = flatten -> dense(16) -> relu
  decoder g = dense(784) -> sigmoid -> reshape(shape: [1, 28, 28])
  loss pixels = bce(g(f(image)), image)
  output g(f(image))
}

data digits {
  image: f32[1, 28, 28]
  label: label(classes: 10)
}

pipeline Train {
  pretrain AE on digits.train { steps: 20, batch: 32, optimizer: adam(lr: 1e-2) }
  test on digits.test { batch: 48, metrics: [mse, mae, psnr, psnr(max: 2)] }
}
`;

const LANGUAGE = `model LM {
  input text: tokens(length: 9, vocab: 6)
  mask m = next_token(text)
  encoder f = embedding(vocab: 6, dim: 8) -> attention(heads: 2, causal: true)
  head W = classifier(classes: 6)
  loss next = cross_entropy(W(f(m.input)), m.target)
}

data corpus {
  text: tokens(length: 9, vocab: 6)
}

pipeline Train {
  pretrain LM on corpus.train { steps: 30, batch: 16, optimizer: adam(lr: 1e-2) }
  test on corpus.test { batch: 7, metrics: [perplexity, accuracy, top_k(k: 2)] }
}
`;

describe("metrics computed from outputs and targets", () => {
  it("a bce autoencoder reports its reconstruction mse, mae and psnr", async () => {
    const plan = buildModelPlan(programOf(AUTOENCODER), "AE", { pipelines: ["Train"] });
    const data = await digitArrays(200);
    const pipeline = await Pipeline.create(plan, "Train", { backend: "cpu" });
    const result = await pipeline.run({ data });
    if (result.kind !== "done") throw new Error("stopped");
    const test = result.history.steps.find((s) => s.kind === "test")!;
    if (test.kind !== "test") throw new Error("no test");
    const images = (await mnistDigits()).test.images.subarray(0, 200 * 784);
    const output = (await result.model.call("forward", { image: images })) as Float32Array;
    let se = 0;
    let ae = 0;
    for (let i = 0; i < images.length; i++) {
      se += (output[i]! - images[i]!) ** 2;
      ae += Math.abs(output[i]! - images[i]!);
    }
    const mse = se / images.length;
    expect(test.metrics["mse"]).toBeCloseTo(mse, 6);
    expect(test.metrics["mae"]).toBeCloseTo(ae / images.length, 6);
    expect(test.metrics["psnr(max: 1)"]).toBeCloseTo(10 * Math.log10(1 / mse), 4);
    expect(test.metrics["psnr(max: 2)"]).toBeCloseTo(10 * Math.log10(4 / mse), 4);
    // The loss is bce, another number.
    expect(test.losses["pixels"]).toBeGreaterThan(mse);
    result.model.dispose();
  }, 120_000);

  it("a language model reports perplexity = exp(cross-entropy) and accuracy over every position", async () => {
    const plan = buildModelPlan(programOf(LANGUAGE), "LM", { pipelines: ["Train"] });
    // A text of period 3 (0 1 2 0 1 2 ...) with a slip every 17 tokens.
    const text = (n: number) => Int32Array.from({ length: n * 9 }, (_, i) => (i % 17 === 16 ? 5 : i % 3));
    const data = { corpus: { train: { text: text(64) }, test: { text: text(23) } } };
    const pipeline = await Pipeline.create(plan, "Train", { backend: "cpu" });
    const result = await pipeline.run({ data });
    if (result.kind !== "done") throw new Error("stopped");
    const test = result.history.steps.find((s) => s.kind === "test")!;
    if (test.kind !== "test") throw new Error("no test");
    // The mean loss over the split weighs each batch by its examples, which hold 8 positions each: the same mean.
    expect(test.metrics["perplexity"]).toBeCloseTo(Math.exp(test.losses["next"]!), 4);
    expect(test.metrics["perplexity"]).toBeLessThan(6);
    const scores = (await result.model.call("forward", { text: data.corpus.test.text })) as Float32Array;
    let hits = 0;
    for (let r = 0; r < 23 * 8; r++) {
      const row = scores.subarray(r * 6, r * 6 + 6);
      const best = row.indexOf(Math.max(...row));
      const [b, p] = [Math.floor(r / 8), r % 8];
      if (best === data.corpus.test.text[b * 9 + p + 1]) hits++;
    }
    expect(test.metrics["accuracy"]).toBeCloseTo(hits / (23 * 8), 10);
    expect(test.metrics["top_k(k: 2)"]).toBeGreaterThanOrEqual(test.metrics["accuracy"]!);
    result.model.dispose();
  }, 120_000);
});
