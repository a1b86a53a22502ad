import { describe, expect, it } from "vitest";
import { check, expectErrors, expectValid } from "../harness.js";

/** Lines 1-13 of every program here; pipelines start on line 14. */
const prelude = `data digits {
  image: f32[1, 28, 28]
  label: label(classes: 10)
}
data pixels { image: f32[784] }
model Net {
  input image: f32[1, 28, 28]
  encoder f = flatten -> dense(64) -> relu
  decoder g = dense(784) -> reshape([1, 28, 28])
  head W = classifier(classes: 10)
  loss recon = mse(g(f(image)), image)
}
model NoLoss { input image: f32[1, 28, 28] }
`;
const pipeline = (...steps: string[]) => `${prelude}pipeline P {\n${steps.map((s) => `  ${s}\n`).join("")}}\n`;
const pretrain = "pretrain Net on digits.train { epochs: 1, optimizer: adam(lr: 0.001) }";

describe("a valid transfer pipeline", () => {
  it("checks, and records the steps", () => {
    const { program } = expectValid(
      pipeline(
        pretrain,
        "freeze f",
        "replace W with classifier(classes: 3)",
        "adapt on digits.train(labels: [1, 4, 7], per_class: 10) { epochs: 5, optimizer: sgd(lr: 0.1), schedule: cosine(warmup: 10), lr_scale: { W: 2 } }",
        "test on digits.test(labels: [1, 4, 7]) { metrics: [accuracy, top_k(k: 2), perplexity] }",
      ),
    );
    const steps = program.pipelines[0]!.steps;
    expect(steps.map((s) => s.kind)).toEqual(["pretrain", "freeze", "replace", "adapt", "test"]);
    const [pre, , replace, adapt, test] = steps;
    expect(pre!.kind === "pretrain" && pre.settings.objectives).toEqual(["recon"]);
    expect(pre!.kind === "pretrain" && pre.settings.optimizer).toEqual({ name: "adam", args: { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 } });
    expect(replace!.kind === "replace" && replace.params).toBe(65 * 3);
    expect(adapt!.kind === "adapt" && adapt.trainable).toEqual(["W"]);
    expect(adapt!.kind === "adapt" && adapt.data).toEqual({ data: "digits", split: "train", perClass: 10, labels: [1, 4, 7], classes: 3 });
    expect(test!.kind === "test" && test.settings.metrics.map((m) => m.name)).toEqual(["accuracy", "top_k", "perplexity"]);
  });
});

describe("pipeline-starts-with-pretrain", () => {
  it("the first step is pretrain", () => {
    expectErrors(pipeline("freeze f", pretrain), [{ code: "RC504", line: 15, column: 3 }]);
  });

  it("one model per pipeline", () => {
    expectErrors(pipeline(pretrain, "pretrain Net on digits.train"), [{ code: "RC505", line: 16, column: 12 }]);
  });

  it("pretrain names a model", () => {
    const [d] = expectErrors(pipeline("pretrain Nett on digits.train"), [{ code: "RC210", line: 15, column: 12 }]);
    expect(d!.notes).toEqual(["did you mean 'Net'?"]);
    expectErrors(pipeline("pretrain digits on digits.train"), [{ code: "RC210", line: 15, column: 12 }]);
  });
});

describe("step-parts-exist", () => {
  it("freeze, unfreeze, replace and lr_scale name parts", () => {
    const [d] = expectErrors(pipeline(pretrain, "freeze ff"), [{ code: "RC209", line: 16, column: 10 }]);
    expect(d!.notes).toEqual(["did you mean 'f'?"]);
    expectErrors(pipeline(pretrain, "replace V with classifier(2)"), [{ code: "RC209", line: 16, column: 11 }]);
    expectErrors(pipeline(pretrain, "adapt on digits.train { lr_scale: { h: 0.1 } }"), [{ code: "RC209", line: 16, column: 39 }]);
  });

  it("freezing twice is a warning", () => {
    const [d] = expectErrors(pipeline(pretrain, "freeze f", "freeze f"), [{ code: "RC524", line: 17, column: 10 }]);
    expect(d!.severity).toBe("warning");
    expectErrors(pipeline(pretrain, "unfreeze f"), [{ code: "RC524", line: 16, column: 12 }]);
  });
});

describe("replace-targets-head", () => {
  it("only a head can be replaced", () => {
    const [d] = expectErrors(pipeline(pretrain, "replace f with dense(3)"), [{ code: "RC503", line: 16, column: 11 }]);
    expect(d!.message).toBe("replace needs a head, but 'f' is an encoder");
  });
});

