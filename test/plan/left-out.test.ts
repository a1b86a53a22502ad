/**
 * Functions a plan leaves out: a part that reads more than its input (a model
 * value, a mask) is not a function of its input alone, so it gets no method.
 */
import { describe, expect, test } from "vitest";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { checkedSource } from "./harness.js";

describe("functions that are not functions of their inputs alone", () => {
  test("a decoder that reads a model value (attention's context) has no decode", () => {
    const src = `
model Ctx {
  input x: f32[4, 8]
  input memory: f32[6, 8]
  encoder f = dense(8)
  decoder g = attention(heads: 2, context: memory) -> dense(8)
  loss l = mse(g(f(x)), x)
  output g(f(x))
}
`;
    const plan = buildModelPlan(checkedSource(src), "Ctx", { trainBatch: 2 });
    expect(plan.functions.map((f) => [f.name, f.inputs.map((i) => i.name)])).toEqual([
      ["encode", ["x"]],
      ["forward", ["x", "memory"]],
    ]);
  });
});
