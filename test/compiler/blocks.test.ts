import { describe, expect, it } from "vitest";
import { applied, check, expectErrors, expectValid, modelOf } from "./harness.js";

describe("blocks", () => {
  it("sequential blocks evaluate parameter arithmetic", () => {
    const prelude = "block wide(dim: int, ratio: int = 4) {\n  dense(ratio * dim) -> gelu -> dense(dim)\n}";
    expect(applied("wide(8)", "f32[8]", prelude)).toEqual({ output: "f32[B, 8]", params: 8 * 32 + 32 + 32 * 8 + 8 });
    expect(applied("wide(dim: 8, ratio: 2)", "f32[8]", prelude).params).toBe(8 * 16 + 16 + 16 * 8 + 8);
  });

  it("a layer parameter with a default, and one passed in", () => {
    const prelude = "block mlp(hidden: int, out: int, act: layer = relu) {\n  dense(hidden) -> act -> dense(out)\n}";
    expect(applied("mlp(4, 2)", "f32[3]", prelude).params).toBe(3 * 4 + 4 + 4 * 2 + 2);
    expect(applied("mlp(4, 2, act: layer_norm)", "f32[3]", prelude).params).toBe(3 * 4 + 4 + 8 + 4 * 2 + 2);
  });

  it("defaults may use earlier parameters", () => {
    const prelude = "block b(dim: int, hidden: int = 2 * dim) {\n  dense(hidden) -> dense(dim)\n}";
    expect(applied("b(3)", "f32[3]", prelude).params).toBe(3 * 6 + 6 + 6 * 3 + 3);
  });

  it("data-flow blocks with lets, residuals and a further input", () => {
    const prelude =
      "block res(dim: int) {\n  input x\n  let h = x -> dense(dim) -> relu\n  output x + h\n}\n" +
      "block cross(heads: int) {\n  input q\n  input context\n  output q + (q -> attention(heads: heads, context: context))\n}";
    expect(applied("res(8)", "f32[8]", prelude)).toEqual({ output: "f32[B, 8]", params: 72 });
    const model = modelOf(`${prelude}\nmodel T {\n  input q: f32[3, 8]\n  input m: f32[5, 8]\n  part c = cross(heads: 2, context: m)\n  output c(q)\n}`);
    const apply = model.graph.nodes.find((n) => n.op === "apply")!;
    if (apply.op !== "apply" || apply.layer.kind !== "block") throw new Error("expected a block");
    expect(apply.layer.args["context"]).toEqual({ node: 1 });
    expect(apply.layer.graph.nodes.filter((n) => n.op === "input").map((n) => n.op === "input" && n.name)).toEqual(["q", "context"]);
    expect(apply.layer.params).toBe(4 * (64 + 8));
  });

  it("a block's declared input type is checked", () => {
    expectErrors("block b() {\n  input x: f32[4]\n  output x\n}\nmodel T {\n  input x: f32[5]\n  output x -> b\n}", [{ code: "RC401", line: 2, column: 12 }]);
  });

  it("errors in a block body point inside it, with the use as related", () => {
    const [d] = expectErrors("block b(n: int) {\n  dense(n) -> conv2d(4)\n}\nmodel T {\n  input x: f32[8]\n  output x -> b(2)\n}", [
      { code: "RC401", line: 2, column: 15 },
    ]);
    expect(d!.related.map((r) => r.message)).toEqual(["in this use of block 'b'"]);
  });

  it("a further input must be passed by name", () => {
    const cross = "block c() {\n  input q\n  input k\n  output q + k\n}\n";
    expectErrors(`${cross}model T {\n  input x: f32[8]\n  output x -> c\n}`, [{ code: "RC320", line: 8, column: 15 }]);
    // `c(x)` applies c to x (call syntax); its further input is still missing.
    expectErrors(`${cross}model T {\n  input x: f32[8]\n  output c(x)\n}`, [{ code: "RC302", line: 8, column: 10 }]);
    const [d] = expectErrors(`${cross}model T {\n  input x: f32[8]\n  output c(x, x)\n}`, [{ code: "RC350", line: 8, column: 15 }]);
    expect(d!.notes).toEqual(["block 'c' takes its further inputs by name: c(k: ...)"]);
  });

  it("recursion, bad parameter types, body form", () => {
    expectErrors("block b() {\n  dense(2) -> b\n}\nmodel T {\n  input x: f32[8]\n  output x -> b\n}", [{ code: "RC212", line: 2, column: 15 }]);
    const [d] = expectErrors("block b(n: integer) {\n  dense(n)\n}\n", [{ code: "RC312", line: 1, column: 12 }]);
    expect(d!.notes).toEqual(["did you mean 'int'?"]);
    expectErrors("block b() {\n  input x\n  let y = x\n}\n", [{ code: "RC522", line: 1, column: 7 }]);
    expectErrors("block b() {\n  input x\n  output x\n  output x\n}\n", [{ code: "RC521", line: 4, column: 3 }]);
    expectErrors("block b() {\n  relu\n  gelu\n}\n", [{ code: "RC523", line: 3, column: 3 }]);
    expectErrors("block b() {\n  input x\n  let x = x\n  output x\n}\n", [{ code: "RC202", line: 3, column: 7 }]);
  });

  it("a let defined in terms of itself", () => {
    expectErrors("block b() {\n  input x\n  let y = y + x\n  output y\n}\nmodel T {\n  input x: f32[2]\n  output x -> b\n}", [{ code: "RC207", line: 3, column: 11 }]);
  });

  it("a block used twice reports a body problem once", () => {
    const r = check("block b() {\n  conv2d(2)\n}\nmodel T {\n  input x: f32[8]\n  let a = x -> b\n  output x -> b\n}");
    expect(r.diagnostics.map((d) => d.code)).toEqual(["RC401"]);
  });

  it("a block passed to itself as an argument is not recursion (issue 15, item 10)", () => {
    const wrap = "block wrap(inner: layer) {\n  input x\n  output x + (x -> inner)\n}\n";
    expectValid(`${wrap}model T {\n  input x: f32[4]\n  part p = wrap(wrap(wrap(relu))) -> dense(4)\n  output p(x)\n}`);
    const level =
      "block level(dim: int, inner: layer) {\n  input x\n  let up = x -> conv2d(filters: dim, stride: 2) -> relu -> inner -> conv_transpose2d(filters: dim, stride: 2)\n  output concat(x, up, axis: 0)\n}\n";
    const r = expectValid(`${level}model U {\n  input image: f32[1, 8, 8]\n  part u = level(2, level(3, relu))\n  output u(image)\n}`);
    // The outer level concatenates the input's channel with its 2 filters; the inner, inside it, 2 + 3.
    expect(r.program.models[0]!.parts[0]!.output?.shape).toEqual([3, 8, 8]);
    // Real recursion through an argument's default is still found at the declaration.
    expectErrors(`block w(inner: layer = w) {\n  inner\n}\nmodel T {\n  input x: f32[4]\n  output x -> w(relu)\n}`, [{ code: "RC212", line: 1, column: 24 }]);
  });

  it("a recursive block is reported once, at the use that closes the cycle, with the cycle in a note", () => {
    const src = "block a(n: int) {\n  dense(n) -> b(n)\n}\nblock b(n: int) {\n  input x\n  output x -> a(n)\n}\nmodel T {\n  input x: f32[4]\n  part p = b(4)\n  output p(x)\n}";
    const [d] = expectErrors(src, [{ code: "RC212", line: 6, column: 15 }]);
    expect(d!.message).toBe("block 'a' uses itself, so it would never end");
    expect(d!.notes).toEqual(["the cycle: a -> b -> a"]);
  });
});

