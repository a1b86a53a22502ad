/**
 * Special tokens (spec/data.md, "Special tokens"): a token type reserves
 * `pad`, `mask` and `cls` as its last ids; `mask_token` names one, and an id
 * that is a real token of the vocabulary is RC562.
 */
import { describe, expect, it } from "vitest";
import { specialId } from "../../../compiler/check/types.js";
import { expectErrors, expectValid, modelOf } from "../harness.js";

const masked = (type: string, token: string) =>
  `model M {\n  input text: ${type}\n  mask m = tokens(text, ratio: 0.25, mask_token: ${token})\n  encoder f = embedding(vocab: 40, dim: 4)\n  loss l = mse(f(m.input), f(m.target))\n}\n`;

describe("special tokens", () => {
  it("take the vocabulary's last ids, in the order written", () => {
    const m = modelOf("model M {\n  input text: tokens(length: 8, vocab: 99, special: [pad, mask, cls])\n  input one: token(vocab: 5, special: [cls])\n  output text\n}\n");
    const [text, one] = m.inputs.map((i) => i.type);
    expect(text!.special).toEqual(["pad", "mask", "cls"]);
    expect(["pad", "mask", "cls"].map((n) => specialId(text!, n))).toEqual([96, 97, 98]);
    expect(specialId(one!, "cls")).toBe(4);
    expect(specialId(one!, "pad")).toBeNull();
  });

  it("mask_token names a reserved one, or gives its id", () => {
    expectValid(masked("tokens(length: 8, vocab: 40, special: [pad, mask])", "mask"));
    expectValid(masked("tokens(length: 8, vocab: 40, special: [pad, mask])", "39"));
    // An i32 sequence without a vocabulary cannot say which ids are real.
    expectValid(masked("i32[8]", "3"));
  });

  it("an id that is a real token is RC562, with the fix", () => {
    const [d] = expectErrors(masked("tokens(length: 8, vocab: 40)", "26"), [{ code: "RC562", line: 3, column: 50 }]);
    expect(d!.message).toBe("mask_token 26 is the id of a real token of token ids i32[B, 8] (vocab 40), so the model could not tell a hidden token from that one; use a special token");
    expect(d!.help).toEqual(["reserve one: tokens(length: 8, vocab: 41, special: [mask]), and write 'mask_token: mask'"]);
    const [e] = expectErrors(masked("tokens(length: 8, vocab: 40, special: [mask, pad])", "30"), [{ code: "RC562", line: 3, column: 50 }]);
    expect(e!.help).toEqual(["write 'mask_token: mask'"]);
  });

  it("a special token the type does not reserve is RC563", () => {
    const [d] = expectErrors(masked("tokens(length: 8, vocab: 40, special: [pad])", "mask"), [{ code: "RC563", line: 3, column: 50 }]);
    expect(d!.help).toEqual(["reserve it in the data type: tokens(length: 8, vocab: 41, special: [pad, mask])"]);
  });

  it("a name twice, an unknown name, or no room for real tokens", () => {
    expectErrors("model M {\n  input text: tokens(length: 8, vocab: 9, special: [pad, pad])\n  output text\n}\n", [{ code: "RC352", line: 2, column: 52 }]);
    expectErrors("model M {\n  input text: tokens(length: 8, vocab: 9, special: [eos])\n  output text\n}\n", [{ code: "RC308", line: 2, column: 53 }]);
    expectErrors("model M {\n  input text: tokens(length: 8, vocab: 2, special: [pad, mask])\n  output text\n}\n", [{ code: "RC307", line: 2, column: 40 }]);
  });

  it("data must reserve the same special tokens as the model's input (RC512)", () => {
    const src = (field: string) =>
      `${masked("tokens(length: 8, vocab: 40, special: [mask])", "mask")}\ndata corpus {\n  text: ${field}\n}\n\npipeline P {\n  pretrain M on corpus.train\n}\n`;
    expectValid(src("tokens(length: 8, vocab: 40, special: [mask])"));
    expectErrors(src("tokens(length: 8, vocab: 40)"), [{ code: "RC512", line: 13, column: 17 }]);
  });
});
