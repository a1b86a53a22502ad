/**
 * Where the spec or the README says what a generated module offers, the
 * methods it names (`encode(x)`, `forward(x)`, ...) are methods a generated
 * class has: a fixed function name or a member of the runtime's `Model`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RESERVED_METHOD_NAMES } from "../../compiler/plan/names.js";

const root = join(import.meta.dirname, "..", "..");
const docs = [...readdirSync(join(root, "spec")).filter((f) => f.endsWith(".md")).map((f) => join("spec", f)), "README.md", join("runtime", "README.md")];

/** Each method-like code span (`name(`) of a paragraph or table row that speaks of a generated module or class. */
function namedMethods(file: string): { name: string; where: string }[] {
  const text = readFileSync(join(root, file), "utf8");
  return text
    .split(/\n\s*\n|\n(?=\|)/)
    .filter((p) => /generated (module|class)/.test(p))
    .flatMap((p) => [...p.matchAll(/`([A-Za-z_]\w*)\(/g)].map((m) => ({ name: m[1]!, where: `${file}: ${p.trim().slice(0, 80)}…` })));
}

describe("the docs name only methods a generated module has", () => {
  it.each(docs)("%s", (file) => {
    const unknown = namedMethods(file).filter((m) => !RESERVED_METHOD_NAMES.has(m.name));
    expect(unknown.map((m) => `${m.name} in ${m.where}`)).toEqual([]);
  });

  it("finds the methods it checks", () => {
    // The check above would pass vacuously if the pattern stopped matching.
    expect(namedMethods(join("spec", "models.md")).map((m) => m.name)).toEqual(expect.arrayContaining(["encode", "forward"]));
  });
});
