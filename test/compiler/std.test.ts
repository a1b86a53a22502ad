import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { Source } from "../../language/source.js";
import { parse } from "../../language/parser.js";
import { STD_DIR } from "../../compiler/check/file-host.js";
import { applied, expectValid, modelOf } from "./harness.js";

const std = 'import "std"';
const block = (dim: number, hidden: number) => 2 * dim + 4 * (dim * dim + dim) + 2 * dim + dim * hidden + hidden + hidden * dim + dim;

describe("the standard library", () => {
  it("parses without diagnostics and every block checks clean on import", () => {
    const text = readFileSync(`${STD_DIR}nn.repr`, "utf8");
    expect(parse(new Source("std/nn.repr", text)).diagnostics).toEqual([]);
    expectValid(`${std}\nmodel M {\n  input x: f32[4]\n  output x\n}`);
  });

  it("mlp(hidden, out, act)", () => {
    expect(applied("mlp(256, 64)", "f32[784]", std)).toEqual({ output: "f32[B, 64]", params: 784 * 256 + 256 + 256 * 64 + 64 });
    expect(applied("mlp(hidden: 8, out: 2, act: gelu)", "f32[4]", std).params).toBe(4 * 8 + 8 + 8 * 2 + 2);
  });

  it("transformer_block: pre-norm attention and feed-forward with residuals", () => {
    expect(applied("transformer_block(dim: 64, heads: 4)", "f32[10, 64]", std)).toEqual({ output: "f32[B, 10, 64]", params: block(64, 256) });
    expect(applied("transformer_block(dim: 32, heads: 2, mlp_ratio: 2, causal: true, dropout: 0.1)", "f32[5, 32]", std).params).toBe(block(32, 64));
  });

  it("patch_embed(size, dim)", () => {
    expect(applied("patch_embed(size: 4, dim: 32)", "f32[1, 28, 28]", std)).toEqual({ output: "f32[B, 49, 32]", params: 16 * 32 + 32 + 49 * 32 });
  });

  it("vit(dim, depth, heads)", () => {
    expect(applied("patchify(4) -> vit(dim: 64, depth: 2, heads: 4)", "f32[1, 28, 28]", std)).toEqual({
      output: "f32[B, 49, 64]",
      params: 16 * 64 + 64 + 49 * 64 + 2 * block(64, 256) + 128,
    });
  });

  it("conv_encoder(dim, width)", () => {
    // 28 -> 14 -> 7 with stride 2 and same padding.
    const params = 1 * 32 * 9 + 32 + 32 * 64 * 9 + 64 + 64 * 7 * 7 * 16 + 16;
    expect(applied("conv_encoder(dim: 16)", "f32[1, 28, 28]", std)).toEqual({ output: "f32[B, 16]", params });
  });

  it("gpt(vocab, dim, depth, heads) on token ids", () => {
    expect(applied("gpt(vocab: 96, dim: 32, depth: 1, heads: 4)", "tokens(length: 16, vocab: 96)", std)).toEqual({
      output: "f32[B, 16, 32]",
      params: 96 * 32 + 16 * 32 + block(32, 128) + 64,
    });
  });

  it("projection(hidden, out)", () => {
    expect(applied("projection(hidden: 16, out: 8)", "f32[32]", std)).toEqual({ output: "f32[B, 8]", params: 32 * 16 + 16 + 16 * 8 + 8 });
  });

  it("a masked autoencoder built from std blocks", () => {
    const model = modelOf(
      `${std}
model PatchMAE {
  input image: f32[1, 28, 28]
  mask m = random_patches(image, size: 4, ratio: 0.75, encoder_sees: visible)
  encoder f = vit(dim: 64, depth: 2, heads: 4)
  decoder g = unmask(m) -> vit(dim: 32, depth: 1, heads: 4) -> dense(16) -> unpatchify(size: 4)
  head W = mean_pool -> classifier(classes: 10)
  loss reconstruction = mse(g(f(m.input)), m.target) on m.masked
}`,
    );
    const f = model.parts.find((p) => p.name === "f")!;
    // The visible patches: 49 - round(0.75 * 49) = 12; the position table still has 49 rows.
    expect(f.input!.shape).toEqual([12, 16]);
    expect(f.params).toBe(16 * 64 + 64 + 49 * 64 + 2 * block(64, 256) + 128);
    expect(model.prediction).toMatchObject({ input: "image", parts: ["f", "W"], inputType: { shape: [49, 16] }, type: { shape: [10] } });
    expect(model.parts.find((p) => p.name === "W")!.input!.shape).toEqual([49, 64]);
  });
});
