import { describe, expect, it } from "vitest";
import { applied, expectErrors } from "../harness.js";

// Parameter counts are computed by hand from each layer's definition.
describe("feature layers", () => {
  it("dense: [..., in] -> [..., units], in*units + units", () => {
    expect(applied("dense(256)", "f32[784]")).toEqual({ output: "f32[B, 256]", params: 784 * 256 + 256 });
    expect(applied("dense(units: 10, bias: false)", "f32[5, 32]")).toEqual({ output: "f32[B, 5, 10]", params: 320 });
  });

  it("a 784-256-64 MLP", () => {
    expect(applied("dense(256) -> relu -> dense(64)", "f32[784]")).toEqual({
      output: "f32[B, 64]",
      params: 784 * 256 + 256 + 256 * 64 + 64,
    });
  });

  it("conv2d: same and valid padding, strides", () => {
    expect(applied("conv2d(filters: 8)", "f32[1, 28, 28]")).toEqual({ output: "f32[B, 8, 28, 28]", params: 1 * 8 * 9 + 8 });
    expect(applied("conv2d(16, kernel: 5, padding: valid)", "f32[3, 32, 32]")).toEqual({ output: "f32[B, 16, 28, 28]", params: 3 * 16 * 25 + 16 });
    expect(applied("conv2d(4, stride: 2)", "f32[1, 28, 28]")).toEqual({ output: "f32[B, 4, 14, 14]", params: 40 });
    expect(applied("conv2d(4, stride: 2, padding: valid)", "f32[1, 28, 28]").output).toBe("f32[B, 4, 13, 13]");
  });

  it("conv_transpose2d upsamples by its stride", () => {
    expect(applied("conv_transpose2d(filters: 1, stride: 2)", "f32[8, 7, 7]")).toEqual({ output: "f32[B, 1, 14, 14]", params: 8 * 1 * 9 + 1 });
    expect(applied("conv_transpose2d(2, kernel: 4, stride: 2, padding: valid)", "f32[1, 7, 7]").output).toBe("f32[B, 2, 16, 16]");
  });

  it("pools: floor(H/size) with stride = size by default", () => {
    expect(applied("max_pool", "f32[8, 28, 28]")).toEqual({ output: "f32[B, 8, 14, 14]", params: 0 });
    expect(applied("avg_pool(size: 3)", "f32[8, 28, 28]").output).toBe("f32[B, 8, 9, 9]");
    expect(applied("max_pool(size: 3, stride: 1)", "f32[2, 5, 5]").output).toBe("f32[B, 2, 3, 3]");
  });

  it("flatten and reshape", () => {
    expect(applied("flatten", "f32[1, 28, 28]")).toEqual({ output: "f32[B, 784]", params: 0 });
    expect(applied("reshape([1, 28, 28])", "f32[784]").output).toBe("f32[B, 1, 28, 28]");
    expect(applied("reshape([4, -1])", "f32[2, 8]").output).toBe("f32[B, 4, 4]");
  });

  it("activations, softmax, l2_normalize and dropout keep the shape", () => {
    for (const l of ["relu", "gelu", "tanh", "sigmoid", "silu", "softmax", "l2_normalize", "dropout(0.5)", "softmax(axis: 0)"]) {
      expect(applied(l, "f32[3, 7]")).toEqual({ output: "f32[B, 3, 7]", params: 0 });
    }
  });

  it("layer_norm: 2 * last; batch_norm: 2 * channels or features", () => {
    expect(applied("layer_norm", "f32[10, 64]")).toEqual({ output: "f32[B, 10, 64]", params: 128 });
    expect(applied("batch_norm", "f32[16, 8, 8]")).toEqual({ output: "f32[B, 16, 8, 8]", params: 32 });
    expect(applied("batch_norm(momentum: 0.01)", "f32[100]").params).toBe(200);
  });

  it("embedding: i32[...] -> f32[..., dim], vocab*dim", () => {
    expect(applied("embedding(vocab: 96, dim: 32)", "tokens(length: 64, vocab: 96)")).toEqual({ output: "f32[B, 64, 32]", params: 96 * 32 });
    expect(applied("embedding(5000, 100)", "token(vocab: 5000)")).toEqual({ output: "f32[B, 100]", params: 500000 });
  });

  it("positional: a table of length x D, sized by the input when length is omitted", () => {
    expect(applied("positional", "f32[49, 64]")).toEqual({ output: "f32[B, 49, 64]", params: 49 * 64 });
    expect(applied("positional(length: 100)", "f32[49, 64]").params).toBe(6400);
  });
});

