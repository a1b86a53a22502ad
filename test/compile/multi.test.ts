/**
 * `repr compile` of a file with several models and neither `--model` nor
 * `--pipeline`: one module with a class per model, each usable on its own.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hasStackTrace, repoRoot, runCli } from "../cli/run-cli.js";
import { typeCheck } from "../emit/harness.js";
import { tempDir } from "../train/helpers.js";

/** Generated modules go here, so that their relative runtime import resolves (gitignored). */
/** Its own folder (gitignored): compile.test.ts empties test/compile/out/ when it starts, and test files run in parallel. */
const out = join(repoRoot, "test", "compile", "out-multi");
/** From test/compile/out-multi/ (and test/emit/virtual/, where typeCheck puts modules) to the runtime. */
const RUNTIME = "../../../runtime/index.js";

const SOURCE = `/// Squeezes six numbers through four.
model Squeeze {
  input x: f32[6]
  encoder f = dense(4) -> tanh
  decoder g = dense(6)
  loss r = mse(g(f(x)), x)
  output g(f(x))
}

/// Scores three numbers.
model Score {
  input x: f32[3]
  part p = dense(2)
  output p(x)
}
`;

type Generated = { create(options?: object): Promise<Record<string, (...args: unknown[]) => unknown>> };

describe("repr compile of a file with two models", () => {
  const dir = tempDir("multi");
  const file = join(dir, "two.repr");
  writeFileSync(file, SOURCE);

  it("writes one module with both classes, each usable", async () => {
    mkdirSync(out, { recursive: true });
    const path = join(out, "two-models.ts");
    const r = runCli(["compile", file, "-o", path, "--runtime", RUNTIME, "--batch", "4"]);
    expect(r.stderr).not.toSatisfy(hasStackTrace);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("compiled model Squeeze");
    expect(r.stdout).toContain("compiled model Score");
    const text = readFileSync(path, "utf8");
    expect(text.match(/^import /gm)).toHaveLength(1);
    const module = (await import(path)) as Record<string, Generated>;
    expect(typeCheck([text])).toEqual([]);
    expect(Object.keys(module).sort()).toEqual(["Score", "Squeeze"]);
    for (const [name, width, outWidth] of [["Squeeze", 6, 6], ["Score", 3, 2]] as const) {
      const model = await module[name]!.create({ seed: 3 });
      const x = Float32Array.from({ length: 5 * width }, (_, i) => Math.sin(i));
      const y = (await model["forward"]!.call(model, x, 5)) as Float32Array;
      expect(y.length, name).toBe(5 * outWidth);
      expect(Array.from(y).every(Number.isFinite), name).toBe(true);
      model["dispose"]!.call(model);
    }
  }, 120_000);

  it("refuses --class-name for several models, naming the option", () => {
    const r = runCli(["compile", file, "-o", join(dir, "x.ts"), "--class-name", "Net"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("--class-name");
    expect(r.stderr).toContain("--model");
  });

  it("compiles one of them with --model, --class-name allowed", () => {
    const path = join(dir, "one.ts");
    const r = runCli(["compile", file, "-o", path, "--model", "Score", "--class-name", "Net"]);
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(path, "utf8");
    expect(text).toContain("export class Net ");
    expect(text).not.toContain("Squeeze");
  });
});
