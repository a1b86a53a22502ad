/**
 * Gradients of every construct of the language, checked against central
 * finite differences in float64 on the reference backend (issue 3, item 7).
 *
 * Each construct is a small model lowered in training mode at batch 2. Random
 * draws (masks, views, dropout, noise, negatives) are fixed by feeding the
 * same `seed` and `step` to every evaluation, so the loss is a deterministic
 * function of the parameters and finite differences are well defined. For
 * each trainable parameter the test samples 6 coordinates; a coordinate at a
 * kink (relu at 0, a max_pool tie, |·| of the l1 term, a bce clamp) shows as
 * one-sided differences that disagree, and is skipped rather than compared.
 *
 * Layers are checked through `output p(x)` with the loss Σ prediction·R for
 * fixed random weights R, so the cotangent is not all ones; everything else
 * through the model's own loss (selected losses plus bottleneck terms).
 */
import { describe, expect, it } from "vitest";
import { initialize, lowerCheckedModel, lowerModel } from "../../compiler/lower/index.js";
import { rng, weightedSum } from "../autodiff/fd.js";
import { feedsFor, lowerSrc, modelOf } from "../lower/harness.js";
import { checkDirectional, checkLoweredGradients, examplePrograms, expectGradientsMatch, intAt, modelFeeds } from "./helpers.js";

/** Ids in range for the small programs: every integer input here has at least 3 ids. */
const ints = (k: number, name: string) => intAt(k, name, 3);

/** `output p(x)` of one layer (or chain) on an input of type `input`, with a weighted-sum loss. */
function checkLayer(layer: string, input: string, extraInputs = "") {
  const lowered = lowerSrc(`model T {\n  input x: ${input}\n${extraInputs}  part p = ${layer}\n  output p(x)\n}\n`);
  const loss = weightedSum(lowered.builder, lowered.outputs.prediction!, rng(7));
  const report = checkLoweredGradients(lowered, feedsFor(lowered, {}, ints), 6, 11, loss);
  expectGradientsMatch(report);
  return report;
}

/** A model with losses, lowered in training mode; the gradient of its objective. */
function checkModel(src: string, minChecked = 1) {
  const lowered = lowerSrc(src);
  const report = checkLoweredGradients(lowered, feedsFor(lowered, {}, ints), 6, 13);
  expectGradientsMatch(report, minChecked);
  return { lowered, report };
}

describe("layers", () => {
  const cases: [string, string, string?][] = [
    ["dense(3)", "f32[4]"],
    ["dense(3, bias: false)", "f32[2, 4]"],
    ["classifier(classes: 3)", "f32[5]"],
    ["conv2d(filters: 2, kernel: 3)", "f32[2, 4, 4]"],
    ["conv2d(filters: 2, kernel: 3, stride: 2)", "f32[1, 5, 5]"],
    ["conv_transpose2d(filters: 2, kernel: 3)", "f32[2, 3, 3]"],
    ["conv_transpose2d(filters: 1, kernel: 3, stride: 2)", "f32[2, 2, 2]"],
    ["conv2d(filters: 2, kernel: 3) -> max_pool", "f32[1, 4, 4]"],
    ["conv2d(filters: 2, kernel: 3) -> max_pool(size: 3, stride: 2)", "f32[1, 5, 5]"],
    ["conv2d(filters: 2, kernel: 3) -> avg_pool", "f32[1, 4, 4]"],
    ["dense(4) -> layer_norm", "f32[3, 2]"],
    ["dense(4) -> batch_norm", "f32[3]"],
    ["conv2d(filters: 2, kernel: 3) -> batch_norm", "f32[1, 3, 3]"],
    ["attention(heads: 2)", "f32[3, 4]"],
    ["attention(heads: 2, causal: true)", "f32[4, 4]"],
    ["attention(heads: 2, context: mem)", "f32[3, 4]", "  input mem: f32[5, 4]\n"],
    ["attention(heads: 2, dropout: 0.3)", "f32[3, 4]"],
    ["embedding(vocab: 5, dim: 3) -> positional(length: 4)", "tokens(length: 4, vocab: 5)"],
    ["embedding(vocab: 4, dim: 3)", "token(vocab: 4)"],
    ["patchify(size: 2) -> dense(4) -> unpatchify(size: 2)", "f32[1, 4, 4]"],
    ["dense(3) -> l2_normalize", "f32[2, 4]"],
    ["dense(4) -> softmax", "f32[2, 3]"],
    ["dense(4) -> softmax(axis: 0)", "f32[3, 3]"],
    ["dense(3) -> gelu", "f32[4]"],
    ["dense(3) -> silu", "f32[4]"],
    ["dense(3) -> tanh", "f32[4]"],
    ["dense(3) -> sigmoid", "f32[4]"],
    ["dense(3) -> relu -> dense(2)", "f32[4]"],
    ["dense(4) -> dropout(rate: 0.3)", "f32[3]"],
    ["dense(3) -> mean_pool", "f32[3, 2]"],
    ["dense(2) -> flatten -> dense(2)", "f32[3, 2]"],
    ["dense(6) -> reshape(shape: [3, -1]) -> dense(2)", "f32[6]"],
  ];
  for (const [layer, input, extra] of cases) {
    it(`${layer} on ${input}`, () => {
      checkLayer(layer, input, extra);
    });
  }
});