describe("step-data", () => {
  it("data must be a split", () => {
    expectErrors(pipeline("pretrain Net on digits"), [{ code: "RC211", line: 15, column: 19 }]);
    expectErrors(pipeline("pretrain Net on digits.valid"), [{ code: "RC506", line: 15, column: 26 }]);
    expectErrors(pipeline("pretrain Net on Net.train"), [{ code: "RC208", line: 15, column: 23 }]);
  });

  it("pretrain data provides every input with its type", () => {
    const [d] = expectErrors(pipeline("pretrain Net on pixels.train"), [{ code: "RC512", line: 15, column: 19 }]);
    expect(d!.message).toBe("input 'image' of model 'Net' is f32[B, 1, 28, 28], but field 'image' of data 'pixels' is f32[B, 784]");
    const missing = `data other { x: f32[1, 28, 28] }\n${pipeline("pretrain Net on other.train")}`;
    expectErrors(missing, [{ code: "RC511", line: 16, column: 19 }]);
  });

  it("the fields one step lacks, or has with another type, share one error each", () => {
    const twoInputs = `model Pair {
  input a: f32[4]
  input b: f32[4]
  encoder f = dense(4)
  loss l = mse(f(a), b)
}
`;
    const [missing] = expectErrors(`${twoInputs}data none { c: f32[4] }\npipeline P {\n  pretrain Pair on none.train\n}\n`, [{ code: "RC511", line: 9, column: 20 }]);
    expect(missing!.message).toBe("data 'none' has no field 'a', which input 'a' of model 'Pair' needs");
    expect(missing!.notes).toEqual(["also: data 'none' has no field 'b', which input 'b' of model 'Pair' needs"]);
    const [typed] = expectErrors(`${twoInputs}data wide { a: f32[5]\n b: f32[6] }\npipeline P {\n  pretrain Pair on wide.train\n}\n`, [{ code: "RC512", line: 10, column: 20 }]);
    expect(typed!.message).toBe("input 'a' of model 'Pair' is f32[B, 4], but field 'a' of data 'wide' is f32[B, 5]");
    expect(typed!.notes).toEqual(["also: input 'b' of model 'Pair' is f32[B, 4], but field 'b' of data 'wide' is f32[B, 6]"]);
  });

  it("labels must be classes of the data, once each", () => {
    expectErrors(pipeline(pretrain, "replace W with classifier(2)", "adapt on digits.train(labels: [3, 10])"), [{ code: "RC517", line: 17, column: 12 }]);
    expectErrors(pipeline(pretrain, "replace W with classifier(2)", "adapt on digits.train(labels: [3, 3])"), [{ code: "RC528", line: 17, column: 12 }]);
    expectErrors(pipeline("pretrain Net on pixels.train(per_class: 5)"), [{ code: "RC514", line: 15, column: 19 }]);
  });

  it("the prediction's classes must match the labels", () => {
    const [d] = expectErrors(pipeline(pretrain, "adapt on digits.train(labels: [0, 1])"), [{ code: "RC515", line: 16, column: 12 }]);
    expect(d!.message).toBe("model 'Net' predicts 10 classes, but 'digits.train' has 2 classes");
  });

  it("adapt and test need a prediction and labels", () => {
    const model = "model Flat {\n  input image: f32[1, 28, 28]\n  encoder f = flatten -> dense(8)\n  loss l = mse(f(image), f(image))\n}\n";
    expectErrors(`${model}${pipeline("pretrain Flat on digits.train", "test on digits.test { metrics: [accuracy] }")}`, [
      { code: "RC513", line: 21, column: 3 },
    ]);
    const unlabeled = `data raw { image: f32[1, 28, 28] }\n${pipeline(pretrain, "adapt on raw.train")}`;
    expectErrors(unlabeled, [{ code: "RC514", line: 17, column: 12 }]);
  });

  it("a test step with several needs for labels that its data lacks: one error", () => {
    const unlabeled = `data raw { image: f32[1, 28, 28] }\n${pipeline(pretrain, "test on raw.test(labels: [1, 2]) { metrics: [accuracy] }")}`;
    const [d] = expectErrors(unlabeled, [{ code: "RC514", line: 17, column: 11 }]);
    expect(d!.message).toBe("selecting by class in test needs labels, but data 'raw' has no label field (e.g. 'label: label(classes: 10)')");
  });

  it("a label field whose type is misspelt explains the missing labels: no RC514 after it", () => {
    const misspelt = `data raw {\n  image: f32[1, 28, 28]\n  label: labell(classes: 10)\n}\n${pipeline(pretrain, "test on raw.test(labels: [1, 2]) { metrics: [accuracy] }")}`;
    expectErrors(misspelt, [{ code: "RC201", line: 3, column: 10 }]);
  });

  it("a prediction that is not one vector of class scores", () => {
    const model = "model Seq {\n  input image: f32[1, 28, 28]\n  encoder f = patchify(4) -> dense(8)\n  head W = classifier(10)\n  loss l = mse(f(image), f(image))\n}\n";
    const [d] = expectErrors(`${model}${pipeline("pretrain Seq on digits.train", "test on digits.test { metrics: [accuracy] }")}`, [{ code: "RC526", line: 22, column: 11 }]);
    expect(d!.message).toBe("metric 'accuracy' needs a prediction of one score per class [K], but model 'Seq' predicts f32[B, 49, 10]");
  });
});

