import { describe, expect, it } from "vitest";
import { expectErrors, modelOf } from "../harness.js";

/** The fields of mask `m` in a model that only declares it and uses m.input in a loss. */
function fields(input: string, mask: string, use = "mse(p(m.input), p(m.input))", part = "flatten -> dense(1)") {
  const model = modelOf(`model T {\n  input x: ${input}\n  mask m = ${mask}\n  part p = ${part}\n  loss l = ${use}\n}`);
  const node = model.graph.nodes.find((n) => n.op === "mask")!;
  if (node.op !== "mask") throw new Error("no mask");
  return { ...node.fields, inference: node.inference, params: model.totalParams };
}

describe("masks", () => {
  it("random_patches with visible patches: [N_visible, C*s*s], N_visible = N - round(ratio*N)", () => {
    const f = fields("f32[1, 28, 28]", "random_patches(x, size: 4, ratio: 0.75)");
    expect(f.input.shape).toEqual([12, 16]);
    expect(f.input.positions).toBe(49);
    expect(f.target.shape).toEqual([1, 28, 28]);
    expect(f.masked).toEqual({ dtype: "bool", shape: [1, 28, 28], batched: true });
    expect(f.inference.shape).toEqual([49, 16]);
  });

  it("random_patches with a mask token sees every patch and learns the token", () => {
    const f = fields("f32[3, 8, 8]", "random_patches(x, size: 2, ratio: 0.5, encoder_sees: mask_token)");
    expect(f.input.shape).toEqual([16, 12]);
    // The learned token (12 numbers) plus the part p: flatten -> dense(1) on 16 x 12.
    expect(f.params).toBe(12 + 16 * 12 + 1);
  });

  it("channels: the kept channels in, the others as the target", () => {
    const f = fields("f32[3, 8, 8]", "channels(x, keep: [0])");
    expect(f.input.shape).toEqual([1, 8, 8]);
    expect(f.target.shape).toEqual([2, 8, 8]);
    expect(f.masked.shape).toEqual([2, 8, 8]);
  });

  it("tokens and next_token on token ids", () => {
    const use = "cross_entropy(p(m.input), m.target)";
    const t = fields("tokens(length: 16, vocab: 10, special: [mask])", "tokens(x, ratio: 0.15, mask_token: mask)", use, "embedding(10, 4) -> dense(10)");
    expect(t.input).toEqual({ dtype: "i32", shape: [16], batched: true, vocab: 10, special: ["mask"] });
    const n = fields("tokens(length: 16, vocab: 10)", "next_token(x)", use, "embedding(10, 4) -> dense(10)");
    expect(n.input.shape).toEqual([15]);
    expect(n.target.shape).toEqual([15]);
  });

  it("features zeroes features", () => {
    expect(fields("f32[20]", "features(x, ratio: 0.3)").input.shape).toEqual([20]);
  });
});

describe("mask errors", () => {
  const model = (input: string, mask: string) => `model T {\n  input x: ${input}\n  mask m = ${mask}\n}`;

  it("patch size must divide the image", () => {
    expectErrors(model("f32[1, 28, 28]", "random_patches(x, size: 5, ratio: 0.5)"), [{ code: "RC404", line: 3, column: 36 }]);
  });

  it("ratio in (0, 1)", () => {
    expectErrors(model("f32[1, 28, 28]", "random_patches(x, size: 4, ratio: 1)"), [{ code: "RC307", line: 3, column: 46 }]);
    expectErrors(model("f32[8]", "features(x, ratio: 0)"), [{ code: "RC307", line: 3, column: 31 }]);
  });

  it("a ratio that hides everything leaves nothing to see", () => {
    expectErrors(model("f32[1, 4, 4]", "random_patches(x, size: 2, ratio: 0.9)"), [{ code: "RC411", line: 3, column: 46 }]);
  });

  it("channel indices must exist", () => {
    const [d] = expectErrors(model("f32[3, 4, 4]", "channels(x, keep: [3])"), [{ code: "RC418", line: 3, column: 30 }]);
    expect(d!.message).toBe("mask 'channels' keeps channel 3, but the value has 3 channels (0..2)");
  });

  it("token masks need token ids, and a mask token in the vocabulary", () => {
    expectErrors(model("f32[8]", "next_token(x)"), [{ code: "RC401", line: 3, column: 23 }]);
    expectErrors(model("tokens(length: 8, vocab: 10)", "tokens(x, ratio: 0.5, mask_token: 10)"), [{ code: "RC307", line: 3, column: 46 }]);
  });

  it("masks only in mask members; mask members only masks", () => {
    expectErrors("model T {\n  input x: f32[8]\n  let m = features(x, ratio: 0.5)\n}", [{ code: "RC318", line: 3, column: 11 }]);
    expectErrors("model T {\n  input x: f32[8]\n  mask m = x\n}", [{ code: "RC529", line: 3, column: 12 }]);
  });

  it("unknown fields of a mask get suggestions", () => {
    const [d] = expectErrors(model("f32[8]", "features(x, ratio: 0.5)") .replace("\n}", "\n  output m.inptu -> dense(2)\n}"), [{ code: "RC208", line: 4, column: 12 }]);
    expect(d!.notes).toEqual(["did you mean 'input'?"]);
  });
});

describe("views", () => {
  it("augment makes two views of the value's type", () => {
    const model = modelOf(
      "model C {\n  input x: f32[1, 28, 28]\n  views a, b = augment(x, shift: 2, flip: true, noise: 0.1, channel_drop: 0.1)\n" +
        "  encoder f = flatten -> dense(32)\n  loss nce = info_nce(f(a), f(b), temperature: 0.5)\n}",
    );
    expect(model.graph.nodes.filter((n) => n.op === "views")).toHaveLength(1);
    expect(model.prediction).toBeNull();
  });

  it("shift and flip need an image; views need augment", () => {
    expectErrors("model C {\n  input x: f32[16]\n  views a, b = augment(x, flip: true)\n}", [{ code: "RC401", line: 3, column: 24 }]);
    expectErrors("model C {\n  input x: f32[16]\n  views a, b = x\n}", [{ code: "RC530", line: 3, column: 16 }]);
    expectErrors("model C {\n  input x: f32[16]\n  let a = augment(x)\n}", [{ code: "RC318", line: 3, column: 11 }]);
  });
});

describe("views in the graph", () => {
  it("each view is its own select node of one views node", () => {
    const model = modelOf(
      "model C {\n  input x: f32[1, 8, 8]\n  views a, b = augment(x, flip: true)\n  encoder f = flatten -> dense(4)\n  loss l = info_nce(f(a), f(b))\n}",
    );
    const selects = model.graph.nodes.filter((n) => n.op === "select");
    expect(selects.map((n) => n.op === "select" && [n.field, model.graph.nodes[n.source]!.op])).toEqual([
      ["first", "views"],
      ["second", "views"],
    ]);
  });
});
