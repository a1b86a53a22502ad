import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Source } from "../../language/source.js";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import { format } from "../../language/format.js";

const readme = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
const blocks = [...readme.matchAll(/```repr\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe("README", () => {
  it("shows programs that check clean and are canonically formatted", () => {
    expect(blocks.length).toBeGreaterThan(0);
    for (const text of blocks) {
      const source = new Source("README.md", text);
      const { diagnostics } = checkProgram(source, nodeFileHost);
      expect(diagnostics, renderDiagnostics(diagnostics)).toEqual([]);
      expect(format(source).text).toBe(text);
    }
  });

  it("documents the two set-up commands", () => {
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toContain("npm test");
  });
});
