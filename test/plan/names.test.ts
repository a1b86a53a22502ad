/**
 * Method names of head functions (compiler/plan/names.ts): a head keeps its
 * name when it is a safe identifier, and is otherwise `head_<sanitized>`,
 * numbered on a clash; the names of a model's functions are always distinct
 * identifiers that no member of the runtime's `Model` has.
 */
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { buildModelPlan, headMethodNames, isSafeMethodName, RESERVED_METHOD_NAMES } from "../../compiler/plan/index.js";
import { checkedSource, kernelAt } from "./harness.js";

const FIXED = ["encode", "decode", "forward"];

describe("headMethodNames", () => {
  test.each([
    [["W"], ["W"]],
    [["probe", "W2", "_x"], ["probe", "W2", "_x"]],
    [["encode"], ["head_encode"]],
    [["constructor", "toString", "fit", "then"], ["head_constructor", "head_toString", "head_fit", "head_then"]],
    [["class", "delete", "await", "undefined"], ["head_class", "head_delete", "head_await", "head_undefined"]],
    [["a-b", "a b", "é", "", "1st", "$x"], ["head_a_b", "head_a_b_2", "head__", "head_", "head_1st", "head__x"]],
    [["encode", "head_encode"], ["head_encode_2", "head_encode"]],
    [["head_encode", "encode"], ["head_encode", "head_encode_2"]],
    [["a-b", "head_a_b_2", "a+b"], ["head_a_b", "head_a_b_2", "head_a_b_3"]],
    [["__proto__"], ["head___proto__"]],
  ])("%j → %j", (heads, expected) => {
    expect(headMethodNames(heads, FIXED)).toEqual(expected);
  });

  test("any strings give distinct safe identifiers, different from the fixed functions", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom(...RESERVED_METHOD_NAMES), fc.constantFrom("head_encode", "head_fit", "W", "W_2"))), (heads) => {
        const names = headMethodNames(heads, FIXED);
        expect(names.length).toBe(heads.length);
        expect(new Set([...names, ...FIXED]).size).toBe(names.length + FIXED.length);
        for (const [i, name] of names.entries()) {
          expect(name).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
          expect(RESERVED_METHOD_NAMES.has(name)).toBe(false);
          // A safe name is kept as it is (part names are unique: only its first occurrence).
          if (isSafeMethodName(heads[i]!) && !heads.slice(0, i).includes(heads[i]!)) expect(name).toBe(heads[i]);
        }
      }),
    );
  });
});

describe("a model whose heads have unusual names", () => {
  const src = `
model Odd {
  input x: f32[4]
  input y: label(classes: 3)
  encoder f = dense(8) -> relu
  head encode = classifier(classes: 3)
  head constructor = classifier(classes: 3)
  head toString = classifier(classes: 3)
  head head_encode = classifier(classes: 3)
  head _ = classifier(classes: 3)
  head W = classifier(classes: 3)
  loss a = cross_entropy(encode(f(x)), y)
  loss b = cross_entropy(constructor(f(x)), y)
  loss c = cross_entropy(toString(f(x)), y)
  loss d = cross_entropy(head_encode(f(x)), y)
  loss e = cross_entropy(_(f(x)), y)
  loss g = cross_entropy(W(f(x)), y)
}
`;

  test("gets one function per head, named by the rule", () => {
    const plan = buildModelPlan(checkedSource(src), "Odd", { trainBatch: 2 });
    expect(plan.functions.map((f) => f.name)).toEqual(["encode", "forward", "head_encode_2", "head_constructor", "head_toString", "head_encode", "_", "W"]);
    // The model's forward is the first head along the encoder: the part named `encode`.
    expect(plan.functions.find((f) => f.name === "forward")!.output.shape).toEqual([3]);
    // Each head function reads its own head's weights, whatever its method is called.
    const reads = (name: string) => kernelAt(plan.functions.find((f) => f.name === name)!.graph, 2).params.map((p) => p.name);
    expect(reads("head_encode_2")).toEqual(["encode.weight", "encode.bias"]);
    expect(reads("head_encode")).toEqual(["head_encode.weight", "head_encode.bias"]);
    expect(reads("head_constructor")).toEqual(["constructor.weight", "constructor.bias"]);
  });
});
