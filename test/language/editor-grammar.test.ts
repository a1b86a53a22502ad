import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { keywords } from "../../language/lexer.js";

interface Pattern {
  name?: string;
  match?: string;
  begin?: string;
  end?: string;
  patterns?: Pattern[];
}

const grammarPath = join(import.meta.dirname, "..", "..", "editors", "repr.tmLanguage.json");
const grammar = JSON.parse(readFileSync(grammarPath, "utf8")) as {
  scopeName: string;
  repository: Record<string, Pattern>;
};

function allPatterns(p: Pattern): Pattern[] {
  return [p, ...(p.patterns ?? []).flatMap(allPatterns)];
}

const patterns = Object.values(grammar.repository).flatMap(allPatterns);

function scopesOf(text: string): Set<string> {
  const scopes = new Set<string>();
  for (const p of patterns) {
    if (p.match && p.name && new RegExp(p.match, "m").test(text)) scopes.add(p.name);
  }
  return scopes;
}

describe("TextMate grammar", () => {
  it("compiles every regular expression", () => {
    expect(grammar.scopeName).toBe("source.repr");
    for (const p of patterns) {
      for (const re of [p.match, p.begin, p.end]) if (re) expect(() => new RegExp(re, "m")).not.toThrow();
    }
  });

  it("highlights every keyword of the lexer", () => {
    const source = JSON.stringify(grammar.repository);
    for (const word of keywords) expect(source, `keyword '${word}'`).toMatch(new RegExp(`[(|]${word}[)|]`));
  });

  it("tells doc comments from ordinary comments", () => {
    expect(scopesOf("/// The encoder.")).toContain("comment.line.documentation.repr");
    expect(scopesOf("x // why")).toContain("comment.line.double-slash.repr");
    expect(scopesOf("-> dense(3)")).toContain("keyword.operator.pipe.repr");
    expect(scopesOf("1.5e-4")).toContain("constant.numeric.repr");
  });
});
