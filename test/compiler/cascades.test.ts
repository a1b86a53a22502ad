import { describe, expect, it } from "vitest";
import { expectErrors } from "./harness.js";

/** One mistake gives one error: what follows from a reported problem stays quiet. */
describe("one mistake, one error", () => {
  it("a misspelt imported name is reported at the import, not at its uses", () => {
    const src = 'import { mlpp } from "std"\nmodel M {\n  input x: f32[16]\n  encoder f = mlpp(hidden: 8, out: 4)\n  loss l = mse(f(x), f(x))\n}';
    const [d] = expectErrors(src, [{ code: "RC205", line: 1, column: 10 }]);
    expect(d!.notes).toEqual(["did you mean 'mlp'?"]);
  });

  it("a misspelt argument name is not also a missing argument", () => {
    const src = 'import { mlp } from "std"\nmodel M {\n  input x: f32[16]\n  encoder f = mlp(hiden: 128, out: 10)\n  loss l = mse(f(x), f(x))\n}';
    const [d] = expectErrors(src, [{ code: "RC301", line: 4, column: 19 }]);
    expect(d!.message).toBe("block 'mlp' has no parameter 'hiden'");
    expect(d!.notes).toEqual(["did you mean 'hidden'?"]);
  });

  it("replacing a part that is not a head does not also report the head's classes", () => {
    const src = [
      "data digits {\n  image: f32[1, 28, 28]\n  label: label(classes: 10)\n}",
      "model M {\n  input image: f32[1, 28, 28]\n  input label: label(classes: 10)\n  encoder f = flatten -> dense(32)\n  part W = classifier(classes: 10)\n  output W(f(image))\n  loss l = cross_entropy(W(f(image)), label)\n}",
      "pipeline P {\n  pretrain M on digits.train\n  replace W with classifier(classes: 3)\n  adapt on digits.train(labels: [1, 2, 3])\n}",
    ].join("\n");
    const [d] = expectErrors(src, [{ code: "RC503", line: 15, column: 11 }]);
    expect(d!.message).toBe("replace needs a head, but 'W' is a part");
  });

  it("a member that reuses a built-in name is still the value it declares", () => {
    const src = "model M {\n  input x: f32[16]\n  views noisy, other = augment(x, noise: 0.1)\n  encoder f = dense(8)\n  loss l = mse(f(noisy), f(other))\n}";
    expectErrors(src, [{ code: "RC206", line: 3, column: 9 }]);
  });

  it("and a call of that name still reaches the built-in it hides", () => {
    const src =
      "model M {\n  input x: f32[16]\n  views noisy, other = augment(x, noise: 0.1)\n  encoder f = dense(8)\n  bottleneck z = noisy(dim: 4, sigma: 0.1)\n  decoder g = dense(16)\n  loss l = mse(g(z(f(noisy))), other)\n}";
    expectErrors(src, [{ code: "RC206", line: 3, column: 9 }]);
  });

  it("a mask with a bad argument silences what depends on it", () => {
    const src =
      "model M {\n  input text: tokens(length: 16, vocab: 100)\n  mask m = tokens(text, ratio: 0.15, mask_token: 100)\n  encoder f = embedding(vocab: 101, dim: 8)\n  head W = dense(100)\n  loss l = cross_entropy(W(f(m.input)), m.target) on m.masked\n}";
    const [d] = expectErrors(src, [{ code: "RC307", line: 3, column: 50 }]);
    expect(d!.message).toBe("argument 'mask_token' of mask 'm' (tokens) must be an id in [0, 99], got 100");
  });

  it("a part applied only through a block that is reported recursive is not also unused", () => {
    const src = "block b(n: int) {\n  dense(n) -> b(n)\n}\nmodel M {\n  input x: f32[4]\n  part p = b(4)\n  output p(x)\n}";
    expectErrors(src, [{ code: "RC212", line: 2, column: 15 }]);
  });
});

describe("messages describe values by what they are", () => {
  it("a let is named as a let", () => {
    const src = "model M {\n  input x: f32[8, 16]\n  encoder f = dense(16)\n  let test = f(x)\n  output test -> mean_pool(axis: test)\n}";
    const [d] = expectErrors(src, [{ code: "RC306", line: 5, column: 34 }]);
    expect(d!.message).toBe("argument 'axis' of mean_pool expects an int, got let 'test', f32[B, 8, 16]");
  });

  it("info_nce needs one vector per example", () => {
    const src = "model M {\n  input x: f32[8, 16]\n  views a, b = augment(x, noise: 0.1)\n  encoder f = dense(16)\n  loss l = info_nce(f(a), f(b))\n}";
    const [d] = expectErrors(src, [{ code: "RC408", line: 5, column: 12 }]);
    expect(d!.message).toBe("info_nce needs one embedding vector per example ([B, D] and [B, D]), got [B, 8, 16] and [B, 8, 16]");
    expect(d!.notes).toEqual(["make each example one vector before comparing: pool or flatten it, e.g. '-> mean_pool' or '-> flatten'"]);
  });

  it("cross_entropy says what logits its labels need, and hints a missing flatten", () => {
    const src = "model M {\n  input image: f32[1, 28, 28]\n  input label: label(classes: 10)\n  head W = classifier(classes: 10)\n  loss l = cross_entropy(W(image), label)\n}";
    const [d] = expectErrors(src, [{ code: "RC408", line: 5, column: 12 }]);
    expect(d!.message).toBe(
      "cross_entropy needs logits [B, K] (one score per class) for labels [B], or [B, L, K] for labels [B, L], got logits [B, 1, 28, 10] and labels [B]",
    );
    expect(d!.notes).toEqual(["the logits have 2 axes too many: put 'flatten' (or a pooling layer such as mean_pool) before the layer that makes them"]);
    const seq = "model M {\n  input text: tokens(length: 8, vocab: 5)\n  input next: tokens(length: 6, vocab: 5)\n  part e = embedding(vocab: 5, dim: 5)\n  loss l = cross_entropy(e(text), next)\n}";
    const [s] = expectErrors(seq, [{ code: "RC408", line: 5, column: 12 }]);
    expect(s!.message).toBe("cross_entropy needs logits [B, 6, K] (one score per class) for labels [B, 6], got logits [B, 8, 5] and labels [B, 6]");
    expect(s!.notes).toEqual([]);
  });

  it("a mask's problems name the mask and its strategy", () => {
    const src = "model M {\n  input x: f32[16]\n  mask m = features(x, ratio: 0.99)\n  encoder f = dense(16)\n  loss l = mse(f(m.input), m.target) on m.masked\n}";
    const [d] = expectErrors(src, [{ code: "RC411", line: 3, column: 31 }]);
    expect(d!.message).toBe("mask 'm' (features) with ratio 0.99 would produce an empty output from [16]");
  });
});

