import { describe, expect, it } from "vitest";
import { parse } from "../../language/parser.js";
import { Source } from "../../language/source.js";
import { tokenize } from "../../language/lexer.js";
import { unclosedBrackets } from "../../language/brackets.js";

const unclosed = (text: string) => unclosedBrackets(tokenize(new Source("a.repr", text)).tokens).map((t) => [t.image, t.startOffset]);
const labels = (text: string) =>
  parse(new Source("a.repr", text)).diagnostics.map((d) => ({ code: d.code, related: d.related.map((r) => [r.message, r.span.start]) }));

describe("unclosed brackets", () => {
  it("finds none in balanced text", () => {
    expect(unclosed("model M { input x: f32[4] output (x) }")).toEqual([]);
  });

  it("finds a bracket left open at the end, and one a later closer skips", () => {
    expect(unclosed("model M {")).toEqual([["{", 8]]);
    expect(unclosed("m { f = g(4\n}")).toEqual([["(", 9]]);
    // A closer nothing matches is left to the parser.
    expect(unclosed("a ) b")).toEqual([]);
  });

  it("labels the first syntax error after the bracket, once", () => {
    expect(labels("model M {\n  input x: f32[4]\n")).toEqual([{ code: "RC107", related: [["this '{' is never closed", 8]] }]);
    const call = labels("model M {\n  input x: f32[4]\n  encoder f = dense(4\n  loss l = mse(f(x), x)\n}\n");
    expect(call).toEqual([{ code: "RC104", related: [["this '(' is never closed", 47]] }]);
  });

  it("labels nothing when the brackets close", () => {
    expect(labels("model M {\n  input x f32[4]\n}\n").flatMap((d) => d.related)).toEqual([]);
  });
});
