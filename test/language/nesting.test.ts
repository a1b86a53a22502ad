import { describe, expect, it } from "vitest";
import { Source } from "../../language/source.js";
import { parse } from "../../language/parser.js";
import { format } from "../../language/format.js";
import { printExpr } from "../../language/print-expr.js";
import { MAX_BRACKET_DEPTH, MAX_EXPRESSION_LEVELS } from "../../language/nesting.js";
import type * as A from "../../language/ast.js";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import { errorsOf } from "./helpers.js";

/**
 * Deep nesting never crashes the parser, the printer or the checker: past the
 * limits (64 levels of brackets, 256 levels of expression tree) one RC113 is
 * reported at the bracket or operator that goes one level too deep.
 */

const calls = (n: number, inner = "x") => "f(".repeat(n) + inner + ")".repeat(n);
const parens = (n: number, inner = "x") => "(".repeat(n) + inner + ")".repeat(n);
const sum = (terms: number) => Array.from({ length: terms }, () => "a").join(" + ");
/** `f(-(x + [{a: ` repeated: four brackets of different kinds per unit. */
const mixed = (units: number) => "f(-(x + [{a: ".repeat(units) + "x" + "}]))".repeat(units);

/** `model M { output <value> }`, with the value starting at column 18. */
const output = (value: string) => `model M { output ${value} }`;

/** The value of the model's only output. */
function outputValue(text: string): A.Expr {
  const m = parse(new Source("t.repr", text)).ast.items[0]!;
  if (m.kind !== "Model" || m.members[0]?.kind !== "Output") throw new Error("expected a model with an output");
  return m.members[0].value;
}

const bracketError = `RC113 expression nested too deeply: more than ${MAX_BRACKET_DEPTH} levels of brackets`;
const treeError = `RC113 expression nested too deeply: more than ${MAX_EXPRESSION_LEVELS} levels of operators and calls`;

describe("bracket nesting", () => {
  it.each([
    ["parentheses", parens],
    ["calls", calls],
    ["lists", (n: number) => "[".repeat(n) + "x" + "]".repeat(n)],
    ["maps", (n: number) => "{a: ".repeat(n) + "x" + "}".repeat(n)],
    ["indexes", (n: number) => "x[".repeat(n) + "x" + "]".repeat(n)],
  ])("accepts %s nested to the limit", (_, nest) => {
    expect(errorsOf(output(nest(MAX_BRACKET_DEPTH)))).toEqual([]);
  });

  it("accepts mixed brackets nested to the limit", () => {
    expect(errorsOf(output(mixed(MAX_BRACKET_DEPTH / 4)))).toEqual([]);
  });

  it.each([
    ["700 parentheses", parens(700)],
    ["400 calls", calls(400)],
    ["65 calls", calls(65)],
    ["mixed brackets", mixed(200)],
  ])("reports %s once, at the first bracket too deep", (_, value) => {
    const errors = errorsOf(output(value));
    expect(errors).toHaveLength(1);
    // The bracket opening level 65 (the model's `{` does not count).
    const column = 18 + value.split("").findIndex((_, i) => bracketsBefore(value, i) === MAX_BRACKET_DEPTH && "([{".includes(value[i]!));
    expect(errors[0]).toBe(`1:${column} ${bracketError}`);
  });

  it("does not count a body's braces or a block's parameter list", () => {
    expect(errorsOf(`block b(x: ${"[".repeat(64)}1${"]".repeat(64)}) { ${calls(64)} }`)).toEqual([]);
    expect(errorsOf(`pipeline p { pretrain M on d ${"{a: ".repeat(64)}1${"}".repeat(64)} }`)).toEqual([]);
    expect(errorsOf(`pipeline p { pretrain M on d ${"{a: ".repeat(65)}1${"}".repeat(65)} }`)).toEqual([`1:${30 + 64 * 4} ${bracketError}`]);
  });

  it("keeps parsing after the deep expression, which becomes an error expression", () => {
    const text = `model M {\n  output ${calls(100)}\n  loss l = mse(x, x)\n}\nmodel N {}`;
    const { ast, diagnostics } = parse(new Source("t.repr", text));
    expect(diagnostics.map((d) => d.code)).toEqual(["RC113"]);
    expect(ast.items.map((i) => i.kind)).toEqual(["Model", "Model"]);
    const m = ast.items[0]!;
    expect(m.kind === "Model" && m.members.map((x) => x.kind)).toEqual(["Output", "Loss"]);
    // The bracket one level too deep is kept, but what it enclosed is an error expression.
    let e = outputValue(output(calls(100)));
    for (let level = 0; level <= MAX_BRACKET_DEPTH; level++) {
      expect(e.kind).toBe("Call");
      if (e.kind !== "Call") return;
      e = e.args[0]!.value;
    }
    expect(e.kind).toBe("ErrorExpr");
  });

  it("never throws on deep unclosed or mismatched brackets", () => {
    for (const text of [output("(".repeat(5000)), output("f(".repeat(3000) + "]".repeat(3000)), "[".repeat(10000), "{".repeat(10000) + "}".repeat(3)]) {
      const { diagnostics } = parse(new Source("t.repr", text));
      expect(diagnostics.length).toBeGreaterThan(0);
      expect(diagnostics.filter((d) => d.code === "RC113").length).toBeLessThanOrEqual(1);
    }
  });
});

