import { describe, expect, it } from "vitest";
import { expectErrors, modelOf } from "../harness.js";

const model = (inputs: string, loss: string) => `model T {\n${inputs}\n  loss l = ${loss}\n}`;

describe("objectives produce scalars", () => {
  it("mse, bce, kl on equal shapes", () => {
    for (const o of ["mse(x, y)", "bce(x -> sigmoid, y)", "kl(x, y)", "mse(x, y) + 0.1 * kl(x, y)"]) {
      const m = modelOf(model("  input x: f32[4, 8]\n  input y: f32[4, 8]", o));
      expect(m.graph.nodes[m.losses[0]!.node]!.type).toEqual({ dtype: "f32", shape: [], batched: false });
    }
    expect(modelOf(model("  input x: f32[4]\n  input y: f32[4]", "mse(x, y) + 0.5 * kl(x, y)")).losses[0]!.objectives).toEqual(["mse", "kl"]);
  });

  it("cross_entropy: logits [..., C] against labels [...] with C classes", () => {
    modelOf(model("  input x: f32[8]\n  input y: label(classes: 3)\n  head W = dense(3)", "cross_entropy(W(x), y)"));
    modelOf(model("  input x: tokens(length: 5, vocab: 7)\n  part p = embedding(7, 4) -> dense(7)", "cross_entropy(p(x), x)"));
  });

  it("info_nce on embeddings [D]; skipgram on an embedding table", () => {
    modelOf(model("  input a: f32[16]\n  input b: f32[16]", "info_nce(a, b)"));
    modelOf(
      "model W {\n  input center: token(vocab: 100)\n  input context: tokens(length: 4, vocab: 100)\n" +
        "  encoder f = embedding(vocab: 100, dim: 16)\n  part c = embedding(vocab: 100, dim: 16)\n  loss sg = skipgram(f(context) -> mean_pool, center, table: c, negatives: 5)\n}",
    );
    const m = modelOf(
      "model W {\n  input center: token(vocab: 100)\n  input context: token(vocab: 100)\n" +
        "  encoder f = embedding(vocab: 100, dim: 16)\n  part c = embedding(vocab: 100, dim: 16)\n  loss sg = skipgram(f(center), context, table: c)\n}",
    );
    // The table is used through its weights: its shapes and parameters are known.
    expect(m.parts.map((p) => [p.name, p.params])).toEqual([["f", 1600], ["c", 1600]]);
  });
});

describe("objective errors", () => {
  it("shapes must agree", () => {
    const [d] = expectErrors(model("  input x: f32[784]\n  input y: f32[1, 28, 28]", "mse(x, y)"), [{ code: "RC408", line: 4, column: 12 }]);
    expect(d!.message).toBe("mse needs two values of the same shape, got [B, 784] and [B, 1, 28, 28]");
  });

  it("cross_entropy needs integer labels with the logits' class count", () => {
    expectErrors(model("  input x: f32[8]\n  input y: f32[3]\n  head W = dense(3)", "cross_entropy(W(x), y)"), [{ code: "RC317", line: 5, column: 32 }]);
    const [d] = expectErrors(model("  input x: f32[8]\n  input y: label(classes: 10)\n  head W = dense(3)", "cross_entropy(W(x), y)"), [{ code: "RC409", line: 5, column: 12 }]);
    expect(d!.message).toBe("cross_entropy gets logits for 3 classes, but the labels have 10 classes");
  });

  it("objectives need floats where they compare values", () => {
    expectErrors(model("  input x: f32[8]\n  input y: tokens(length: 8, vocab: 5)", "mse(x, y)"), [{ code: "RC314", line: 4, column: 19 }]);
  });

  it("skipgram: a center embedding, context ids that fit an embedding table", () => {
    const prelude = "model W {\n  input c: token(vocab: 10)\n  encoder f = embedding(10, 4)\n";
    expectErrors(`${prelude}  part t = dense(4)\n  loss sg = skipgram(f(c), c, table: t)\n}`, [{ code: "RC306", line: 5, column: 38 }]);
    expectErrors(`${prelude}  part t = embedding(5, 4)\n  loss sg = skipgram(f(c), c, table: t)\n}`, [{ code: "RC414", line: 5, column: 28 }]);
    expectErrors(`${prelude}  part t = embedding(10, 8)\n  loss sg = skipgram(f(c), c, table: t)\n}`, [{ code: "RC408", line: 5, column: 13 }]);
    expectErrors(`${prelude}  part t = embedding(10, 4)\n  loss sg = skipgram(c, c, table: t)\n}`, [{ code: "RC314", line: 5, column: 22 }]);
  });

  it("temperature > 0", () => {
    expectErrors(model("  input a: f32[4]\n  input b: f32[4]", "info_nce(a, b, temperature: 0)"), [{ code: "RC307", line: 4, column: 40 }]);
  });

  it("objectives only in models", () => {
    expectErrors("block b() {\n  input x\n  output mse(x, x)\n}\nmodel T {\n  input x: f32[4]\n  output x -> b\n}", [
      { code: "RC318", line: 3, column: 10 },
    ]);
  });
});

describe("value functions", () => {
  it("add, concat, similarity", () => {
    const m = modelOf(
      "model T {\n  input a: f32[4, 8]\n  input b: f32[6, 8]\n  let c = concat(a, b, axis: 0)\n  let s = similarity(a, b, metric: cosine)\n" +
        "  let r = add(a, a)\n  output concat(c -> mean_pool, r -> mean_pool, s -> flatten)\n}",
    );
    expect(m.prediction!.type.shape).toEqual([8 + 8 + 24]);
  });

  it("shape errors", () => {
    expectErrors("model T {\n  input a: f32[4]\n  input b: f32[5]\n  output concat(a, b, axis: 0) -> add(a, b)\n}", [{ code: "RC403", line: 4, column: 35 }]);
    expectErrors("model T {\n  input a: f32[4, 8]\n  input b: f32[5, 7]\n  output concat(a, b)\n}", [{ code: "RC412", line: 4, column: 10 }]);
    expectErrors("model T {\n  input a: f32[4, 8]\n  input b: f32[8]\n  output similarity(a, b)\n}", [{ code: "RC413", line: 4, column: 10 }]);
    expectErrors("model T {\n  input a: f32[4]\n  input b: f32[5]\n  output a + b\n}", [{ code: "RC403", line: 4, column: 10 }]);
  });
});
