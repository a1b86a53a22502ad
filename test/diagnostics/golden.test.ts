import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { Source } from "../../language/source.js";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import { sortDiagnostics } from "../../language/diagnostics/diagnostic.js";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost, type FileHost } from "../../compiler/check/file-host.js";

/**
 * The catalogue of wrong programs. Each `cases/*.repr` starts with
 * `// expect: RC123 line:col`; the program must produce exactly one error, with
 * that code at that position, and its rendering must equal the sibling
 * `.expected` golden file. A missing golden is written locally (and fails on CI); REPR_BLESS=1 rewrites all.
 */
const dir = join(import.meta.dirname, "cases");

/** Files as on disk: imports in a case resolve from the cases folder, which diagnostics call `cases/`. */
const host: FileHost = {
  ...nodeFileHost,
  resolve: (from, path) => nodeFileHost.resolve(from.startsWith("cases/") ? join(dir, from.slice("cases/".length)) : from, path),
  displayName: (path) => (path.startsWith(dir) ? `cases/${relative(dir, path)}` : nodeFileHost.displayName!(path)),
};
const bless = process.env.REPR_BLESS === "1";
const cases = readdirSync(dir).filter((f) => f.endsWith(".repr")).sort();

describe("diagnostic catalogue", () => {
  it("has at least 40 wrong programs", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  for (const name of cases) {
    it(name, () => {
      const path = join(dir, name);
      const text = readFileSync(path, "utf8");
      const expectLine = /^\/\/ expect: (RC\d{3}) (\d+):(\d+)/.exec(text);
      expect(expectLine, `${name} must start with '// expect: RCxxx line:col'`).not.toBeNull();
      const [, code, line, column] = expectLine!;

      const source = new Source(`cases/${name}`, text);
      const { diagnostics } = checkProgram(source, host);
      const errors = diagnostics.filter((d) => d.severity === "error");
      const rendered = renderDiagnostics(sortDiagnostics(diagnostics)) + "\n";
      expect(errors.length, rendered).toBe(1);
      const pos = source.position(errors[0]!.span.start);
      expect({ code: errors[0]!.code, line: pos.line, column: pos.column }).toEqual({
        code,
        line: Number(line),
        column: Number(column),
      });

      const goldenPath = path.replace(/\.repr$/, ".expected");
      const missing = !existsSync(goldenPath);
      // On CI a missing golden is a failure: it must be reviewed and committed.
      expect(missing && process.env.CI === "true", `${goldenPath} is missing`).toBe(false);
      if (bless || missing) writeFileSync(goldenPath, rendered);
      expect(rendered).toBe(readFileSync(goldenPath, "utf8"));
    });
  }
});
