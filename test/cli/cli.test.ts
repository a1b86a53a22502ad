import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { hasStackTrace, repoRoot, runCli } from "./run-cli.js";
import { applyDamage, damages } from "../robustness/damage.js";
import { tempDir as fileTempDir } from "../train/helpers.js";

const examples = readdirSync(join(repoRoot, "examples"))
  .filter((f) => f.endsWith(".repr"))
  .map((f) => join("examples", f));

/** The file's temporary folder, removed after its tests. */
const root = fileTempDir("cli");

/** A fresh folder for one test, inside the file's. */
function tempDir(): string {
  return mkdtempSync(join(root, "t-"));
}

const unformatted = `model   Tiny {input x : f32[4]
 encoder f = dense(  3 )  // keep me
loss l = mse(x -> f -> dense(4), x)}
`;

describe("repr CLI", () => {
  it("prints help with every command and exits 0", () => {
    const r = runCli(["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("check");
    expect(r.stdout).toContain("fmt");
    const sub = runCli(["check", "--help"]);
    expect(sub.status).toBe(0);
    expect(sub.stdout).toContain("--shapes");
  });

  it("checks the examples, exits 0 and prints shapes with --shapes", () => {
    const r = runCli(["check", "--shapes", ...examples]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/model \w+/);
    expect(r.stdout).toMatch(/params/);
    expect(r.stdout).toContain(`checked ${examples.length} files: 0 errors`);
  });

  it("reports a source error as file:line:col with a caret and exits 1", () => {
    const dir = tempDir();
    const file = join(dir, "bad.repr");
    writeFileSync(file, "model M {\n  input x: f32[4]\n  encoder f = dense(3\n}\n");
    const r = runCli(["check", file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: error RC1\\d\\d: `));
    expect(r.stderr).toMatch(/\n\s+\d+ \| .*\n\s+\| +\^+/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it("prints diagnostics as JSON with --json", () => {
    const dir = tempDir();
    const file = join(dir, "bad.repr");
    writeFileSync(file, "model M {\n  input x: f32[4]\n  encoder f = dense(3)\n  loss l = mse(x -> g, x)\n}\n");
    const r = runCli(["check", "--json", file]);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; diagnostics: { code: string; line: number; column: number }[] };
    expect(report.ok).toBe(false);
    expect(report.diagnostics[0]).toMatchObject({ line: 4, column: 21 });
    expect(report.diagnostics[0]!.code).toMatch(/^RC2\d\d$/);
  });

  it("names a missing file and exits 1", () => {
    const r = runCli(["check", "no/such/file.repr"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("cannot read 'no/such/file.repr': no such file or directory");
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it("names a file that is not UTF-8 and exits 1", () => {
    const dir = tempDir();
    const file = join(dir, "latin1.repr");
    writeFileSync(file, Buffer.from([0x2f, 0x2f, 0x20, 0xe9, 0x0a]));
    const r = runCli(["check", file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`error RC803: '${file}' is not UTF-8 text (invalid byte at offset 3)`);
  });

  it("rejects an unknown option with exit 1", () => {
    const r = runCli(["check", "--frobnicate", examples[0]!]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("--frobnicate");
  });

  it("fmt --check lists files that would change and leaves them alone", () => {
    const dir = tempDir();
    const file = join(dir, "tiny.repr");
    writeFileSync(file, unformatted);
    const r = runCli(["fmt", "--check", file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(file);
    expect(readFileSync(file, "utf8")).toBe(unformatted);
    expect(runCli(["fmt", "--check", ...examples]).status).toBe(0);
  });

  it("fmt rewrites a file in canonical form, keeping comments, and is idempotent", () => {
    const dir = tempDir();
    const file = join(dir, "tiny.repr");
    writeFileSync(file, unformatted);
    expect(runCli(["fmt", file]).status).toBe(0);
    const once = readFileSync(file, "utf8");
    expect(once).not.toBe(unformatted);
    expect(once).toContain("// keep me");
    expect(once).toContain("encoder f = dense(3)");
    expect(runCli(["fmt", "--check", file]).status).toBe(0);
    expect(readdirSync(dir)).toEqual(["tiny.repr"]);
  });

  it("fmt never rewrites a file with syntax errors", () => {
    const dir = tempDir();
    const file = join(dir, "broken.repr");
    const text = "model M {\n  input x: f32[4]\n  encoder f = \n";
    writeFileSync(file, text);
    const r = runCli(["fmt", file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/broken\.repr:\d+:\d+: error RC1/);
    expect(readFileSync(file, "utf8")).toBe(text);
  });

  it("never exits 2 or shows a stack trace on damaged programs", () => {
    const dir = tempDir();
    const sources = examples.map((f) => readFileSync(join(repoRoot, f), "utf8"));
    fc.assert(
      fc.property(fc.constantFrom(...sources), damages, (text, list) => {
        const file = join(dir, "damaged.repr");
        writeFileSync(file, applyDamage(text, list));
        const r = runCli(["check", file]);
        expect([0, 1]).toContain(r.status);
        expect(hasStackTrace(r.stderr + r.stdout)).toBe(false);
        if (r.status === 1) expect(r.stderr).toMatch(/damaged\.repr:\d+:\d+: error RC\d{3}: /);
      }),
      { numRuns: 12 },
    );
  }, 180_000);
});
