// `repr bench`: the structure and sanity of what it prints, at tiny sizes. Never timings:
// rates are only checked to be positive and finite, peaks to be counted.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../train/helpers.js";
import { hasStackTrace, runCli } from "./run-cli.js";

const dir = tempDir("cli-bench");
const tiny = join(dir, "tiny.repr");
writeFileSync(
  tiny,
  `model Tiny {
  input x: f32[6]
  encoder f = dense(4) -> relu
  decoder g = dense(6)
  loss reconstruction = mse(g(f(x)), x)
}

data points {
  x: f32[6]
}

pipeline Fit {
  pretrain Tiny on points.train { epochs: 1, batch: 16, optimizer: sgd(lr: 0.1) }
}
`,
);

interface Workload {
  model: string;
  kind: string;
  name: string;
  batch: number;
  steps_per_s?: number;
  calls_per_s?: number;
  examples_per_s: number;
  peak_bytes: number;
  arena_bytes: number;
}

function benchJson(args: string[]): { backend: string; workloads: Workload[] } {
  const r = runCli(["bench", tiny, "--backend", "cpu", "--seconds", "0.05", "--json", ...args]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as { backend: string; workloads: Workload[] };
}

describe("repr bench", () => {
  it("times each training step (the model's own and the pipeline's) and each function, as JSON", () => {
    const out = benchJson(["--batch", "3"]);
    expect(out.backend).toBe("cpu");
    const names = out.workloads.map((w) => `${w.kind}:${w.name}`);
    expect(names).toEqual(expect.arrayContaining(["training step:train", "training step:Fit.pretrain", "function:encode", "function:decode"]));
    for (const w of out.workloads) {
      expect(w.model).toBe("Tiny");
      // --batch is honoured by every workload.
      expect(w.batch).toBe(3);
      const rate = w.kind === "training step" ? w.steps_per_s! : w.calls_per_s!;
      expect(Number.isFinite(rate) && rate > 0).toBe(true);
      // Both are printed to 4 significant digits.
      expect(Math.abs(w.examples_per_s - rate * 3) / (rate * 3)).toBeLessThan(2e-3);
      // Resident growth can be nil for a workload this small; the planned arena never is.
      expect(Number.isInteger(w.peak_bytes) && w.peak_bytes >= 0).toBe(true);
      expect(w.arena_bytes).toBeGreaterThan(0);
    }
    // The first workload compiles its step and allocates its arena: the resident set grows somewhere.
    expect(out.workloads.some((w) => w.peak_bytes > 0)).toBe(true);
  });

  it("uses each training step's own batch by default, and --only picks workloads", () => {
    const out = benchJson(["--only", "Fit.pretrain,encode"]);
    expect(out.workloads.map((w) => w.name)).toEqual(["Fit.pretrain", "encode"]);
    expect(out.workloads[0]!.batch).toBe(16);
  });

  it("is listed in repr --help, and prints a table without --json", () => {
    expect(runCli(["--help"]).stdout).toMatch(/\bbench\b.*time a model/);
    const r = runCli(["bench", tiny, "--backend", "cpu", "--seconds", "0.05", "--only", "train"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Tiny training step train\s+batch 32\s+[\d.]+ steps\/s/);
    expect(r.stdout).toMatch(/peak .*arena /);
  });

  it("names a bad option and exits 1", () => {
    for (const [args, named] of [
      [["--batch", "0"], "--batch"],
      [["--batch", "2x"], "--batch"],
      [["--seconds", "-1"], "--seconds"],
      [["--backend", "tpu"], "--backend"],
      [["--model", "Nope"], "--model"],
      [["--only", "nothing"], "--only"],
    ] as const) {
      const r = runCli(["bench", tiny, "--seconds", "0.05", ...args]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(named);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
  });

  it("reports a source error as file:line:col and exits 1", () => {
    const bad = join(dir, "bad.repr");
    writeFileSync(bad, "model M {\n  input x: f32[4]\n  encoder f = dens(3)\n  loss l = mse(x -> f, x)\n}\n");
    const r = runCli(["bench", bad]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad\.repr:3:\d+: error RC\d+/);
  });
});
