import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Source } from "../../language/source.js";
import { parse } from "../../language/parser.js";
import { print } from "../../language/printer.js";
import { format } from "../../language/format.js";
import { tokenize } from "../../language/lexer.js";
import { file, fragments } from "./arbitraries.js";
import { strip } from "./helpers.js";

const src = (text: string) => new Source("p.repr", text);

/** Run counts; `REPR_FC_RUNS=5000` explores further. */
const runs = (n: number) => Number(process.env["REPR_FC_RUNS"] ?? n);

/** Every span lies inside the text and starts before it ends. */
function spansAreSane(node: unknown, length: number): boolean {
  if (node === null || typeof node !== "object") return true;
  const rec = node as Record<string, unknown>;
  const span = rec["span"] as { start: number; end: number } | undefined;
  if (span && !(span.start >= 0 && span.start <= span.end && span.end <= length)) return false;
  return Object.values(rec).every((v) => (Array.isArray(v) ? v.every((x) => spansAreSane(x, length)) : spansAreSane(v, length)));
}

describe("parsing never fails", () => {
  const survives = (text: string) => {
    const { ast, diagnostics } = parse(src(text));
    expect(ast.kind).toBe("File");
    expect(spansAreSane(ast, text.length)).toBe(true);
    for (const d of diagnostics) expect(d.span.start).toBeLessThanOrEqual(text.length);
  };

  it("on arbitrary strings", () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), survives), { numRuns: runs(300) });
  });

  it("on arbitrary code points, surrogates included", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 100 }), survives), { numRuns: runs(200) });
  });

  it("on strings of token fragments", () => {
    fc.assert(
      fc.property(fc.array(fragments, { maxLength: 60 }), fc.constantFrom(" ", "", "\n"), (parts, sep) => survives(parts.join(sep))),
      { numRuns: runs(500) },
    );
  });

  it("on valid programs with tokens deleted", () => {
    fc.assert(
      fc.property(file, fc.nat(), fc.nat({ max: 3 }), (ast, at, count) => {
        const text = print(ast);
        const tokens = tokenize(src(text)).tokens;
        if (tokens.length === 0) return;
        const t = tokens[at % tokens.length]!;
        const end = tokens[Math.min(tokens.length - 1, (at % tokens.length) + count)]!;
        survives(text.slice(0, t.startOffset) + text.slice(end.startOffset + end.image.length));
      }),
      { numRuns: runs(200) },
    );
  });
});

describe("printing round-trips", () => {
  it("print then parse gives the same tree", () => {
    fc.assert(
      fc.property(file, (ast) => {
        const text = print(ast);
        const back = parse(src(text));
        expect(back.diagnostics.map((d) => d.message), text).toEqual([]);
        expect(strip(back.ast)).toEqual(strip(ast));
      }),
      { numRuns: runs(300) },
    );
  });

  it("print(parse(s)) is a fixed point", () => {
    fc.assert(
      fc.property(file, (ast) => {
        const once = print(ast);
        expect(print(parse(src(once)).ast)).toBe(once);
      }),
      { numRuns: runs(200) },
    );
  });
});

describe("formatting is idempotent and keeps the tree", () => {
  /** Comments of every kind, doc comments included, on their own line or after code. */
  const comment = fc.constantFrom(
    " // note\n",
    " /* c */ ",
    "\n// own line\n",
    "\n/* block\n  comment */\n",
    "\n/// doc?\n",
    " /// after code\n",
    "\n///\n/// two lines\n",
  );
  /** A valid program with comments inserted after random tokens. */
  const withComments = fc.tuple(file, fc.array(fc.tuple(fc.nat(), comment), { maxLength: 8 })).map(([ast, inserts]) => {
    let text = print(ast);
    const ends = tokenize(src(text)).tokens.map((t) => t.startOffset + t.image.length);
    if (ends.length > 0) {
      const at = [...new Set(inserts.map(([i, c]) => [ends[i % ends.length]!, c] as const))].sort((a, b) => b[0] - a[0]);
      for (const [offset, c] of at) text = text.slice(0, offset) + c + text.slice(offset);
    }
    return text;
  });

  it("on valid programs with comments anywhere between tokens", () => {
    fc.assert(
      fc.property(withComments, (text) => {
        const once = format(src(text));
        expect(once.diagnostics.map((d) => d.message), text).toEqual([]);
        const twice = format(src(once.text!));
        expect(twice.text, text).toBe(once.text);
        // Comments never change the tree, doc comments included: a `///` that
        // documents nothing must not come to document something.
        const tree = (t: string) => strip(parse(src(t)).ast.items);
        expect(tree(once.text!), `${text}\n--- formatted as ---\n${once.text}`).toEqual(tree(text));
      }),
      { numRuns: runs(400) },
    );
  });
});
