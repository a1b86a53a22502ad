import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { messages } from "../../language/diagnostics/messages.js";
import { parseMessages } from "../../language/diagnostics/messages/parse.js";
import { nameMessages } from "../../language/diagnostics/messages/names.js";
import { typeMessages } from "../../language/diagnostics/messages/types.js";
import { shapeMessages } from "../../language/diagnostics/messages/shapes.js";
import { pipelineMessages } from "../../language/diagnostics/messages/pipeline.js";
import { toolMessages } from "../../language/diagnostics/messages/tool.js";

const phases: readonly [string, Record<string, { code: string }>, RegExp][] = [
  ["parse", parseMessages, /^RC1\d\d$/],
  ["names", nameMessages, /^RC2\d\d$/],
  ["types", typeMessages, /^RC3\d\d$/],
  ["shapes", shapeMessages, /^RC4\d\d$/],
  ["pipeline", pipelineMessages, /^RC5\d\d$/],
  ["tool", toolMessages, /^RC8\d\d$/],
];

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

  it("keeps each phase's codes in its range", () => {
    for (const [phase, table, range] of phases) {
      for (const [name, template] of Object.entries(table)) {
        expect(template.code, `${phase} message ${name}`).toMatch(range);
      }
    }
    const total = phases.reduce((n, [, table]) => n + Object.keys(table).length, 0);
    expect(total).toBe(entries.length);
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
