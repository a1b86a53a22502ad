import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasStackTrace } from "./run-cli.js";
import { runCliMeasured } from "./run-measured.js";

/**
 * `repr check` on programs built to crash or hang it (issue 10): each ends
 * with exit 0 (valid) or 1 (a coded error), never 2, a stack trace or a
 * hang, and stays under 3 GB of resident memory. The time limit is a hang
 * guard, not a measurement.
 */
const dir = mkdtempSync(join(tmpdir(), "repr-hostile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GB = 1024 ** 3;

function lines(n: number, line: (i: number) => string): string {
  return Array.from({ length: n }, (_, i) => line(i)).join("\n");
}

const programs: Record<string, { text: string; exit: 0 | 1; codes?: string[] }> = {
  "block-chain": {
    text: `block b0() { dense(4) }\n${lines(1199, (i) => `block b${i + 1}() { b${i} }`)}\nmodel M {\n  input x: f32[4]\n  encoder f = b1199\n  loss l = mse(f(x), x)\n}\n`,
    exit: 0,
  },
  "forward-lets": { text: `model M {\n  input x: f32[4]\n${lines(1000, (i) => `  let v${i} = ${i === 999 ? "x" : `v${i + 1}`} -> relu`)}\n  output v0\n}\n`, exit: 0 },
  "forward-parts": { text: `model M {\n  input x: f32[4]\n${lines(1000, (i) => `  part p${i} = ${i === 999 ? "dense(4)" : `p${i + 1} -> relu`}`)}\n  output p0(x)\n}\n`, exit: 0 },
  "let-cycle": { text: `model M {\n  input x: f32[4]\n${lines(2000, (i) => `  let v${i} = v${(i + 1) % 2000} -> relu`)}\n  output v0\n}\n`, exit: 1, codes: ["RC207"] },
  "repeat-cubed": { text: "model M {\n  input x: f32[8]\n  encoder f = repeat(1000, repeat(1000, repeat(1000, dense(8))))\n  loss l = mse(f(x), x)\n}\n", exit: 1, codes: ["RC533"] },
  "repeat-2-40": { text: `model M {\n  input x: f32[8]\n  encoder f = ${"repeat(2, ".repeat(40)}dense(8)${")".repeat(40)}\n  loss l = mse(f(x), x)\n}\n`, exit: 1, codes: ["RC533"] },
  "many-arguments": { text: `model M {\n  input x: f32[8]\n  encoder f = dense(8${", 8".repeat(20000)})\n  loss l = mse(f(x), x)\n}\n`, exit: 1, codes: ["RC306", "RC303"] },
  "unknown-names": { text: `model M {\n  input x: f32[4]\n${lines(10000, (i) => `  let v${i} = unknown${i}`)}\n  output x\n}\n`, exit: 1 },
  "long-identifier": { text: `model M {\n  input x: f32[4]\n  output ${"a".repeat(1 << 20)}\n}\n`, exit: 1, codes: ["RC201"] },
};

describe("repr check on hostile programs", () => {
  for (const [name, { text, exit, codes }] of Object.entries(programs)) {
    it(`${name}: exit ${exit}, no crash, under 3 GB`, { timeout: 60_000 }, () => {
      const file = join(dir, `${name}.repr`);
      writeFileSync(file, text);
      const r = runCliMeasured(["check", file]);
      expect(r.timedOut, "the hang guard stopped it").toBe(false);
      expect(r.stderr).not.toContain("internal error");
      expect(hasStackTrace(r.stderr)).toBe(false);
      expect(r.status, r.stderr.slice(0, 2000)).toBe(exit);
      if (codes) expect([...r.stderr.matchAll(/error (RC\d{3})/g)].map((m) => m[1])).toEqual(codes);
      expect(r.maxRssBytes).not.toBeNull();
      expect(r.maxRssBytes!).toBeLessThan(3 * GB);
      // At most 100 diagnostics a file, each with lines cut to a window: the output stays small.
      expect(r.stderr.length).toBeLessThan(200_000);
    });
  }

  it("a megabyte of random text: at most 100 diagnostics shown, the rest counted", { timeout: 60_000 }, () => {
    let seed = 11;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = 'abcxyz{}()[]:=,.-> \n0123"/*+';
    const file = join(dir, "random.repr");
    writeFileSync(file, Array.from({ length: 1 << 20 }, () => alphabet[Math.floor(next() * alphabet.length)]).join(""));
    const r = runCliMeasured(["check", file]);
    expect(r.status).toBe(1);
    expect(r.stderr.match(/^\S+random\.repr:\d+:\d+: error/gm)).toHaveLength(100);
    expect(r.stderr).toMatch(/random\.repr: [\d,]+ more errors not shown \(at most 100 diagnostics are shown per file\)/);
    expect(r.stderr.length).toBeLessThan(100_000);
  });
});