describe("expression tree levels", () => {
  it("accepts a chain of operators to the limit", () => {
    expect(errorsOf(output(sum(MAX_EXPRESSION_LEVELS + 1)))).toEqual([]);
  });

  it.each([
    ["a sum of 10,000 terms", sum(10_000), 18 + 4 * MAX_EXPRESSION_LEVELS + 2],
    ["a sum one term too long", sum(MAX_EXPRESSION_LEVELS + 2), 18 + 4 * MAX_EXPRESSION_LEVELS + 2],
    ["10,000 member accesses", "x" + ".a".repeat(10_000), 18 + 1 + 2 * MAX_EXPRESSION_LEVELS],
    ["10,000 calls in a row", "x" + "()".repeat(10_000), 18 + 1 + 2 * MAX_EXPRESSION_LEVELS],
    ["10,000 unary minus signs", "-".repeat(10_000) + "x", 18 + 10_000 - MAX_EXPRESSION_LEVELS - 1],
  ])("reports %s once, at the operator one level too deep", (_, value, column) => {
    expect(errorsOf(output(value))).toEqual([`1:${column} ${treeError}`]);
    expect(outputValue(output(value)).kind).toBe("ErrorExpr");
  });

  it("counts brackets and operators together", () => {
    // 64 calls, each a level, around a sum of 192 operators: 256 levels.
    expect(errorsOf(output(calls(64, sum(193))))).toEqual([]);
    expect(errorsOf(output(calls(64, sum(194))))).toHaveLength(1);
  });

  it("does not limit the length of a pipe, which stays flat", () => {
    const value = "x" + " -> relu".repeat(10_000);
    expect(errorsOf(output(value))).toEqual([]);
    const e = outputValue(output(value));
    expect(e.kind === "Pipe" && e.stages.length).toBe(10_001);
  });

  it("prints and formats an expression at the limit", () => {
    const value = calls(64, sum(193));
    expect(printExpr(outputValue(output(value)))).toBe(value);
    const once = format(new Source("t.repr", output(value))).text!;
    expect(format(new Source("t.repr", once)).text).toBe(once);
  });
});

describe("the checker on deep programs", () => {
  /** A valid model whose `let y` is `value`. */
  const model = (value: string) =>
    `model M {\n  input x: f32[4]\n  encoder g = dense(4)\n  let y = ${value}\n  loss l = mse(g(x), x)\n}\n`;
  const check = (value: string) => checkProgram(new Source("deep.repr", model(value)), nodeFileHost).diagnostics;

  it.each([
    ["64 nested applications", "g(".repeat(64) + "x" + ")".repeat(64)],
    ["a sum of 257 terms", Array.from({ length: 257 }, () => "x").join(" + ")],
    ["applications around a sum, 256 levels", "g(".repeat(64) + Array.from({ length: 193 }, () => "x").join(" + ") + ")".repeat(64)],
    ["parenthesised sums and negations, 256 levels", "-(x + ".repeat(64) + Array.from({ length: 129 }, () => "x").join(" + ") + ")".repeat(64)],
    ["nested pipes", "(x -> g -> ".repeat(63) + "g" + ")".repeat(63)],
  ])("checks %s at the limit without a crash", (_, value) => {
    expect(check(value).filter((d) => d.code === "RC113")).toEqual([]);
  });

  it.each([
    ["65 nested applications", "g(".repeat(65) + "x" + ")".repeat(65)],
    ["a sum of 10,000 terms", Array.from({ length: 10_000 }, () => "x").join(" + ")],
    ["700 parentheses", parens(700)],
  ])("reports %s over the limit as one error", (_, value) => {
    expect(check(value).map((d) => d.code)).toEqual(["RC113"]);
  });
});

/** How many brackets are open before offset `i` of `text`. */
function bracketsBefore(text: string, i: number): number {
  let depth = 0;
  for (let j = 0; j < i; j++) {
    if ("([{".includes(text[j]!)) depth++;
    else if (")]}".includes(text[j]!)) depth--;
  }
  return depth;
}
