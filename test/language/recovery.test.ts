import { describe, expect, it } from "vitest";
import { Source } from "../../language/source.js";
import { parse } from "../../language/parser.js";
import { errorsOf } from "./helpers.js";

describe("error messages", () => {
  it.each([
    ["model M { encoder f dense(3) }", "1:21 RC104 expected '=' after the part name, found 'dense'"],
    ["model M { output f(a, ) + ) }", "1:27 RC109 expected an expression, found ')'"],
    ["model { }", "1:7 RC112 expected a model name, found '{'"],
    ["model M { let true = 1 }", "1:15 RC112 expected a name for the value, found 'true'"],
    ["model M { output dense(3", "1:25 RC104 expected ',' or ')', found end of file"],
    ["block b(x int) { relu }", "1:11 RC104 expected ':' and a type after the parameter name, found 'int'"],
    ["pipeline p { train M on d }", "1:14 RC108 expected a pipeline step (pretrain, freeze, unfreeze, replace, adapt or test) or '}', found 'train'"],
    ["import { a b } from \"x\"", "1:12 RC104 expected ',' or '}', found 'b'"],
    ["data D { x f32[1] }", "1:12 RC104 expected ':' and a type after the field name, found 'f32'"],
    ["model M { views a = augment(x) }", "1:19 RC104 expected ',' and a second view name, found '='"],
    ["pipeline p { replace h classifier(3) }", "1:24 RC104 expected 'with' after the part name, found 'classifier'"],
    ["model M { output { a 1 } }", "1:22 RC104 expected ':' after the key, found '1'"],
    ["stuff", "1:1 RC106 expected a declaration (import, block, model, data or pipeline), found 'stuff'"],
    ["model M { output \"s\" x = }", "1:22 RC107 expected a model member (input, encoder, bottleneck, decoder, head, part, mask, views, let, loss or output) or '}', found 'x'"],
    ["data D { x: f32[1] 3 }", "1:20 RC110 expected a field ('name: type') or '}', found '3'"],
    ["block b() { relu = }", "1:18 RC111 expected a block statement (input, let, output or a layer expression) or '}', found '='"],
    ["model M { input x f32[16] output x }", "1:19 RC104 expected ':' before the type of input 'x', found 'f32'"],
    ["model M {\n  input x f32[16]\n  output x\n}", "2:11 RC104 expected ':' before the type of input 'x', found 'f32'"],
    ["model M { input x = f32[16] }", "1:19 RC104 expected ':' before the type of input 'x', found '='"],
    ["block b() { input x = f32[16] output x }", "1:21 RC104 expected ':' before the type of input 'x', found '='"],
    ["model M { output dropout(.5) }", "1:26 RC114 a number must start with a digit: write 0.5"],
    ["model M { output [.25e-3, 1] }", "1:19 RC114 a number must start with a digit: write 0.25e-3"],
    ["model M { output m.[1] }", "1:20 RC112 expected a member name after '.', found '['"],
    ["model M { output dense(9007199254740993) }", "1:24 RC115 the integer 9007199254740993 is too large: an int literal must be at most 9007199254740991 (2^53 - 1)"],
    [`model M { output ${"9".repeat(40)} }`, "1:18 RC115 the integer 999999999999999999999... is too large: an int literal must be at most 9007199254740991 (2^53 - 1)"],
  ])("%s", (text, expected) => {
    expect(errorsOf(text)).toEqual([expected]);
  });
});

describe("recovery", () => {
  it("reports every error of a file in one run, with positions", () => {
    const text = `model M {
  input x: f32[3]
  encoder f dense(3)
  decoder g = dense(3) ->
  loss l mse(a, b)
  output a @ b
}

model N { input y: f32[1] }
oops
pipeline P {
  pretrain M digits
  freeze f g
  test on digits.test
}
data D { x: }
`;
    expect(errorsOf(text).map((e) => e.split(" ").slice(0, 2).join(" "))).toEqual([
      "3:13 RC104",
      "5:8 RC107",
      "6:12 RC101",
      "10:1 RC106",
      "12:14 RC104",
      "13:12 RC108",
      "16:13 RC109",
    ]);
  });

  it("still builds the declarations around the errors", () => {
    const { ast } = parse(new Source("t.repr", `model M { encoder f dense(3) let z = }\nmodel N { input y: f32[1] }\ngarbage here\ndata D { x: f32[2] }`));
    expect(ast.items.map((i) => `${i.kind} ${i.kind === "Import" ? "" : i.name.text}`)).toEqual(["Model M", "Model N", "Data D"]);
    const m = ast.items[0]!;
    expect(m.kind === "Model" && m.members.map((x) => x.kind)).toEqual(["Part", "Let"]);
    const z = m.kind === "Model" ? m.members[1] : undefined;
    expect(z?.kind === "Let" && z.value.kind).toBe("ErrorExpr");
  });

  it("keeps parsing after a number written without its leading digit", () => {
    const { ast, diagnostics } = parse(new Source("t.repr", "model M {\n  encoder f = dropout(.5) -> dense(4)\n  output f\n}"));
    expect(diagnostics.map((d) => d.code)).toEqual(["RC114"]);
    const m = ast.items[0]!;
    expect(m.kind === "Model" && m.members.map((x) => x.kind)).toEqual(["Part", "Output"]);
  });

  it("keeps the declarations around an unsafe integer, which becomes an error expression", () => {
    const { ast, diagnostics } = parse(new Source("t.repr", "model M {\n  encoder f = dense(9007199254740992)\n  let n = 9007199254740991\n}"));
    expect(diagnostics.map((d) => d.code)).toEqual(["RC115"]);
    const m = ast.items[0]!;
    if (m.kind !== "Model") throw new Error("expected a model");
    const f = m.members[0]!;
    expect(f.kind === "Part" && f.value.kind === "Call" && f.value.args[0]!.value).toEqual({ kind: "ErrorExpr", span: { start: 30, end: 46 } });
    const n = m.members[1]!;
    expect(n.kind === "Let" && n.value).toMatchObject({ kind: "Number", value: 9007199254740991 });
  });

  it("keeps the type of an input missing its ':' out of the next member", () => {
    const { ast, diagnostics } = parse(new Source("t.repr", "model M {\n  input x f32[16]\n  encoder f = dense(4)\n}"));
    expect(diagnostics).toHaveLength(1);
    const m = ast.items[0]!;
    expect(m.kind === "Model" && m.members.map((x) => x.kind)).toEqual(["Input", "Part"]);
  });

  it("does not echo a stray character as a syntax error", () => {
    expect(errorsOf("model M { output a $ b }").map((e) => e.split(" ")[1])).toEqual(["RC101"]);
  });

  it("reports lexer and parser errors together, in order", () => {
    expect(errorsOf('model M { output "abc\n  let = 1\n}').map((e) => e.split(" ").slice(0, 2).join(" "))).toEqual([
      "1:18 RC102",
      "2:7 RC112",
    ]);
  });
});
