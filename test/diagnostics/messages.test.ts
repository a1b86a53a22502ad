import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { messages } from "../../language/diagnostics/messages.js";

const phaseOfPrefix: Record<string, RegExp> = {
  parse: /^RC1\d\d$/,
  names: /^RC2\d\d$/,
  types: /^RC3\d\d$/,
  shapes: /^RC4\d\d$/,
  pipeline: /^RC5\d\d$/,
  tool: /^RC8\d\d$/,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

describe("the message table", () => {
  const entries = Object.entries(messages);

  it("has many messages", () => {
    expect(entries.length).toBeGreaterThan(20);
  });

  it("gives every message a unique code", () => {
    const seen = new Map<string, string>();
    for (const [name, template] of entries) {
      expect(seen.get(template.code), `${name} reuses ${template.code}`).toBeUndefined();
      seen.set(template.code, name);
    }
  });

  it("keeps each phase's codes in its range", async () => {
    for (const phase of Object.keys(phaseOfPrefix)) {
      const mod = (await import(`../../language/diagnostics/messages/${phase}.js`)) as Record<
        string,
        Record<string, { code: string }>
      >;
      const table = Object.values(mod)[0]!;
      for (const [name, template] of Object.entries(table)) {
        expect(template.code, `${phase} message ${name}`).toMatch(phaseOfPrefix[phase]!);
      }
    }
  });

  it("uses every message somewhere in the code", () => {
    const code = ["language", "compiler", "cli", "runtime"]
      .flatMap((dir) => sourceFiles(dir))
      .filter((f) => !f.includes(join("diagnostics", "messages")))
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    const unused = entries.map(([name]) => name).filter((name) => !code.includes(`messages.${name}`));
    expect(unused).toEqual([]);
  });
});