describe("bottlenecks (their terms included in the objective)", () => {
  const model = (kind: string) =>
    `model T {\n  input x: f32[6]\n  encoder f = dense(4) -> tanh\n  bottleneck z = ${kind}\n  decoder g = dense(6)\n  loss r = mse(g(z(f(x))), x)\n}\n`;
  for (const kind of ["plain(dim: 3)", "noisy(dim: 3, sigma: 0.25)", "variational(dim: 3, beta: 0.5)", "sparse(dim: 4, l1: 0.01)", "normalized(dim: 3)"]) {
    it(kind, () => {
      const { lowered } = checkModel(model(kind), 10);
      if (kind.startsWith("variational")) expect(Object.keys(lowered.outputs.terms)).toEqual(["z.kl"]);
      if (kind.startsWith("sparse")) expect(Object.keys(lowered.outputs.terms)).toEqual(["z.l1"]);
    });
  }
});

describe("masks (drawn from the fixed seed and step)", () => {
  it("random_patches, encoder_sees: visible, with unmask", () => {
    checkModel(`model M {
  input image: f32[1, 4, 4]
  mask m = random_patches(image, size: 2, ratio: 0.5, encoder_sees: visible)
  encoder f = dense(3) -> gelu
  decoder g = dense(3) -> unmask(m) -> positional(length: 4) -> dense(4) -> unpatchify(size: 2)
  loss l = mse(g(f(m.input)), m.target) on m.masked
}
`);
  });

  it("random_patches, encoder_sees: mask_token (the token is trained)", () => {
    const { lowered, report } = checkModel(`model M {
  input image: f32[1, 4, 4]
  mask m = random_patches(image, size: 2, ratio: 0.5, encoder_sees: mask_token)
  encoder f = dense(3) -> tanh -> dense(4) -> unpatchify(size: 2)
  loss l = mse(f(m.input), m.target) on m.masked
}
`);
    expect(lowered.params.find((p) => p.name === "m.token")?.trainable).toBe(true);
    expect(report.checked.some((c) => c.param === "m.token")).toBe(true);
  });

  it("channels", () => {
    checkModel(`model M {
  input image: f32[3, 3, 3]
  mask m = channels(image, keep: [0])
  encoder f = conv2d(filters: 2, kernel: 3) -> tanh
  loss l = mse(f(m.input), m.target)
}
`);
  });

  it("tokens, with the loss on masked positions", () => {
    checkModel(`model M {
  input t: tokens(length: 6, vocab: 5, special: [mask])
  mask m = tokens(t, ratio: 0.5, mask_token: mask)
  encoder f = embedding(vocab: 5, dim: 3) -> attention(heads: 1)
  head W = classifier(classes: 5)
  loss fill = cross_entropy(W(f(m.input)), m.target) on m.masked
}
`);
  });

  it("next_token", () => {
    checkModel(`model M {
  input t: tokens(length: 5, vocab: 4)
  mask m = next_token(t)
  encoder f = embedding(vocab: 4, dim: 4) -> positional(length: 4) -> attention(heads: 2, causal: true)
  head W = classifier(classes: 4)
  loss next = cross_entropy(W(f(m.input)), m.target)
}
`);
  });

  it("features", () => {
    checkModel(`model M {
  input x: f32[2, 5]
  mask m = features(x, ratio: 0.3)
  encoder f = dense(5) -> sigmoid
  loss l = mse(f(m.input), m.target) on m.masked
}
`);
  });
});

