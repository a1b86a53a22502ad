import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Source } from "../../language/source.js";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import { format } from "../../language/format.js";
import { checkProgram, formatShapes } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";

const dir = join(import.meta.dirname, "..", "..", "examples");
const files = readdirSync(dir).filter((f) => f.endsWith(".repr")).sort();

describe("standard library", () => {
  const stdDir = join(import.meta.dirname, "..", "..", "compiler", "std");
  for (const file of readdirSync(stdDir).filter((f) => f.endsWith(".repr"))) {
    it(`${file} is in canonical format`, () => {
      const text = readFileSync(join(stdDir, file), "utf8");
      expect(format(new Source(file, text)).text).toBe(text);
    });
  }
});

describe("examples", () => {
  it("include every use named in the mission", () => {
    for (const name of [
      "mnist-autoencoder",
      "masked-autoencoder",
      "colorization",
      "transfer",
      "contrastive",
      "skipgram",
      "tiny-gpt",
    ]) {
      expect(files).toContain(`${name}.repr`);
    }
  });

  for (const file of files) {
    describe(file, () => {
      const path = join(dir, file);
      const text = readFileSync(path, "utf8");

      it("checks without errors or warnings and reports shapes", () => {
        const { program, diagnostics } = checkProgram(new Source(path, text), nodeFileHost);
        expect(diagnostics, renderDiagnostics(diagnostics)).toEqual([]);
        const shapes = formatShapes(program);
        expect(shapes).toMatch(/params/);
      });

      it("is in canonical format", () => {
        const { text: formatted, diagnostics } = format(new Source(path, text));
        expect(diagnostics).toEqual([]);
        expect(formatted).toBe(text);
      });
    });
  }
});