describe("blocks nothing uses", () => {
  it("every name must resolve, with suggestions", () => {
    const [d] = expectErrors("block b(n: int) {\n  dense(n) -> rleu\n}\n", [{ code: "RC201", line: 2, column: 15 }]);
    expect(d!.notes).toEqual(["did you mean 'relu'?"]);
    expectErrors("block b(n: int) {\n  input x\n  let h = x -> dense(m)\n  output hh\n}\n", [
      { code: "RC201", line: 3, column: 22 },
      { code: "RC201", line: 4, column: 10 },
    ]);
  });

  it("parameters, inputs, lets, declarations, built-ins, enum values and data types resolve", () => {
    const src =
      "block inner() {\n  relu\n}\n" +
      "block b(n: int, act: layer = gelu) {\n  input x: f32[4]\n  input k: label(classes: 3)\n  let h = x -> conv2d(n, padding: same) -> act -> inner\n  output h + x\n}\n";
    expectValid(src);
  });

  it("a misspelt enum value is reported", () => {
    const [d] = expectErrors("block b() {\n  conv2d(4, padding: sam)\n}\n", [{ code: "RC308", line: 2, column: 22 }]);
    expect(d!.notes).toEqual(["did you mean 'same'?"]);
  });

  it("a default must have its parameter's type", () => {
    const [d] = expectErrors("block b(m: int = 2.5) {\n  dense(m)\n}\n", [{ code: "RC306", line: 1, column: 18 }]);
    expect(d!.message).toBe("argument 'm' of block 'b' expects an int, got 2.5 (a float)");
    expectErrors("block b(act: layer = 3) {\n  act\n}\n", [{ code: "RC310", line: 1, column: 22 }]);
    // A default that uses an earlier parameter is checked where the block is used.
    expectValid("block b(n: int, m: int = n / 2) {\n  dense(m)\n}\n");
    expectErrors("block b(n: int, m: int = nn / 2) {\n  dense(m)\n}\n", [{ code: "RC201", line: 1, column: 26 }]);
  });

  it("recursion, direct and through other blocks and defaults", () => {
    expectErrors("block b(n: int) {\n  dense(n) -> b(n)\n}\n", [{ code: "RC212", line: 2, column: 15 }]);
    const [d] = expectErrors("block a() {\n  b\n}\nblock b() {\n  input x\n  let y = x -> a\n  output y\n}\n", [{ code: "RC212", line: 6, column: 16 }]);
    expect(d!.notes).toEqual(["the cycle: a -> b -> a"]);
    expectErrors("block b(act: layer = b) {\n  act\n}\n", [{ code: "RC212", line: 1, column: 22 }]);
  });

  it("a parameter hides the block of its name", () => {
    expectValid("block mlp(n: int) {\n  dense(n)\n}\nblock b(mlp: layer) {\n  mlp -> relu\n}\n");
  });
});
