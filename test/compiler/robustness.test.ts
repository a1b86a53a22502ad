import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { check } from "./harness.js";
import { MAX_BRACKET_DEPTH } from "../../language/nesting.js";

/** Valid programs to damage: the diagnostic cases with their first line, and the examples. */
const corpus = [join(import.meta.dirname, "..", "diagnostics", "cases"), join(import.meta.dirname, "..", "..", "examples")].flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".repr"))
    .map((f) => readFileSync(join(dir, f), "utf8")),
);

/** Pieces of repr a damaged program may gain. */
const pieces = [
  "model", "block", "input", "output", "let", "encoder", "head", "bottleneck", "mask", "views", "loss", "on", "pipeline",
  "pretrain", "freeze", "replace", "with", "adapt", "test", "data", "import", "{", "}", "(", ")", "[", "]", ",", ":", "=",
  "->", "+", "*", "/", "-", ".", "x", "f", "m", "dense(4)", "conv2d", "repeat(2, f)", "unmask(m)", "f32[1, 4, 4]",
  "label(classes: 2)", "tokens(length: 3, vocab: 4)", "0", "-1", "0.5", "1e9", "true", "\"s\"", "m.masked", "digits.train",
  "mse(x, x)", "skipgram(x, x, table: f)", "random_patches(x, size: 2, ratio: 0.5)", "augment(x, flip: true)", "\n",
];

describe("the checker on damaged programs", () => {
  it("never throws, and every diagnostic has a code and a span inside its file", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...corpus),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 12 }), fc.constantFrom(...pieces)), { maxLength: 6 }),
        (text, edits) => {
          let damaged = text;
          for (const [at, remove, insert] of edits) {
            const i = at % (damaged.length + 1);
            damaged = damaged.slice(0, i) + insert + damaged.slice(i + remove);
          }
          const { diagnostics } = check(damaged);
          for (const d of diagnostics) {
            expect(d.code).toMatch(/^RC[1-5]\d\d$/);
            expect(d.message).not.toMatch(/\{\w+\}|undefined|NaN/);
            expect(d.span.start).toBeGreaterThanOrEqual(0);
            expect(d.span.end).toBeLessThanOrEqual(d.source.text.length);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("handles deep nesting up to the parser's limit, and long chains", () => {
    const depth = MAX_BRACKET_DEPTH;
    const deep = `model T {\n  input x: f32[4]\n  output ${"(".repeat(depth)}x${")".repeat(depth)}\n}`;
    expect(check(deep).diagnostics).toEqual([]);
    const calls = `model T {\n  input x: f32[4]\n  part f = relu\n  output ${"f(".repeat(depth)}x${")".repeat(depth)}\n}`;
    expect(check(calls).diagnostics).toEqual([]);
    const chain = `model T {\n  input x: f32[4]\n  output x${" -> relu".repeat(500)}\n}`;
    expect(check(chain).diagnostics).toEqual([]);
  });
});