describe("views", () => {
  it("augment: shift, flip, channel drop and noise, two views through one encoder", () => {
    checkModel(`model V {
  input image: f32[2, 4, 4]
  views a, b = augment(image, shift: 1, flip: true, channel_drop: 0.3, noise: 0.1)
  encoder f = conv2d(filters: 2, kernel: 3) -> flatten -> dense(3)
  loss l = mse(f(a), f(b))
}
`);
  });

  it("augment on rows, into info_nce", () => {
    checkModel(`model V {
  input row: f32[6]
  views a, b = augment(row, noise: 0.5)
  encoder f = dense(4) -> tanh -> dense(3)
  loss l = info_nce(f(a), f(b), temperature: 0.5)
}
`);
  });
});

describe("objectives", () => {
  const two = (objective: string, target = "f32[3]") => `model O {\n  input x: f32[4]\n  input y: ${target}\n  part p = dense(3)\n  loss l = ${objective}\n}\n`;
  it("mse", () => void checkModel(two("mse(p(x), y)")));
  it("bce on sigmoid outputs", () => void checkModel(`model O {\n  input x: f32[4]\n  input y: f32[3]\n  part p = dense(3) -> sigmoid\n  loss l = bce(p(x), y)\n}\n`));
  it("cross_entropy against labels", () => void checkModel(two("cross_entropy(p(x), y)", "label(classes: 3)")));
  it("cross_entropy per position against tokens", () =>
    void checkModel(`model O {\n  input x: f32[4, 2]\n  input y: tokens(length: 4, vocab: 3)\n  part p = dense(3)\n  loss l = cross_entropy(p(x), y)\n}\n`));
  it("info_nce with a temperature", () => void checkModel(`model O {\n  input x: f32[4]\n  input y: f32[4]\n  part p = dense(3)\n  part q = dense(3)\n  loss l = info_nce(p(x), q(y), temperature: 0.2)\n}\n`));
  it("skipgram with negatives from the alias table", () => {
    const src = `model S {\n  input center: token(vocab: 6)\n  input context: token(vocab: 6)\n  encoder f = embedding(vocab: 6, dim: 3)\n  part c = embedding(vocab: 6, dim: 3)\n  loss sgns = skipgram(f(center), context, table: c, negatives: 4)\n}\n`;
    const model = modelOf(src);
    const lowered = lowerCheckedModel(model, { batch: 2, mode: "train" });
    // modelFeeds builds a real alias table for the negatives (feedsFor would fill it with noise).
    const report = checkLoweredGradients(lowered, modelFeeds(lowered, model), 6, 17);
    expectGradientsMatch(report);
  });
  it("kl between two sets of logits", () => void checkModel(`model O {\n  input x: f32[4]\n  part p = dense(3)\n  part q = dense(3)\n  loss l = kl(p(x), q(x))\n}\n`));
  it("weighted sums and differences of losses", () =>
    void checkModel(`model O {\n  input x: f32[4]\n  input y: f32[3]\n  part p = dense(3)\n  part q = dense(3)\n  loss l = mse(p(x), y) + 0.5 * mse(q(x), y) - mse(p(x), q(x)) / 4\n}\n`));
  it("several losses and a bottleneck term together", () =>
    void checkModel(`model O {\n  input x: f32[4]\n  input y: label(classes: 3)\n  encoder f = dense(4)\n  bottleneck z = variational(dim: 2)\n  decoder g = dense(4)\n  head W = classifier(classes: 3)\n  loss r = mse(g(z(f(x))), x)\n  loss c = cross_entropy(W(f(x)), y)\n  output W(f(x))\n}\n`));
});

describe("examples (initial weights; directional derivatives on sampled params and on all at once)", () => {
  for (const { file, program } of examplePrograms()) {
    for (const model of program.models) {
      it(`${file}: ${model.name}`, () => {
        const lowered = lowerModel(program, model.name, { batch: 2, mode: "train" });
        const feeds = modelFeeds(lowered, model);
        for (const [name, data] of initialize(lowered.params, 1)) feeds[name] = { shape: feeds[name]!.shape, data: [...data] };
        const report = checkDirectional(lowered, feeds, 2, 19);
        expectGradientsMatch(report);
      });
    }
  }
});