describe("names whose import failed stay quiet", () => {
  it("a name imported through an import cycle is not also an unknown name", () => {
    const files = { "b.repr": 'import { C } from "./main"\nblock B() {\n  C -> dense(4)\n}\n' };
    const src = 'import { B } from "./b"\nmodel A {\n  input x: f32[4]\n  encoder f = B\n  loss l = mse(f(x), x)\n}\nblock C() {\n  relu\n}\n';
    const [d] = expectErrors(src, [{ code: "RC203", line: 1, column: 19, file: "b.repr" }], files);
    expect(d!.notes).toEqual(["the cycle: main.repr -> b.repr -> main.repr"]);
  });

  it("a name imported from a missing file is not also an unknown name", () => {
    expectErrors('import { mlp2 } from "./nothere"\nmodel M {\n  input x: f32[4]\n  encoder f = mlp2(4)\n  loss l = mse(f(x), x)\n}\n', [{ code: "RC204", line: 1, column: 22 }]);
  });

  it("after a wildcard import that failed, unknown names, blocks and models stay quiet", () => {
    const src = 'import "./nothere"\nblock b() {\n  helper -> relu\n}\nmodel M {\n  input x: f32[4]\n  encoder f = mlp2(4)\n  loss l = mse(f(x), x)\n}\ndata d {\n  x: f32[4]\n}\npipeline P {\n  pretrain Other on d.train\n}\n';
    expectErrors(src, [{ code: "RC204", line: 1, column: 8 }]);
  });
});

describe("mistakes the damaged-program generator found reported twice", () => {
  const digits = "data digits {\n  image: f32[1, 28, 28]\n  label: label(classes: 10)\n}\n";

  it("a second member reusing a built-in name is only a duplicate", () => {
    const src = "model M {\n  input mse: f32[8]\n  input mse: f32[8]\n  output mse\n}\n";
    expectErrors(src, [
      { code: "RC206", line: 2, column: 9 },
      { code: "RC202", line: 3, column: 9 },
    ]);
  });

  it("arguments left out of one call are one error naming them all", () => {
    const [d] = expectErrors("model M {\n  input x: f32[4]\n  loss l = mse()\n}\n", [{ code: "RC327", line: 3, column: 12 }]);
    expect(d!.message).toBe("mse needs the arguments 'pred' (a value) and 'target' (a value)");
  });

  it("an input that does not match its data is reported at the first step that binds it, and explains the prediction", () => {
    const src = `${digits}model Net {\n  input image: f32[1, 28, 29]\n  input label: label(classes: 10)\n  encoder f = flatten -> dense(16)\n  head W = classifier(classes: 10)\n  loss l = cross_entropy(W(f(image)), label)\n}\npipeline P {\n  pretrain Net on digits.train\n  adapt on digits.train(per_class: 10)\n  test on digits.test { metrics: [accuracy] }\n}\n`;
    expectErrors(src, [{ code: "RC512", line: 13, column: 19 }]);
  });

  it("a model without a loss is reported at the first pretrain only", () => {
    const src = `${digits}model Probe {\n  input image: f32[1, 28, 28]\n  encoder f = flatten -> dense(4)\n  output f(image)\n}\npipeline P {\n  pretrain Probe on digits.train\n  pretrain Probe on digits.train\n}\n`;
    expectErrors(src, [
      { code: "RC518", line: 11, column: 12 },
      { code: "RC505", line: 12, column: 12 },
    ]);
  });

  it("a label listed twice is not also a wrong class count", () => {
    const src = `${digits}model Net {\n  input image: f32[1, 28, 28]\n  input label: label(classes: 10)\n  encoder f = flatten -> dense(16)\n  head W = classifier(classes: 10)\n  loss l = cross_entropy(W(f(image)), label)\n}\npipeline P {\n  pretrain Net on digits.train\n  adapt on digits.train(labels: [3, 3])\n}\n`;
    expectErrors(src, [{ code: "RC528", line: 14, column: 12 }]);
  });
});
