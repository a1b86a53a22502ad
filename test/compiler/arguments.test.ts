import { describe, expect, it } from "vitest";
import { expectErrors } from "./harness.js";

const out = (layer: string, input = "f32[8]") => `model T {\n  input x: ${input}\n  output x -> ${layer}\n}`;

describe("argument checking", () => {
  it("too many positional arguments", () => {
    const [d] = expectErrors(out("dense(4, true, 3)"), [{ code: "RC303", line: 3, column: 30 }]);
    expect(d!.message).toBe("dense takes at most 2 positional argument(s), got 3");
  });

  it("unknown named arguments, with suggestions", () => {
    // The misspelling is the one problem: the parameter it suggests is not also reported missing.
    const [d] = expectErrors(out("dense(unit: 4)"), [{ code: "RC301", line: 3, column: 21 }]);
    expect(d!.notes).toEqual(["did you mean 'units'?"]);
    expect(expectErrors(out("dense(4, unit: 4)"), [{ code: "RC301", line: 3, column: 24 }])[0]!.notes).toEqual(["did you mean 'units'?"]);
    // A required parameter nothing suggests is still missing.
    expectErrors(out("attention(head: 2, causal: true)", "f32[4, 8]"), [{ code: "RC301", line: 3, column: 25 }]);
    expectErrors(out("attention(hedz: 2)", "f32[4, 8]"), [
      { code: "RC302", line: 3, column: 15 },
      { code: "RC301", line: 3, column: 25 },
    ]);
  });

  it("missing required arguments name the parameter and its type", () => {
    const [d] = expectErrors(out("attention(causal: true)", "f32[4, 8]"), [{ code: "RC302", line: 3, column: 15 }]);
    expect(d!.message).toBe("attention needs the argument 'heads' (an int >= 1)");
  });

  it("positional after named", () => {
    expectErrors(out("dense(units: 4, false)"), [{ code: "RC304", line: 3, column: 31 }]);
  });

  it("an argument given twice", () => {
    expectErrors(out("dense(4, units: 5)"), [{ code: "RC305", line: 3, column: 24 }]);
  });

  it("wrong types name the expected and the actual", () => {
    const [d] = expectErrors(out("dense(4, bias: 1)"), [{ code: "RC306", line: 3, column: 30 }]);
    expect(d!.message).toBe("argument 'bias' of dense expects true or false, got 1");
    expectErrors(out('reshape(shape: "8")'), [{ code: "RC306", line: 3, column: 30 }]);
    expectErrors(out("reshape([2.5])"), [{ code: "RC306", line: 3, column: 23 }]);
  });

  it("a layer argument must be a layer", () => {
    expectErrors(out("repeat(2, 3)"), [{ code: "RC310", line: 3, column: 25 }]);
  });

  it("applying a part takes one value", () => {
    expectErrors("model T {\n  input x: f32[8]\n  encoder f = dense(2)\n  output f(x, x)\n}", [{ code: "RC316", line: 4, column: 10 }]);
  });

  it("values and layers in the wrong place", () => {
    expectErrors("model T {\n  input x: f32[8]\n  encoder f = x\n  output x\n}", [{ code: "RC310", line: 3, column: 15 }]);
    expectErrors("model T {\n  input x: f32[8]\n  encoder f = dense(2)\n  output f\n}", [{ code: "RC311", line: 4, column: 10 }]);
    expectErrors("model T {\n  input x: f32[8]\n  output x(3)\n}", [{ code: "RC309", line: 3, column: 10 }]);
  });

  it("input types", () => {
    expectErrors("model T {\n  input x: dense(3)\n}", [{ code: "RC313", line: 2, column: 12 }]);
    expectErrors("model T {\n  input x: f32[0, 3]\n}", [{ code: "RC319", line: 2, column: 16 }]);
    expectErrors("model T {\n  input x: label(classes: 1)\n}", [{ code: "RC307", line: 2, column: 27 }]);
    expectErrors("model T {\n  input x: f32(3)\n}", [{ code: "RC309", line: 2, column: 12 }]);
    expectErrors("model T {\n  input x: f32[4]\n  output x[0]\n}", [{ code: "RC323", line: 3, column: 10 }]);
  });

  it("arithmetic on the wrong things", () => {
    expectErrors("model T {\n  input x: f32[8]\n  output x + dense(3)\n}", [{ code: "RC315", line: 3, column: 10 }]);
    expectErrors("block b(n: int) {\n  dense(n / 0)\n}\nmodel T {\n  input x: f32[8]\n  output x -> b(2)\n}", [{ code: "RC315", line: 2, column: 9 }]);
  });

  it("optimizers and schedules only in settings", () => {
    expectErrors("model T {\n  input x: f32[8]\n  let o = adam(lr: 0.1)\n}", [{ code: "RC318", line: 3, column: 11 }]);
  });
});
