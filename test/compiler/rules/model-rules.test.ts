import { describe, expect, it } from "vitest";
import { codes, expectErrors, expectValid } from "../harness.js";

describe("model-has-input", () => {
  it("a model needs an input", () => {
    expectErrors("model Empty {\n  encoder f = dense(2)\n}", [{ code: "RC501", line: 1, column: 7 }]);
  });
});

describe("one-bottleneck", () => {
  it("at most one bottleneck, pointing at the second", () => {
    const src =
      "model T {\n  input x: f32[8]\n  bottleneck a = plain(4)\n  bottleneck b = plain(2)\n  decoder g = dense(8)\n  loss l = mse(x -> a -> b -> g, x)\n}";
    const [d] = expectErrors(src, [{ code: "RC502", line: 4, column: 3 }]);
    expect(d!.message).toBe("model 'T' has more than one bottleneck: 'a' and 'b'");
  });
});

describe("bottleneck-value", () => {
  it("a bottleneck part is a bottleneck layer", () => {
    expectErrors("model T {\n  input x: f32[8]\n  bottleneck z = dense(4) -> relu\n  output z(x)\n}", [{ code: "RC520", line: 3, column: 18 }]);
  });
});

describe("one-output", () => {
  it("at most one output", () => {
    expectErrors("model T {\n  input x: f32[8]\n  output x\n  output x\n}", [{ code: "RC521", line: 4, column: 3 }]);
  });
});

describe("loss-is-scalar", () => {
  it("a loss must be a scalar", () => {
    const [d] = expectErrors("model T {\n  input x: f32[8]\n  loss l = x -> softmax\n}", [{ code: "RC410", line: 3, column: 12 }]);
    expect(d!.message).toBe("loss 'l' must be a scalar, but it is f32[B, 8]; losses are computed by objectives such as mse(...)");
    expectErrors("model T {\n  input x: f32[8]\n  encoder f = dense(2)\n  loss l = f\n}", [{ code: "RC410", line: 4, column: 12 }]);
  });

  it("weighted sums of objectives are scalars", () => {
    expectValid("model T {\n  input x: f32[8]\n  loss l = 0.5 * mse(x, x) + mse(x, x) / 2 - 0.1 * kl(x, x)\n}");
  });
});

describe("loss-on-mask", () => {
  const mae = (loss: string, mask = "random_patches(x, size: 4, ratio: 0.5)") =>
    `model T {\n  input x: f32[1, 8, 8]\n  input y: f32[1, 8, 8]\n  mask m = ${mask}\n  loss l = ${loss}\n}`;

  it("on m.masked restricts a position-wise objective", () => {
    expectValid(mae("mse(x, y) on m.masked"));
  });

  it("'on' needs m.masked", () => {
    expectErrors(mae("mse(x, y) on m.target"), [{ code: "RC509", line: 5, column: 25 }]);
    expectErrors(mae("mse(x, y) on x"), [{ code: "RC509", line: 5, column: 25 }]);
  });

  it("the objective's positions must be the mask's", () => {
    const [d] = expectErrors(mae("mse(x -> flatten, y -> flatten) on m.masked"), [{ code: "RC415", line: 5, column: 47 }]);
    expect(d!.message).toBe("loss 'l' is restricted to the positions of mask 'm' [1, 8, 8], but mse compares positions [64]");
  });

  it("every objective must compare position by position", () => {
    expectValid(mae("mse(x, y) + 0.5 * bce(x -> sigmoid, y) on m.masked"));
    expectErrors(mae("mse(x, y) + info_nce(x -> flatten, y -> flatten) on m.masked"), [{ code: "RC532", line: 5, column: 24 }]);
  });
});

describe("unused-parts", () => {
  it("a decoder nothing applies is a warning", () => {
    const [d] = expectErrors("model T {\n  input x: f32[8]\n  decoder g = dense(8)\n  loss l = mse(x, x)\n}", [{ code: "RC527", line: 3, column: 11 }]);
    expect(d!.severity).toBe("warning");
  });

  it("a head is applied along the prediction path", () => {
    expectValid("model T {\n  input x: f32[8]\n  encoder f = dense(4)\n  head W = classifier(3)\n  loss l = mse(f(x), f(x))\n}");
  });
});

describe("model members", () => {
  it("members may be used before they are declared", () => {
    expectValid("model T {\n  loss l = mse(g(f(x)), x)\n  decoder g = dense(8)\n  encoder f = dense(2)\n  input x: f32[8]\n}");
  });

  it("duplicate member names", () => {
    expect(codes("model T {\n  input x: f32[8]\n  let x = 3\n}")).toEqual(["RC202"]);
  });

  it("a let defined through itself", () => {
    expectErrors("model T {\n  input x: f32[8]\n  let a = b\n  let b = a + x\n  output a\n}", [{ code: "RC207", line: 4, column: 11 }]);
  });

  it("a part applied again to another shape", () => {
    const [d] = expectErrors("model T {\n  input x: f32[8]\n  input y: f32[4]\n  encoder f = dense(2)\n  loss l = mse(f(x), f(y))\n}", [{ code: "RC402", line: 5, column: 22 }]);
    expect(d!.message).toBe("encoder 'f' expects input [B, 8] (from its first use), but input 'y' produces [B, 4]");
  });

  it("a part may see sequences of other lengths when its weights do not depend on them", () => {
    expectValid("model T {\n  input x: f32[5, 8]\n  input y: f32[7, 8]\n  encoder f = dense(2)\n  loss l = mse(f(x) -> mean_pool, f(y) -> mean_pool)\n}");
  });
});
