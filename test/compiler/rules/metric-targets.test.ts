/**
 * Metric targets (spec/pipelines.md, "Metrics"): what each metric compares
 * the prediction with, by default and by `target:`, and the errors when
 * nothing fits.
 */
import { describe, expect, it } from "vitest";
import { resolveMetricTarget } from "../../../compiler/check/metric-targets.js";
import { labelField } from "../../../compiler/check/data.js";
import { check, expectErrors, expectValid } from "../harness.js";

/** A program of `model`, `data` and a pipeline pretraining it and testing with `metrics`. */
const program = (model: string, data: string, metrics: string) =>
  `${model}\n${data}\npipeline P {\n  pretrain M on d.train\n  test on d.test { metrics: [${metrics}] }\n}\n`;

const autoencoder = `model M {
  input image: f32[1, 8, 8]
  input label: label(classes: 3)
  encoder f = flatten -> dense(4)
  decoder g = dense(64) -> sigmoid -> reshape(shape: [1, 8, 8])
  let code = f(image)
  loss pixels = bce(g(code), image)
  output g(code)
}`;
const images = "data d {\n  image: f32[1, 8, 8]\n  label: label(classes: 3)\n}";

const languageModel = `model M {
  input text: tokens(length: 9, vocab: 12)
  mask m = next_token(text)
  encoder f = embedding(vocab: 12, dim: 8) -> attention(heads: 2, causal: true)
  head W = classifier(classes: 12)
  loss next = cross_entropy(W(f(m.input)), m.target)
}`;
const corpus = "data d {\n  text: tokens(length: 9, vocab: 12)\n}";

/** The target each metric of the program's test step resolves to, as text. */
function targets(src: string): string[] {
  const { program: p } = expectValid(src);
  const model = p.models[0]!;
  const test = p.pipelines[0]!.steps.find((s) => s.kind === "test")!;
  const data = p.data[0]!;
  return test.settings.metrics.map((m) => {
    const t = resolveMetricTarget(model, model.prediction!.type, m, labelField(data));
    return "problem" in t ? "?" : t.kind === "labels" ? `label field '${t.field}'` : t.text;
  });
}

describe("default targets", () => {
  it("an autoencoder's values are compared with its one input of their shape, whatever its loss", () => {
    expect(targets(program(autoencoder, images, "mse, mae, psnr, psnr(max: 255)"))).toEqual(["image", "image", "image", "image"]);
  });

  it("a language model's scores with the next tokens, the target of the mask its prediction reads", () => {
    expect(targets(program(languageModel, corpus, "perplexity, accuracy, top_k(k: 3)"))).toEqual(["m.target", "m.target", "m.target"]);
  });

  it("a colorization model's channels with the mask's target", () => {
    const colorize = `model M {
  input image: f32[3, 8, 8]
  mask m = channels(image, keep: [0])
  encoder f = conv2d(filters: 2)
  loss colour = mse(f(m.input), m.target)
  output f(m.input)
}`;
    expect(targets(program(colorize, "data d {\n  image: f32[3, 8, 8]\n}", "mse, psnr"))).toEqual(["m.target", "m.target"]);
  });

  it("a classifier's scores with the label field", () => {
    const classifier = "model M {\n  input x: f32[4]\n  input label: label(classes: 3)\n  head W = classifier(classes: 3)\n  loss l = cross_entropy(W(x), label)\n}";
    expect(targets(program(classifier, "data d {\n  x: f32[4]\n  label: label(classes: 3)\n}", "accuracy, perplexity"))).toEqual(["label field 'label'", "label field 'label'"]);
  });
});

describe("target:", () => {
  it("names an input, a let or a mask's target", () => {
    const model = autoencoder.replace("  output g(code)", "  let same = image * 1\n  output g(code)");
    expect(targets(program(model, images, "mse(target: image), mae(target: same)"))).toEqual(["image", "same"]);
    expect(targets(program(languageModel, corpus, "perplexity(target: m.target)"))).toEqual(["m.target"]);
  });

  it("an unknown name is RC561, with a suggestion", () => {
    const [d] = expectErrors(program(autoencoder, images, "mse(target: imag)"), [{ code: "RC561", line: 16, column: 42 }]);
    expect(d!.notes).toEqual(["did you mean 'image'?"]);
  });

  it("a target that does not fit is RC560", () => {
    const [d] = expectErrors(program(autoencoder, images, "mse(target: code)"), [{ code: "RC560", line: 16, column: 42 }]);
    expect(d!.message).toBe("metric 'mse' compares the prediction, f32[B, 1, 8, 8], with code, f32[B, 4], but it needs f32 values of the prediction's shape");
    expectErrors(program(languageModel, corpus, "accuracy(target: text)"), [{ code: "RC560", line: 13, column: 47 }]);
  });

  it("scores for another number of classes than the target's is RC560", () => {
    const small = languageModel.replace("classifier(classes: 12)", "classifier(classes: 12) -> dense(7)").replace("loss next = cross_entropy(W(f(m.input)), m.target)", "loss next = mean(W(f(m.input)))");
    const [d] = expectErrors(program(small, corpus, "perplexity"), [{ code: "RC560", line: 13, column: 30 }]);
    expect(d!.message).toContain("the prediction scores 7 classes and the target has 12");
    expectErrors(program(small, corpus, "perplexity(target: m.target)"), [{ code: "RC560", line: 13, column: 49 }]);
  });

  it("a statistic of the batch is no target (RC452)", () => {
    const model = autoencoder.replace("  output g(code)", "  let average = mean(image, axis: batch)\n  output g(code)");
    expectErrors(program(model, images, "mse(target: average)"), [{ code: "RC452", line: 17, column: 42 }]);
  });

  it("is a name, not an expression", () => {
    expectErrors(program(autoencoder, images, "mse(target: image * 2)"), [{ code: "RC306", line: 16, column: 42 }]);
  });
});

describe("what a metric needs", () => {
  it("class metrics without a target: the label field for one score per class (RC514), else a target (RC526)", () => {
    const classifier = "model M {\n  input x: f32[4]\n  head W = classifier(classes: 3)\n  loss l = mean(W(x))\n}";
    expectErrors(program(classifier, "data d {\n  x: f32[4]\n}", "accuracy"), [{ code: "RC514", line: 11, column: 11 }]);
    const sequence = "model M {\n  input x: f32[5, 4]\n  head W = classifier(classes: 3)\n  loss l = mean(W(x))\n}";
    expectErrors(program(sequence, "data d {\n  x: f32[5, 4]\n}", "perplexity"), [{ code: "RC526", line: 11, column: 30 }]);
  });

  it("top_k's k at most the classes, also per position", () => {
    expectErrors(program(languageModel, corpus, "top_k(k: 13)"), [{ code: "RC307", line: 13, column: 30 }]);
  });

  it("a model without a prediction (RC513), once for the step", () => {
    const model = "model M {\n  input image: f32[1, 8, 8]\n  encoder f = flatten -> dense(64) -> reshape(shape: [1, 8, 8])\n  loss l = mse(f(image), image)\n}";
    expect(check(program(model, images, "mse, mae")).diagnostics.map((d) => d.code)).toEqual(["RC513"]);
  });
});