describe("step-settings", () => {
  it("unknown settings, with suggestions", () => {
    const [d] = expectErrors(pipeline("pretrain Net on digits.train { epoch: 3 }"), [{ code: "RC516", line: 15, column: 34 }]);
    expect(d!.notes).toEqual(["did you mean 'epochs'?"]);
    expectErrors(pipeline(pretrain, "test on digits.test { epochs: 3 }"), [{ code: "RC516", line: 16, column: 25 }]);
  });

  it("objective names are losses of the model", () => {
    const [d] = expectErrors(pipeline("pretrain Net on digits.train { objective: recn }"), [{ code: "RC507", line: 15, column: 45 }]);
    expect(d!.notes).toEqual(["did you mean 'recon'?"]);
  });

  it("epochs or steps, not both", () => {
    expectErrors(pipeline("pretrain Net on digits.train { epochs: 1, steps: 100 }"), [{ code: "RC519", line: 15, column: 45 }]);
  });

  it("optimizer, schedule and metric arguments are checked", () => {
    expectErrors(pipeline("pretrain Net on digits.train { optimizer: adam(lr: -1) }"), [{ code: "RC307", line: 15, column: 54 }]);
    expectErrors(pipeline("pretrain Net on digits.train { optimizer: adma(lr: 1) }"), [{ code: "RC306", line: 15, column: 45 }]);
    expectErrors(pipeline("pretrain Net on digits.train { optimizer: sgd }"), [{ code: "RC320", line: 15, column: 45 }]);
    expectErrors(pipeline("pretrain Net on digits.train { optimizer: adamw(lr: 1, beta1: 1) }"), [{ code: "RC307", line: 15, column: 65 }]);
    expectErrors(pipeline("pretrain Net on digits.train { schedule: warmup }"), [{ code: "RC320", line: 15, column: 44 }]);
    expectErrors(pipeline("pretrain Net on digits.train { layer_decay: 0 }"), [{ code: "RC307", line: 15, column: 47 }]);
    const [d] = expectErrors(pipeline(pretrain, "test on digits.test { metrics: [acuracy] }"), [{ code: "RC508", line: 16, column: 35 }]);
    expect(d!.notes).toEqual(["did you mean 'accuracy'?"]);
    expectErrors(pipeline(pretrain, "test on digits.test { metrics: [top_k(k: 0)] }"), [{ code: "RC307", line: 16, column: 44 }]);
  });

  it("a model to pretrain needs a loss", () => {
    expectErrors(pipeline("pretrain NoLoss on digits.train"), [{ code: "RC518", line: 15, column: 12 }]);
  });

  it("adapt with every part on the prediction path frozen trains nothing", () => {
    expectErrors(pipeline(pretrain, "freeze f, W", "adapt on digits.train"), [{ code: "RC525", line: 17, column: 3 }]);
  });

  it("the mse metric needs a target of the prediction's shape, whatever the losses", () => {
    const model = "model C {\n  input image: f32[1, 28, 28]\n  input label: label(classes: 10)\n  encoder f = flatten -> dense(10)\n  loss ce = cross_entropy(f(image), label)\n  output f(image)\n}\n";
    const r = check(`${model}${pipeline("pretrain C on digits.train", "test on digits.test { metrics: [mse] }")}`);
    expect(r.diagnostics.map((d) => d.code)).toEqual(["RC526"]);
  });
});
