import { describe, expect, it } from "vitest";
import { Source } from "../../language/source.js";
import { decodeString, keywords, tokenize } from "../../language/lexer.js";

const lex = (text: string) => tokenize(new Source("t.repr", text));
const kinds = (text: string) => lex(text).tokens.map((t) => `${t.tokenType.name}:${t.image}`);

describe("lexer", () => {
  it("splits punctuation, with '->' as one token", () => {
    expect(kinds("{ } ( ) [ ] , : = . -> + - * /")).toEqual([
      "LCurly:{", "RCurly:}", "LParen:(", "RParen:)", "LBracket:[", "RBracket:]", "Comma:,", "Colon::",
      "Equals:=", "Dot:.", "Arrow:->", "Plus:+", "Minus:-", "Star:*", "Slash:/",
    ]);
  });

  it("reads numbers in every written form", () => {
    expect(kinds("12 1.5 1e-4 2.5E+3 1.x")).toEqual([
      "Number:12", "Number:1.5", "Number:1e-4", "Number:2.5E+3", "Number:1", "Dot:.", "Ident:x",
    ]);
  });

  it("reads a number without its leading digit as one number, with an error", () => {
    const r = lex("(.5) [.25e-3] x.5 f(1).5 a .5");
    expect(r.tokens.map((t) => `${t.tokenType.name}:${t.image}`)).toEqual([
      "LParen:(", "DotNumber:.5", "RParen:)", "LBracket:[", "DotNumber:.25e-3", "RBracket:]",
      "Ident:x", "Dot:.", "Number:5", "Ident:f", "LParen:(", "Number:1", "RParen:)", "Dot:.", "Number:5",
      "Ident:a", "DotNumber:.5",
    ]);
    expect(r.diagnostics.map((d) => `${d.code} ${d.message} ${d.span.start}`)).toEqual([
      "RC114 a number must start with a digit: write 0.5 1",
      "RC114 a number must start with a digit: write 0.25e-3 6",
      "RC114 a number must start with a digit: write 0.5 27",
    ]);
  });

  it("recognises keywords only as whole words (longer_alt)", () => {
    expect(kinds("model models input_ _input true truex")).toEqual([
      "Model:model", "Ident:models", "Ident:input_", "Ident:_input", "True:true", "Ident:truex",
    ]);
  });

  it("knows every keyword of the contract", () => {
    const contract =
      "import from block model data pipeline input let output encoder bottleneck decoder head part mask views loss on pretrain freeze unfreeze replace with adapt test true false";
    expect([...keywords].sort()).toEqual(contract.split(" ").sort());
    for (const word of contract.split(" ")) expect(kinds(word)[0]).not.toMatch(/^Ident/);
  });

  it("keeps comments in their own group", () => {
    const r = lex("a // line\n/* block\n */ b /// doc\n//// four");
    expect(r.tokens.map((t) => t.image)).toEqual(["a", "b"]);
    expect(r.comments.map((t) => `${t.tokenType.name}:${t.image}`)).toEqual([
      "LineComment:// line",
      "BlockComment:/* block\n */",
      "DocComment:/// doc",
      "LineComment://// four",
    ]);
    expect(r.diagnostics).toEqual([]);
  });

  it("reports an unterminated string and keeps going", () => {
    const r = lex('a "abc\nb');
    expect(r.diagnostics.map((d) => [d.code, d.span])).toEqual([["RC102", { start: 2, end: 6 }]]);
    expect(r.tokens.map((t) => t.image)).toEqual(["a", '"abc', "b"]);
  });

  it("reports an unterminated block comment", () => {
    const r = lex("a /* never closed\nb");
    expect(r.diagnostics.map((d) => [d.code, d.span.start])).toEqual([["RC103", 2]]);
    expect(r.tokens.map((t) => t.image)).toEqual(["a"]);
  });

  it("reports unexpected characters and drops them", () => {
    const r = lex("a @ b # \u0000");
    expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([
      "RC101 unexpected character '@' (U+0040)",
      "RC101 unexpected character '#' (U+0023)",
      "RC101 unexpected character U+0000",
    ]);
    expect(r.tokens.map((t) => t.image)).toEqual(["a", "b"]);
  });

  it("reports unknown escape sequences", () => {
    expect(lex('"a\\qb"').diagnostics.map((d) => [d.code, d.span])).toEqual([["RC105", { start: 2, end: 4 }]]);
    expect(lex('"\\u{110000}"').diagnostics.map((d) => d.code)).toEqual(["RC105"]);
  });

  it("decodes escapes", () => {
    expect(decodeString('"a\\"b\\\\c\\nd\\te\\u{41}\\u{1F600}"', true)).toBe('a"b\\c\nd\teA😀');
    expect(decodeString('"abc', false)).toBe("abc");
  });

  it("never throws, whatever the input", () => {
    for (const text of ["", "\uFEFF", "\ud800", "\"\\", "/*", "/", "->-", "\r\n\t", "é😀"]) {
      expect(() => lex(text)).not.toThrow();
    }
  });
});
