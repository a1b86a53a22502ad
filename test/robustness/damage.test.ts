import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Source } from "../../language/source.js";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import { format } from "../../language/format.js";
import { applyDamage, damages } from "./damage.js";

const examplesDir = join(import.meta.dirname, "..", "..", "examples");
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith(".repr"))
  .map((f) => ({ path: join(examplesDir, f), text: readFileSync(join(examplesDir, f), "utf8") }));

describe("damaged programs", () => {
  it("always give positioned diagnostics, never an exception", () => {
    expect(examples.length).toBeGreaterThan(0);
    fc.assert(
      fc.property(fc.constantFrom(...examples), damages, (example, list) => {
        const text = applyDamage(example.text, list);
        const source = new Source(example.path, text);
        const { diagnostics } = checkProgram(source, nodeFileHost);
        for (const d of diagnostics) {
          expect(d.code).toMatch(/^RC[1-8]\d\d$/);
          expect(d.message.length).toBeGreaterThan(0);
          expect(d.span.start).toBeGreaterThanOrEqual(0);
          expect(d.span.end).toBeGreaterThanOrEqual(d.span.start);
          expect(d.span.end).toBeLessThanOrEqual(text.length);
        }
        // The formatter either formats or refuses with diagnostics; never throws.
        const formatted = format(source);
        if (formatted.text === null) expect(formatted.diagnostics.length).toBeGreaterThan(0);
      }),
      { numRuns: 400 },
    );
  });

  it("never report one code twice at one place (one mistake, one error)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...examples), damages, (example, list) => {
        const text = applyDamage(example.text, list);
        const { diagnostics } = checkProgram(new Source(example.path, text), nodeFileHost);
        const seen = new Set<string>();
        for (const d of diagnostics) {
          const key = `${d.source.name}:${d.span.start}:${d.span.end}:${d.code}`;
          expect(seen.has(key), `${key}: ${d.message}`).toBe(false);
          seen.add(key);
        }
      }),
      { numRuns: 400 },
    );
  });
});
