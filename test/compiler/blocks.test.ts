import { describe, expect, it } from "vitest";
import { applied, check, expectErrors, modelOf } from "./harness.js";

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
    expectErrors(`${cross}model T {\n  input x: f32[8]\n  output x -> c(x)\n}`, [
      { code: "RC302", line: 8, column: 15 },
      { code: "RC303", line: 8, column: 17 },
    ]);
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
});
