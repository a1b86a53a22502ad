import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Source } from "../../language/source.js";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import { checkProgram } from "../../compiler/check/check.js";
import { projectFileHost } from "../../compiler/check/file-host.js";

/**
 * The spec drives the tests: every ```repr block in spec/*.md is checked.
 * A block marked ```repr is a complete valid program; one marked
 * ```repr invalid RC123 must produce an error with that code.
 */
const specDir = join(import.meta.dirname, "..", "..", "spec");

interface SpecExample {
  readonly file: string;
  readonly line: number;
  readonly expectCode: string | null;
  readonly text: string;
}

function extractExamples(file: string): SpecExample[] {
  const lines = readFileSync(join(specDir, file), "utf8").split("\n");
  const out: SpecExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```repr(?:\s+invalid\s+(RC\d{3}))?\s*$/.exec(lines[i]!);
    if (!open) {
      if (/^```repr\b/.test(lines[i]!)) throw new Error(`${file}:${i + 1}: malformed example fence '${lines[i]}'`);
      continue;
    }
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== "```") end++;
    out.push({ file, line: start, expectCode: open[1] ?? null, text: lines.slice(start, end).join("\n") + "\n" });
    i = end;
  }
  return out;
}

const files = readdirSync(specDir).filter((f) => f.endsWith(".md")).sort();
const examples = files.flatMap(extractExamples);

describe("spec examples", () => {
  it("covers the language with many examples", () => {
    expect(examples.filter((e) => e.expectCode === null).length).toBeGreaterThanOrEqual(30);
    expect(examples.filter((e) => e.expectCode !== null).length).toBeGreaterThanOrEqual(10);
  });

  for (const ex of examples) {
    const label = `${ex.file}:${ex.line} ${ex.expectCode ? `invalid ${ex.expectCode}` : "valid"}`;
    it(label, () => {
      const source = new Source(join("spec", ex.file), ex.text);
      // As the command line checks it: imports stay inside the project (spec/names.md).
      const { diagnostics } = checkProgram(source, projectFileHost(join(specDir, ex.file)));
      const errors = diagnostics.filter((d) => d.severity === "error");
      if (ex.expectCode === null) {
        expect(errors, renderDiagnostics(errors)).toEqual([]);
      } else {
        expect(errors.map((e) => e.code), renderDiagnostics(errors)).toContain(ex.expectCode);
      }
    });
  }
});
