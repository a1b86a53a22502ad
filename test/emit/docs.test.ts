/** Comment text and literals of generated modules (compiler/emit/docs.ts, literals.ts). */
import fc from "fast-check";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { docLines, plainLine } from "../../compiler/emit/docs.js";
import { numberLiteral, stringLiteral } from "../../compiler/emit/literals.js";
import { LONE_SURROGATE, nastyString } from "./arbitrary.js";

/** The tags and text TypeScript reads from a doc comment with `lines`. */
function parseDoc(lines: readonly string[]): { tags: string[]; statements: number } {
  const text = `/**\n${lines.map((l) => ` * ${l}`).join("\n")}\n */\nfunction f() {}\n`;
  const sf = ts.createSourceFile("doc.ts", text, ts.ScriptTarget.ES2022, true);
  return { tags: ts.getJSDocTags(sf.statements[0]!).map((t) => t.tagName.text), statements: sf.statements.length };
}

describe("doc comments", () => {
  it("escapes what would end the comment or start a tag", () => {
    expect(docLines("a */ b")).toEqual(["a *\\/ b"]);
    expect(docLines("@param x - evil\n  @returns no")).toEqual(["\\@param x - evil", "  \\@returns no"]);
    expect(docLines("mail a@b.org, {@link X}")).toEqual(["mail a@b.org, {\\@link X}"]);
    expect(docLines("C:\\dir\\@x")).toEqual(["C:\\\\dir\\\\\\@x"]);
    expect(docLines("\n\none\r\ntwo\u2028three\u2029four\rfive\n\n")).toEqual(["one", "two", "three", "four", "five"]);
    expect(docLines("nul\0 rlo\u202E lone\uD800 pair😀")).toEqual(["nul\uFFFD rlo\uFFFD lone\uFFFD pair😀"]);
  });

  it("never closes the comment, starts a line or a tag, or hides a character", () => {
    fc.assert(
      fc.property(nastyString, (text) => {
        const lines = docLines(text);
        for (const line of lines) {
          expect(line).not.toContain("*/");
          expect(line).not.toMatch(/[\n\r\u2028\u2029\u0000-\u0008\u202A-\u202E\u2066-\u2069]/);
          expect(line).not.toMatch(LONE_SURROGATE);
        }
        expect(parseDoc(lines)).toEqual({ tags: [], statements: 1 });
      }),
      { numRuns: 300 },
    );
  });

  it("puts a header on one line", () => {
    fc.assert(
      fc.property(nastyString, (text) => {
        expect(plainLine(text)).not.toMatch(/[\n\r\u2028\u2029]/);
      }),
    );
  });
});

describe("literals", () => {
  it("are ASCII and read back exactly", () => {
    fc.assert(
      fc.property(nastyString, fc.constantFrom('"' as const, "'" as const), (text, quote) => {
        const literal = stringLiteral(text, quote);
        expect(literal).toMatch(/^[\x20-\x7E]*$/);
        expect(literal).not.toContain("\\\\");
        const sf = ts.createSourceFile("l.ts", `x = ${literal};`, ts.ScriptTarget.ES2022);
        const expr = ((sf.statements[0] as ts.ExpressionStatement).expression as ts.BinaryExpression).right as ts.StringLiteral;
        expect(expr.text).toBe(text);
        expect((0, eval)(literal)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it("spell every number", () => {
    expect([-0, NaN, Infinity, -Infinity, 1.5].map(numberLiteral)).toEqual(["-0", "NaN", "Infinity", "-Infinity", "1.5"]);
  });
});
