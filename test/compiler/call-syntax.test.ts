/**
 * Layers applied with call syntax (spec/types.md, "Layers and values"): a
 * built-in layer or a block called with a value first applies the layer the
 * other arguments configure; a value anywhere else among a layer's
 * arguments is RC350, with the `->` form to write.
 */
import { describe, expect, it } from "vitest";
import { expectErrors, modelOf } from "./harness.js";

/** A model with `x: f32[8, 16]`, an encoder f and the given lets; the type of let `v`. */
function typeOf(lets: string, prelude = ""): string {
  const model = modelOf(`${prelude}model M {\n  input x: f32[8, 16]\n  encoder f = dense(16)\n${lets}\n  loss l = mean(v)\n}\n`);
  const v = model.lets.find((l) => l.name === "v")!;
  return `${v.type.dtype}[${[v.type.batched ? "B" : null, ...v.type.shape].filter((d) => d !== null).join(", ")}]`;
}

const wrong = (lets: string, prelude = "") => `${prelude}model M {\n  input x: f32[8, 16]\n  encoder f = dense(16)\n${lets}\n  loss l = mean(x)\n}\n`;

describe("applying a layer with call syntax", () => {
  it("relu(f(x)) applies relu, as f(x) -> relu does", () => {
    expect(typeOf("  let v = relu(f(x))")).toBe("f32[B, 8, 16]");
    const model = modelOf(wrong("  let v = relu(f(x))\n  let w = f(x) -> relu"));
    const [v, w] = ["v", "w"].map((n) => model.graph.nodes[model.lets.find((l) => l.name === n)!.node]!);
    expect(v!.op).toBe("apply");
    expect(w!.op).toBe("apply");
  });

  it("the other arguments configure the layer: softmax(h, axis: 0), mean_pool(h, axis: 0)", () => {
    expect(typeOf("  let v = softmax(f(x), axis: 0)")).toBe("f32[B, 8, 16]");
    // Issue 15: this gave RC306 and then RC305.
    expect(typeOf("  let h = f(x)\n  let v = mean_pool(h, axis: 0)")).toBe("f32[B, 16]");
    expect(typeOf("  let v = dropout(f(x), 0.1)")).toBe("f32[B, 8, 16]");
  });

  it("a block called with a value first is applied, its parameters bound from the rest", () => {
    const scale = "block scaled(factor: float, act: layer = relu) {\n  input h\n  output act(h) * factor\n}\n";
    expect(typeOf("  let v = scaled(f(x), 2)", scale)).toBe("f32[B, 8, 16]");
    expect(typeOf("  let v = scaled(f(x), factor: 0.5, act: tanh)", scale)).toBe("f32[B, 8, 16]");
    expect(typeOf("  let v = f(x) -> scaled(0.5)", scale)).toBe("f32[B, 8, 16]");
  });

  it("configuring is unchanged: a layer called without a value first is a layer", () => {
    modelOf("model M {\n  input x: f32[8, 16]\n  encoder f = dense(16) -> softmax(axis: 0) -> dropout(0.1)\n  loss l = mse(f(x), x)\n}\n");
  });

  it("a layer with parameters still belongs in a part", () => {
    expectErrors(wrong("  let v = dense(f(x), 4)"), [{ code: "RC318", line: 4, column: 11 }]);
  });

  it("a value in a part's definition is still not a layer", () => {
    expectErrors("model M {\n  input x: f32[8]\n  encoder f = relu(x)\n  loss l = mse(f(x), x)\n}\n", [{ code: "RC310", line: 3, column: 15 }]);
  });

  it("a name the scope lacks is reported once", () => {
    expectErrors(wrong("  let v = relu(nothing)"), [{ code: "RC201", line: 4, column: 16 }]);
  });
});

describe("a value among a layer's settings (RC350)", () => {
  it("shows the -> form to write", () => {
    const [d] = expectErrors(
      "model M {\n  input x: f32[8, 16]\n  encoder f = dense(16)\n  let h = f(x)\n  part p = dense(64, h)\n  loss l = mean(x)\n}\n",
      [{ code: "RC350", line: 5, column: 22 }],
    );
    expect(d!.message).toBe("dense is given the value 'h' as an argument; a layer is applied to one value, written first or piped: write 'h -> dense(64)'");
  });

  it("a second value after the first", () => {
    const [d] = expectErrors(wrong("  let v = softmax(f(x), x)"), [{ code: "RC350", line: 4, column: 25 }]);
    expect(d!.message).toContain("write 'x -> softmax'");
  });

  it("past the last positional parameter, instead of RC303", () => {
    const [d] = expectErrors(wrong("  let v = relu(0, x)"), [{ code: "RC350", line: 4, column: 19 }]);
    expect(d!.message).toContain("write 'x -> relu'");
  });
});

describe("an argument given positionally and by name", () => {
  it("is one error, RC305, at the named one", () => {
    const [d] = expectErrors(wrong("  let v = f(x) -> softmax(2.5, axis: 0)"), [{ code: "RC305", line: 4, column: 32 }]);
    expect(d!.message).toBe("softmax got the argument 'axis' twice");
  });
});
