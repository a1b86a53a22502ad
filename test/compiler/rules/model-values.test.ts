import { describe, expect, it } from "vitest";
import { expectErrors, expectValid } from "../harness.js";

describe("parameters belong to parts", () => {
  it("a layer with parameters may not be applied directly in a let, loss or output", () => {
    const [d] = expectErrors("model T {\n  input x: f32[8]\n  let h = x -> dense(4)\n  output h\n}", [{ code: "RC318", line: 3, column: 16 }]);
    expect(d!.message).toBe("layer 'dense' can only be used inside a part, since it has parameters: declare it, e.g. 'part p = ...', and apply p");
    expectErrors("block b() {\n  dense(2)\n}\nmodel T {\n  input x: f32[8]\n  output x -> b\n}", [{ code: "RC318", line: 6, column: 15 }]);
  });

  it("parameter-free layers may be applied anywhere", () => {
    expectValid("model T {\n  input x: f32[1, 8, 8]\n  let h = x -> patchify(2) -> relu -> flatten -> dropout(0.1)\n  output h\n}");
  });

  it("inside blocks, layers with parameters are fine", () => {
    expectValid("block b() {\n  input x\n  output x -> dense(3)\n}\nmodel T {\n  input x: f32[8]\n  part p = b\n  output p(x)\n}");
  });
});

describe("values", () => {
  it("a let is a value", () => {
    expectErrors("model T {\n  input x: f32[8]\n  let l = dense(3)\n}", [{ code: "RC311", line: 3, column: 11 }]);
  });

  it("objectives only in losses", () => {
    expectErrors("model T {\n  input x: f32[8]\n  let e = mse(x, x)\n  loss l = e\n}", [{ code: "RC318", line: 3, column: 11 }]);
  });

  it("member names may not reuse built-ins or blocks, but may reuse models and data", () => {
    const [d] = expectErrors("model T {\n  input mse: f32[8]\n  output mse\n}", [{ code: "RC206", line: 2, column: 9 }]);
    expect(d!.message).toBe("'mse' is the name of a built-in objective; a declaration cannot reuse it");
    expectErrors("block b() {\n  relu\n}\nmodel T {\n  input b: f32[8]\n  output b\n}", [{ code: "RC206", line: 5, column: 9 }]);
    expectValid("data T { x: f32[8] }\nmodel M {\n  input T: f32[8]\n  input label: label(classes: 3)\n  output T\n}");
    expectErrors("block b() {\n  input x\n  let relu = x\n  output relu\n}\n", [{ code: "RC206", line: 3, column: 7 }]);
  });

  it("block parameters may reuse built-in names", () => {
    expectValid("block b(dropout: float = 0.1) {\n  input x\n  output x -> attention(heads: 1, dropout: dropout)\n}\nmodel T {\n  input x: f32[3, 4]\n  part p = b\n  output p(x)\n}");
  });

  it("a layer reading a model value cannot be passed into a block", () => {
    const src =
      "block wrap(inner: layer) {\n  inner\n}\nmodel T {\n  input q: f32[3, 4]\n  input m: f32[5, 4]\n" +
      "  part p = wrap(inner: attention(heads: 2, context: m))\n  output p(q)\n}";
    expectErrors(src, [{ code: "RC321", line: 7, column: 24 }]);
  });

  it("arithmetic needs floats", () => {
    expectErrors("model T {\n  input x: tokens(length: 4, vocab: 9)\n  output x + x\n}", [{ code: "RC315", line: 3, column: 10 }]);
    expectValid("model T {\n  input x: f32[4]\n  output -(2 * x - x / 2 + 1)\n}");
  });
});

describe("mask counts", () => {
  it("a ratio that hides nothing gives no training signal", () => {
    expectErrors("model T {\n  input x: f32[1, 4, 4]\n  mask m = random_patches(x, size: 2, ratio: 0.1)\n}", [{ code: "RC307", line: 3, column: 46 }]);
    expectErrors("model T {\n  input x: tokens(length: 4, vocab: 9, special: [mask])\n  mask m = tokens(x, ratio: 0.05, mask_token: mask)\n}", [{ code: "RC307", line: 3, column: 29 }]);
  });

  it("channel_drop needs an image", () => {
    expectErrors("model C {\n  input x: f32[16]\n  views a, b = augment(x, channel_drop: 0.5)\n}", [{ code: "RC401", line: 3, column: 24 }]);
    expectValid("model C {\n  input x: f32[16]\n  views a, b = augment(x, noise: 0.5)\n  loss l = mse(a, b)\n}");
  });

  it("crop and blur need an image; jitter and grayscale one of 1 or 3 channels", () => {
    const views = (input: string, options: string) => `model C {\n  input x: f32[${input}]\n  views a, b = augment(x, ${options})\n  loss l = mse(a, b)\n}`;
    const [d] = expectErrors(views("16", "crop: 0.5, blur: 1"), [{ code: "RC401", line: 3, column: 24 }]);
    expect(d!.message).toBe("augment with crop, blur expects an image [C, H, W], but input 'x' is f32[B, 16]");
    const [e] = expectErrors(views("2, 8, 8", "jitter: 0.4, grayscale: 0.2"), [{ code: "RC401", line: 3, column: 35 }]);
    expect(e!.message).toBe("augment with jitter and grayscale expects an image of 1 (gray) or 3 (RGB) channels, but input 'x' is f32[B, 2, 8, 8]");
    expectValid(views("3, 8, 8", "crop: 0.08, jitter: 1, grayscale: 1, blur: 2"));
    expectValid(views("2, 8, 8", "crop: 0.5, blur: 0.5"));
    expectValid(views("1, 8, 8", "jitter: 0.4, grayscale: 0.2"));
    expectErrors(views("3, 8, 8", "crop: 0"), [{ code: "RC307", line: 3, column: 33 }]);
    expectErrors(views("3, 8, 8", "jitter: 1.5"), [{ code: "RC307", line: 3, column: 35 }]);
  });
});

describe("loss names", () => {
  it("are not values", () => {
    const [d] = expectErrors("model T {\n  input x: f32[4]\n  loss a = mse(x, x)\n  loss b = 2 * a\n}", [{ code: "RC315", line: 4, column: 12 }]);
    expect(d!.message).toBe("cannot apply '*' to 2 and loss 'a' (losses are not values)");
    expectErrors("model T {\n  input x: f32[4]\n  loss a = mse(x, x)\n  output a\n}", [{ code: "RC311", line: 4, column: 10 }]);
  });
});
