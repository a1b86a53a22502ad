import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasStackTrace } from "./run-cli.js";
import { runCliMeasured } from "./run-measured.js";

/**
 * Models too large for memory are refused by the checker, before anything is
 * allocated (spec/models.md#memory): `repr train` ends with RC535 and exit 1
 * while its process stays small, never with exit 2 or a V8 abort.
 */
const dir = mkdtempSync(join(tmpdir(), "repr-memory-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MB = 1024 ** 2;
/** A refused run holds the compiler and nothing else: far below what any of these models would allocate. */
const SMALL_RSS = 600 * MB;

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function dense(units: number): string {
  return file(
    `dense-${units}.repr`,
    `model Big {\n  input x: f32[4]\n  encoder f = dense(${units})\n  decoder g = dense(4)\n  loss l = mse(g(f(x)), x)\n}\ndata points {\n  x: f32[4]\n}\npipeline P {\n  pretrain Big on points.train { steps: 1 }\n}\n`,
  );
}

const vocabulary = file(
  "vocabulary.repr",
  [
    "model SkipGram {\n  input center: token(vocab: 2000000000)\n  input context: token(vocab: 2000000000)",
    "  encoder f = embedding(vocab: 2000000000, dim: 8)\n  part c = embedding(vocab: 2000000000, dim: 8)",
    "  loss sgns = skipgram(f(center), context, table: c, negatives: 5)\n}",
    "data corpus {\n  center: token(vocab: 2000000000)\n  context: token(vocab: 2000000000)\n}",
    "pipeline P {\n  pretrain SkipGram on corpus.train { steps: 1 }\n}\n",
  ].join("\n"),
);

const wide = file(
  "wide.repr",
  "model Wide {\n  input x: f32[1000]\n  encoder f = dense(1000)\n  loss l = mse(f(x), x)\n}\ndata points {\n  x: f32[1000]\n}\npipeline P {\n  pretrain Wide on points.train { steps: 1 }\n}\n",
);

function expectRefused(r: ReturnType<typeof runCliMeasured>): void {
  expect(r.timedOut).toBe(false);
  expect(r.stderr).not.toContain("internal error");
  expect(hasStackTrace(r.stderr)).toBe(false);
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/error RC535: model '\w+' needs about [\d.,]+ [GT]B for .*, more than the memory limit of 4 GB \(the default\)/);
  expect(r.maxRssBytes).not.toBeNull();
  expect(r.maxRssBytes!).toBeLessThan(SMALL_RSS);
}

describe("repr train refuses a model that cannot fit, before allocating", () => {
  for (const [name, path] of [
    ["dense(2000000000)", () => dense(2_000_000_000)],
    ["a vocabulary of 2e9", () => vocabulary],
    ["dense(100000000)", () => dense(100_000_000)],
  ] as const) {
    it(name, { timeout: 60_000 }, () => {
      const out = join(dir, "out");
      expectRefused(runCliMeasured(["train", path(), "--out", out, "--steps", "1"], { heapMb: 1024 }));
    });
  }

  it("with the run's own --batch, which the program's check could not know", { timeout: 60_000 }, () => {
    expect(runCliMeasured(["check", wide]).status).toBe(0);
    const r = runCliMeasured(["train", wide, "--out", join(dir, "out"), "--batch", "1000000"], { heapMb: 1024 });
    expectRefused(r);
    expect(r.stderr).toContain("step 1 of pipeline 'P' (pretrain, adam, batch 1000000)");
  });
});

describe("--max-memory", () => {
  it("raises the limit: a model within it but over half of it is a warning, and check exits 0", { timeout: 60_000 }, () => {
    const r = runCliMeasured(["check", dense(100_000_000), "--max-memory", "64GB"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("warning RC536");
    expect(r.stderr).toContain("more than half the memory limit of 64 GB (--max-memory 64GB)");
  });

  it("lowers it too, and a bad size is a user error naming the option", { timeout: 60_000 }, () => {
    const lowered = runCliMeasured(["check", wide, "--max-memory", "1MB"]);
    expect(lowered.status).toBe(1);
    expect(lowered.stderr).toContain("more than the memory limit of 1 MB (--max-memory 1MB)");
    const bad = runCliMeasured(["check", wide, "--max-memory", "lots"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("--max-memory must be a size such as 8GB, 512MB or 1.5GB, got 'lots'");
  });
});
