/**
 * Every example trains with `repr train` (issue 4, item 7): each pipeline of
 * each file in examples/, in a tiny configuration (a few updates on a few
 * examples), on real data — the embedded MNIST digits, colour digits made from
 * them, and a text corpus made of this repository's spec — and the loss of
 * each training step falls.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { colorDigitsNpy } from "../../examples/data/color-digits.js";
import { hasStackTrace, repoRoot, runCli } from "../cli/run-cli.js";
import { examplePrograms } from "../gradients/helpers.js";
import { ends, readMetrics, tempDir } from "./helpers.js";

const dir = tempDir("examples");

/** The data each example needs beyond the embedded digits, made once. */
async function dataFor(file: string): Promise<string[]> {
  if (file === "colorization.repr") {
    const path = join(dir, "color-digits.npy");
    writeFileSync(path, await colorDigitsNpy());
    return ["--data", `pictures=${path}`];
  }
  if (file === "skipgram.repr" || file === "tiny-gpt.repr") {
    const path = join(dir, "corpus.txt");
    const spec = join(repoRoot, "spec");
    writeFileSync(path, readdirSync(spec).filter((f) => f.endsWith(".md")).sort().map((f) => readFileSync(join(spec, f), "utf8")).join("\n"));
    return ["--data", `corpus=${path}`];
  }
  return [];
}

const runs = examplePrograms().flatMap(({ file, program }) => program.pipelines.map((p) => ({ file, pipeline: p.name })));

describe("every example trains in a tiny configuration", () => {
  it("covers every example file", () => {
    const files = readdirSync(join(repoRoot, "examples")).filter((f) => f.endsWith(".repr"));
    expect(new Set(runs.map((r) => r.file))).toEqual(new Set(files));
  });

  it.each(runs)("$file, pipeline $pipeline", async ({ file, pipeline }) => {
    const out = join(dir, `${file}-${pipeline}`);
    const args = ["train", join("examples", file), "--pipeline", pipeline, "--steps", "20", "--batch", "16", "--limit", "160", "--out", out, "--plain"];
    const r = runCli([...args, ...(await dataFor(file))]);
    expect(r.stderr).not.toSatisfy(hasStackTrace);
    expect(r.status, r.stderr).toBe(0);
    const m = readMetrics(out);
    expect(m.losses.length).toBeGreaterThan(0);
    for (const series of m.losses) {
      expect(series.values, series.name).toHaveLength(20);
      const { first, last } = ends(series.values, 5);
      expect(last, `${series.name}: the loss falls`).toBeLessThan(first);
    }
    // Every test step reported its losses and metrics.
    for (const step of m.steps.filter((s) => s.kind === "test")) expect(Object.values({ ...step.losses, ...step.metrics }).every(Number.isFinite)).toBe(true);
  }, 180_000);
});
