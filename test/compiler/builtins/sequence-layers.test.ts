import { describe, expect, it } from "vitest";
import { applied, expectErrors, modelOf } from "../harness.js";

describe("sequence layers", () => {
  it("patchify: [C, H, W] -> [(H/s)(W/s), C*s*s]", () => {
    expect(applied("patchify(4)", "f32[1, 28, 28]")).toEqual({ output: "f32[B, 49, 16]", params: 0 });
    expect(applied("patchify(size: 8)", "f32[3, 32, 16]").output).toBe("f32[B, 8, 192]");
  });

  it("unpatchify: [N, C*s*s] -> [C, sqrt(N)*s, sqrt(N)*s]", () => {
    expect(applied("unpatchify(size: 4)", "f32[49, 16]")).toEqual({ output: "f32[B, 1, 28, 28]", params: 0 });
    expect(applied("unpatchify(size: 2, channels: 3)", "f32[16, 12]").output).toBe("f32[B, 3, 8, 8]");
  });

  it("attention: [L, D] -> [L, D], 4(D*D + D)", () => {
    expect(applied("attention(heads: 4)", "f32[10, 64]")).toEqual({ output: "f32[B, 10, 64]", params: 4 * (64 * 64 + 64) });
    expect(applied("attention(2, causal: true, dropout: 0.1)", "f32[5, 8]").params).toBe(4 * (64 + 8));
  });

  it("cross-attention reads a context of the same width", () => {
    const model = modelOf("model T {\n  input q: f32[4, 16]\n  input mem: f32[9, 16]\n  part a = attention(heads: 2, context: mem)\n  output a(q)\n}");
    const apply = model.graph.nodes.find((n) => n.op === "apply")!;
    expect(apply.op === "apply" && apply.layer.kind === "builtin" && apply.layer.args["context"]).toEqual({ node: 1 });
  });

  it("repeat: n copies, each with its own parameters", () => {
    expect(applied("repeat(3, dense(8) -> relu)", "f32[8]")).toEqual({ output: "f32[B, 8]", params: 3 * (64 + 8) });
    expect(applied("repeat(n: 2, layer: dense(4))", "f32[8]").params).toBe(8 * 4 + 4 + 4 * 4 + 4);
  });

  it("classifier: [..., D] -> [..., classes], (D + 1) * classes", () => {
    expect(applied("classifier(classes: 10)", "f32[64]")).toEqual({ output: "f32[B, 10]", params: 650 });
  });

  it("mean_pool removes an axis", () => {
    expect(applied("mean_pool", "f32[49, 64]")).toEqual({ output: "f32[B, 64]", params: 0 });
    expect(applied("mean_pool(axis: -1)", "f32[3, 5]").output).toBe("f32[B, 3]");
  });

  it("unmask restores all patches with a learned token", () => {
    const model = modelOf(
      "model T {\n  input x: f32[1, 8, 8]\n  mask m = random_patches(x, size: 2, ratio: 0.5)\n" +
        "  encoder f = dense(6)\n  decoder g = unmask(m) -> dense(4) -> unpatchify(size: 2)\n" +
        "  loss l = mse(g(f(m.input)), m.target) on m.masked\n}",
    );
    const g = model.parts.find((p) => p.name === "g")!;
    expect(g.input!.shape).toEqual([8, 6]);
    expect(g.output!.shape).toEqual([1, 8, 8]);
    expect(g.params).toBe(6 + 6 * 4 + 4);
  });
});

describe("sequence layer errors", () => {
  it("patch size must divide the image", () => {
    const [d] = expectErrors("model T {\n  input x: f32[1, 28, 28]\n  output x -> patchify(5)\n}", [{ code: "RC404", line: 3, column: 24 }]);
    expect(d!.message).toBe("patch size 5 does not divide the image size 28x28");
  });

  it("unpatchify needs a square grid of the right patch width", () => {
    expectErrors("model T {\n  input x: f32[12, 16]\n  output x -> unpatchify(4)\n}", [{ code: "RC405", line: 3, column: 15 }]);
    expectErrors("model T {\n  input x: f32[49, 8]\n  output x -> unpatchify(4)\n}", [{ code: "RC401", line: 3, column: 15 }]);
  });

  it("heads must divide the width", () => {
    const [d] = expectErrors("model T {\n  input x: f32[10, 30]\n  output x -> attention(heads: 4)\n}", [{ code: "RC406", line: 3, column: 32 }]);
    expect(d!.message).toBe("attention with 4 heads needs a feature size divisible by 4, got 30");
  });

  it("attention needs a sequence, and a context of its width", () => {
    expectErrors("model T {\n  input x: f32[30]\n  output x -> attention(heads: 2)\n}", [{ code: "RC401", line: 3, column: 15 }]);
    expectErrors("model T {\n  input x: f32[3, 8]\n  input c: f32[3, 4]\n  output x -> attention(heads: 2, context: c)\n}", [{ code: "RC401", line: 4, column: 44 }]);
  });

  it("unmask needs a visible-patch mask", () => {
    expectErrors(
      "model T {\n  input x: f32[1, 8, 8]\n  mask m = random_patches(x, size: 2, ratio: 0.5, encoder_sees: mask_token)\n" +
        "  encoder f = dense(6)\n  decoder g = unmask(m) -> dense(4) -> unpatchify(size: 2)\n" +
        "  loss l = mse(g(f(m.input)), m.target) on m.masked\n}",
      [{ code: "RC510", line: 5, column: 22 }],
    );
  });
});
