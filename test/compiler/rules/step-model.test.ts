import { describe, expect, it } from "vitest";
import { expectErrors, expectValid } from "../harness.js";

/** A supervised model whose label input says 5 classes; data with 10. Lines 1-13. */
const prelude = `data digits {
  image: f32[1, 28, 28]
  label: label(classes: 10)
}
model Net {
  input image: f32[1, 28, 28]
  input label: label(classes: 5)
  encoder f = flatten -> dense(32) -> relu
  head W = classifier(classes: 5)
  loss classify = cross_entropy(W(f(image)), label)
  output W(f(image))
}
data raw { image: f32[1, 28, 28] }
`;
const pipeline = (...steps: string[]) => `${prelude}pipeline P {\n${steps.map((s) => `  ${s}\n`).join("")}}\n`;

describe("each step checks the model as it is at that step", () => {
  it("label inputs take the class count of the step's data", () => {
    expectValid(
      pipeline(
        "pretrain Net on digits.train(labels: [0, 1, 2, 3, 4])",
        "freeze f",
        "replace W with classifier(classes: 2)",
        "adapt on digits.train(labels: [5, 6], per_class: 10)",
        "adapt on digits.train(labels: [7, 8]) { objective: classify }",
        "test on digits.test(labels: [5, 6]) { metrics: [accuracy, top_k(k: 2), nearest_neighbors(k: 3)] }",
      ),
    );
  });

  it("a head with the wrong class count for the step's labels", () => {
    const [d] = expectErrors(pipeline("pretrain Net on digits.train"), [{ code: "RC409", line: 15, column: 19 }]);
    expect(d!.message).toBe("cross_entropy gets logits for 5 classes, but the labels have 10 classes");
    expect(d!.related[0]!.message).toBe("in model 'Net'");
    expect(d!.source.position(d!.related[0]!.span.start).line).toBe(10);
    expect(d!.notes).toEqual(["the model is checked here with the labels of 'digits.train' (10 classes)"]);
  });

  it("a replacement head that does not fit is reported at the replace step", () => {
    expectErrors(pipeline("pretrain Net on digits.train(labels: [0, 1, 2, 3, 4])", "replace W with conv2d(4)"), [{ code: "RC401", line: 16, column: 18 }]);
  });

  it("after replace, the losses use the new head", () => {
    const [d] = expectErrors(
      pipeline("pretrain Net on digits.train(labels: [0, 1, 2, 3, 4])", "replace W with classifier(classes: 3)", "adapt on digits.train(labels: [5, 6]) { objective: classify }"),
      [{ code: "RC409", line: 17, column: 12 }],
    );
    expect(d!.notes).toEqual(["the model is checked here with the labels of 'digits.train' (2 classes) and with the head replaced"]);
  });

  it("top_k asks for at most K classes", () => {
    expectErrors(pipeline("pretrain Net on digits.train(labels: [0, 1, 2, 3, 4])", "test on digits.test(labels: [0, 1, 2, 3, 4]) { metrics: [top_k(k: 6)] }"), [
      { code: "RC307", line: 16, column: 60 },
    ]);
  });

  it("only the inputs a step reads must be in its data", () => {
    // test reports the losses whose inputs the split provides, so unlabelled data is fine without metrics.
    expectValid(pipeline("pretrain Net on digits.train(labels: [0, 1, 2, 3, 4])", "test on raw.test"));
    expectErrors(pipeline("pretrain Net on raw.train"), [{ code: "RC511", line: 15, column: 19 }]);
  });

  it("nearest_neighbors needs an encoder on the prediction path", () => {
    const model = "model Flat {\n  input image: f32[1, 28, 28]\n  part p = flatten -> dense(10)\n  loss l = mse(p(image), p(image))\n  output p(image)\n}\n";
    expectErrors(`${model}${pipeline("pretrain Flat on digits.train", "test on digits.test { metrics: [nearest_neighbors] }")}`, [{ code: "RC526", line: 22, column: 35 }]);
  });

  it("every part an objective trains is frozen", () => {
    expectErrors(pipeline("pretrain Net on digits.train(labels: [0, 1, 2, 3, 4])", "freeze f, W", "adapt on digits.train(labels: [0, 1, 2, 3, 4]) { objective: classify }"), [
      { code: "RC525", line: 17, column: 3 },
    ]);
  });
});
