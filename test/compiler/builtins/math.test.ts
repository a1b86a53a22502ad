/**
 * Maths on values (spec/layers.md, "Maths on values"): the types of the
 * elementwise layers and the reductions, statistics of the batch, losses made
 * of values, and their errors.
 */
import { describe, expect, it } from "vitest";
import { applied, expectErrors, expectValid, modelOf } from "../harness.js";

/** The type of let `v` in a model with `x: f32[3, 4]`, as `f32[B, 3]` or `f32[3]` (a statistic of the batch). */
function typeOf(expr: string): string {
  const model = modelOf(`model M {\n  input x: f32[3, 4]\n  let v = ${expr}\n  loss l = mean(x)\n}\n`);
  const t = model.lets.find((l) => l.name === "v")!.type;
  return `${t.dtype}[${[...(t.batched ? ["B"] : []), ...t.shape].join(", ")}]`;
}

const model = (members: string) => `model M {\n  input x: f32[3, 4]\n  input t: tokens(length: 3, vocab: 5)\n${members}\n}\n`;

describe("elementwise maths layers", () => {
  it("keep their input's shape and own no parameters", () => {
    for (const layer of ["abs", "log", "exp", "sqrt", "clamp(min: 0)", "clamp(max: 1)", "clamp(min: -1, max: 1)"]) {
      expect(applied(`dense(4) -> ${layer}`, "f32[3, 2]")).toEqual({ output: "f32[B, 3, 4]", params: 12 });
    }
  });

  it("apply with call syntax or in a pipe", () => {
    expect(typeOf("log(exp(abs(x)))")).toBe("f32[B, 3, 4]");
    expect(typeOf("x -> sqrt -> clamp(max: 2)")).toBe("f32[B, 3, 4]");
  });

  it("clamp needs a bound, and min ≤ max (RC351)", () => {
    expectErrors(model("  loss l = mean(clamp(x))"), [{ code: "RC351", line: 4, column: 17 }]);
    expectErrors(model("  loss l = mean(clamp(x, min: 2, max: 1))"), [{ code: "RC351", line: 4, column: 31 }]);
  });
});

describe("mean, sum and var over named axes", () => {
  it("reduce every axis, the batch included, by default: one number for the batch", () => {
    expect(typeOf("mean(x)")).toBe("f32[]");
    expect(typeOf("sum(x)")).toBe("f32[]");
    expect(typeOf("var(x)")).toBe("f32[]");
  });

  it("reduce axes of one example: an int, negative from the end, or a list", () => {
    expect(typeOf("sum(x, axis: 0)")).toBe("f32[B, 4]");
    expect(typeOf("mean(x, axis: -1)")).toBe("f32[B, 3]");
    expect(typeOf("var(x, axis: [0, 1])")).toBe("f32[B]");
  });

  it("over the batch give a statistic of the batch", () => {
    expect(typeOf("mean(x, axis: batch)")).toBe("f32[3, 4]");
    expect(typeOf("var(x, axis: [batch, -1])")).toBe("f32[3]");
  });

  it("a statistic of the batch meets every example, goes through layers, and one number goes with anything", () => {
    expect(typeOf("x - mean(x, axis: batch)")).toBe("f32[B, 3, 4]");
    expect(typeOf("log(mean(x, axis: batch) + 1)")).toBe("f32[3, 4]");
    expect(typeOf("x / sqrt(var(x) + 1e-5)")).toBe("f32[B, 3, 4]");
    expect(typeOf("add(mean(x, axis: batch), x)")).toBe("f32[B, 3, 4]");
  });

  it("`batch` names the batch axis inside a block, too", () => {
    expectValid(`block centred() {\n  input h\n  output h - mean(h, axis: batch)\n}\n${model("  let v = x -> centred\n  loss l = mean(v * v)")}`);
  });

  it("reject a wrong axis, an axis twice, the batch of a statistic, and ids", () => {
    expectErrors(model("  loss l = sum(x, axis: 2)"), [{ code: "RC416", line: 4, column: 25 }]);
    expectErrors(model("  loss l = sum(x, axis: [1, 1])"), [{ code: "RC451", line: 4, column: 25 }]);
    expectErrors(model("  let r = mean(x, axis: batch)\n  loss l = sum(r, axis: batch)"), [{ code: "RC450", line: 5, column: 25 }]);
    expectErrors(model("  loss l = mean(t)"), [{ code: "RC314", line: 4, column: 17 }]);
    expectErrors(model("  loss l = mean(x, axis: first)"), [{ code: "RC201", line: 4, column: 26 }]);
    expectErrors(model("  loss l = mean(x, axis: 1.5)"), [{ code: "RC306", line: 4, column: 26 }]);
  });

  it("their names are reserved", () => {
    expectErrors(model("  let mean = x\n  loss l = mse(x, x)"), [{ code: "RC206", line: 4, column: 7 }]);
  });
});

describe("losses and outputs of values", () => {
  it("a loss may be a reduction to one number, alone or with objectives", () => {
    const m = modelOf(model("  encoder f = dense(4) -> sigmoid\n  let rate = mean(f(x), axis: batch)\n  loss sparsity = mse(f(x), x) + 3 * sum(0.1 * log(0.1 / rate))\n  loss l1 = mean(abs(f(x)))"));
    expect(m.losses.map((l) => [l.name, l.objectives])).toEqual([["sparsity", ["mse"]], ["l1", []]]);
  });

  it("one number per example is not a loss, and the help says how to make it one (RC410)", () => {
    const [d] = expectErrors(model("  loss l = sum(x, axis: [0, 1])"), [{ code: "RC410", line: 4, column: 12 }]);
    expect(d!.help).toEqual(["reduce it to one number for the batch: 'mean(sum(x, axis: [0, 1]))'"]);
  });

  it("a term of values has no positions for 'on' to restrict (RC532)", () => {
    const masked = "model M {\n  input x: f32[2, 4]\n  mask m = features(x, ratio: 0.5)\n  encoder f = dense(4)\n";
    const [d] = expectErrors(`${masked}  loss l = mse(f(m.input), m.target) + 0.1 * mean(abs(f(m.input))) on m.masked\n}\n`, [{ code: "RC532", line: 5, column: 46 }]);
    expect(d!.message).toContain("but mean does not");
  });

  it("objectives and the output need one row per example (RC452)", () => {
    expectErrors(model("  let r = mean(x, axis: batch)\n  loss l = mse(r, r)"), [{ code: "RC452", line: 5, column: 16 }]);
    expectErrors(model("  loss l = mean(x)\n  output mean(x, axis: batch)"), [{ code: "RC452", line: 5, column: 10 }]);
  });
});