describe("feature layer errors", () => {
  it("conv2d needs an image", () => {
    expectErrors("model T {\n  input x: f32[64]\n  part p = conv2d(8)\n  output p(x)\n}", [{ code: "RC401", line: 3, column: 12 }]);
  });

  it("dense refuses token ids and suggests an embedding", () => {
    const [d] = expectErrors("model T {\n  input x: tokens(length: 8, vocab: 10)\n  output x -> dense(4)\n}", [{ code: "RC314", line: 3, column: 15 }]);
    expect(d!.message).toBe("dense expects f32 values, but input 'x' is token ids i32[B, 8] (vocab 10)");
    expect(d!.notes[0]).toMatch(/embedding/);
  });

  it("embedding refuses floats, and a vocabulary smaller than the tokens'", () => {
    expectErrors("model T {\n  input x: f32[8]\n  output x -> embedding(10, 4)\n}", [{ code: "RC314", line: 3, column: 15 }]);
    expectErrors("model T {\n  input x: tokens(length: 8, vocab: 100)\n  output x -> embedding(vocab: 10, dim: 4)\n}", [{ code: "RC414", line: 3, column: 32 }]);
  });

  it("reshape must keep the element count", () => {
    const [d] = expectErrors("model T {\n  input x: f32[784]\n  output x -> reshape([1, 28, 27])\n}", [{ code: "RC407", line: 3, column: 23 }]);
    expect(d!.message).toBe("cannot reshape [784] (784 elements) to [1, 28, 27] (756 elements)");
  });

  it("a window larger than the image is refused", () => {
    expectErrors("model T {\n  input x: f32[1, 2, 2]\n  output x -> conv2d(4, kernel: 3, padding: valid)\n}", [{ code: "RC411", line: 3, column: 15 }]);
    expectErrors("model T {\n  input x: f32[1, 1, 1]\n  output x -> max_pool\n}", [{ code: "RC411", line: 3, column: 15 }]);
  });

  it("axes must exist", () => {
    expectErrors("model T {\n  input x: f32[4]\n  output x -> softmax(axis: 2)\n}", [{ code: "RC416", line: 3, column: 29 }]);
  });

  it("positional with a table shorter than the sequence", () => {
    expectErrors("model T {\n  input x: f32[50, 8]\n  output x -> positional(length: 49)\n}", [{ code: "RC417", line: 3, column: 34 }]);
  });

  it("ranges: dropout rate in [0, 1), positive units", () => {
    expectErrors("model T {\n  input x: f32[4]\n  output x -> dropout(1.0)\n}", [{ code: "RC307", line: 3, column: 23 }]);
    expectErrors("model T {\n  input x: f32[4]\n  output x -> dense(0)\n}", [{ code: "RC307", line: 3, column: 21 }]);
    expectErrors("model T {\n  input x: f32[4]\n  output x -> dense(2.5)\n}", [{ code: "RC306", line: 3, column: 21 }]);
  });

  it("padding is an identifier enum with suggestions", () => {
    const [d] = expectErrors("model T {\n  input x: f32[1, 8, 8]\n  output x -> conv2d(4, padding: vaild)\n}", [{ code: "RC308", line: 3, column: 34 }]);
    expect(d!.notes).toEqual(["did you mean 'valid'?"]);
    expectErrors("model T {\n  input x: f32[1, 8, 8]\n  part p = conv2d(4, padding: \"same\")\n  output p(x)\n}", []);
  });

  it("a layer with required arguments cannot be used bare", () => {
    const [d] = expectErrors("model T {\n  input x: f32[4]\n  output x -> dense\n}", [{ code: "RC320", line: 3, column: 15 }]);
    expect(d!.message).toBe("dense needs arguments (units); call it, e.g. dense(units: ...)");
  });
});
