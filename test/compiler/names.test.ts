import { describe, expect, it } from "vitest";
import { expectErrors, expectValid } from "./harness.js";

describe("reserved names", () => {
  it("members may not reuse what a model's expressions can name", () => {
    for (const [name, category] of [
      ["relu", "layer"],
      ["noisy", "bottleneck"],
      ["concat", "value function"],
      ["mse", "objective"],
      ["random_patches", "mask strategy"],
      ["augment", "augmentation"],
      ["f32", "element type"],
    ] as const) {
      const [d] = expectErrors(`model T {\n  input x: f32[4]\n  let ${name} = x\n  output x\n}`, [{ code: "RC206", line: 3, column: 7 }]);
      expect(d!.message).toBe(`'${name}' is the name of a built-in ${category}; a declaration cannot reuse it`);
    }
  });

  it("data type names and the step vocabulary are free", () => {
    expectValid("model T {\n  input tokens: tokens(length: 8, vocab: 16)\n  input label: label(classes: 3)\n  input token: token(vocab: 16)\n  output tokens\n}");
    expectValid("model T {\n  input x: f32[4]\n  let accuracy = x\n  let adam = x\n  let cosine = accuracy + adam\n  output cosine\n}");
    expectValid("block adam() {\n  relu\n}\ndata label { x: f32[4] }\nmodel accuracy {\n  input x: f32[4]\n  output x -> adam\n}");
  });

  it("a member named tokens hides the mask strategy in its model", () => {
    const [d] = expectErrors(
      "model T {\n  input tokens: tokens(length: 8, vocab: 16)\n  mask m = tokens(tokens, ratio: 0.5, mask_token: 0)\n  output tokens\n}",
      [{ code: "RC309", line: 3, column: 12 }],
    );
    expect(d!.message).toBe("input 'tokens', token ids i32[B, 8] (vocab 16) cannot be called");
    expect(d!.notes).toEqual(["the declared 'tokens' hides the built-in mask strategy 'tokens' here"]);
  });

  it("the same rule holds for top-level names and block lets", () => {
    expectErrors("block dense() {\n  relu\n}\n", [{ code: "RC206", line: 1, column: 7 }]);
    expectErrors("data mse { x: f32[4] }\n", [{ code: "RC206", line: 1, column: 6 }]);
    expectErrors("block b() {\n  input x\n  let gelu = x\n  output gelu\n}\n", [{ code: "RC206", line: 3, column: 7 }]);
    expectValid("block b() {\n  input label\n  let accuracy = label\n  output accuracy\n}\n");
  });
});

describe("cycles of parts", () => {
  it("are reported once, at the declaration, even when no part is applied", () => {
    const [d] = expectErrors("model T {\n  input x: f32[4]\n  part p = q -> relu\n  part q = p -> dense(4)\n  output x\n}", [{ code: "RC207", line: 3, column: 8 }]);
    expect(d!.message).toBe("'p' is defined in terms of itself");
    expect(d!.notes).toEqual(["the cycle: p -> q -> p"]);
    expectErrors("model T {\n  input x: f32[4]\n  part p = dense(4) -> p\n  output x\n}", [{ code: "RC207", line: 3, column: 8 }]);
  });

  it("and once when the parts are applied", () => {
    expectErrors("model T {\n  input x: f32[4]\n  part p = q -> relu\n  part q = p -> dense(4)\n  output p(x)\n}", [{ code: "RC207", line: 3, column: 8 }]);
  });

  it("through a block's layer argument", () => {
    const block = "block wrap(inner: layer) {\n  inner -> relu\n}\n";
    expectErrors(`${block}model T {\n  input x: f32[4]\n  part p = wrap(q)\n  part q = dense(4) -> p\n  output x\n}`, [{ code: "RC207", line: 6, column: 8 }]);
  });
});

describe("suggestions for unknown names", () => {
  it("offer values and layers, not models, losses, data, pipelines or settings", () => {
    const src = "data e { x: f32[4] }\nmodel M {\n  input x: f32[4]\n  encoder f = dense(4)\n  loss l = mse(g(x), x)\n}\npipeline h {\n  pretrain M on e.train\n}\n";
    const [d] = expectErrors(src, [{ code: "RC201", line: 5, column: 16 }]);
    expect(d!.notes).toEqual(["did you mean 'f' or 'x'?"]);
    const [o] = expectErrors("model T {\n  input x: f32[4]\n  output x -> adan\n}", [{ code: "RC201", line: 3, column: 15 }]);
    expect(o!.notes).toEqual([]);
  });

  it("offer data declarations in pipeline steps", () => {
    const src = "data digits { x: f32[4] }\nmodel M {\n  input x: f32[4]\n  encoder f = dense(4)\n  loss l = mse(f(x), x)\n}\npipeline P {\n  pretrain M on digit.train\n}\n";
    const [d] = expectErrors(src, [{ code: "RC201", line: 8, column: 17 }]);
    expect(d!.notes).toEqual(["did you mean 'digits'?"]);
  });
});
