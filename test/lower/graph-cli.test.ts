/**
 * `repr graph FILE`: the forward IR as text or Graphviz, and clear errors for
 * a bad model name, bad options and a file with errors.
 */
import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { hasStackTrace, runCli } from "../cli/run-cli.js";
import { tempDir } from "../train/helpers.js";

/** The file's temporary folder, removed after its tests. */
const dir = tempDir("graph");

describe("repr graph", () => {
  it("prints the forward IR of a model with its inputs and tensors", () => {
    const r = runCli(["graph", "examples/mnist-autoencoder.repr", "--batch", "4"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("// model Autoencoder, batch 4, training mode");
    expect(r.stdout).toContain("// input image: f32[4, 1, 28, 28]");
    expect(r.stdout).toContain("439,728 learned numbers");
    expect(r.stdout).toMatch(/%\d+ = param "f\.1\.weight" : f32\[256, 784\]/);
    expect(r.stdout).toMatch(/return loss = %\d+, loss\/reconstruction = %\d+, prediction = %\d+\n$/);
  });

  it("prints a model's whole training step with --train: every parameter gets an update", () => {
    const r = runCli(["graph", "examples/mnist-autoencoder.repr", "--batch", "4", "--train"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("// model Autoencoder, batch 4: training step of every loss");
    for (const name of ["f.1.weight", "f.1.bias", "z.weight", "g.4.bias"]) {
      expect(r.stdout).toMatch(new RegExp(`new:${name.replace(/\./g, "\\.")} = %\\d+`));
      expect(r.stdout).toContain(`param "${name}.adam.m"`);
    }
    const refused = runCli(["graph", "examples/mnist-autoencoder.repr", "--train", "--mode", "eval"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("--train");
  });

  it("writes Graphviz with --format dot, and picks a model and a mode", () => {
    const r = runCli(["graph", "examples/transfer.repr", "--model", "Classifier", "--format", "dot", "--mode", "eval", "--batch", "2"]);
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith("digraph ir {")).toBe(true);
    expect(r.stdout).toContain('param \\"W.weight\\"');
    expect(r.stdout.trimEnd().endsWith("}")).toBe(true);
  });

  it("prints a pipeline step's training step, where frozen parts get no gradient and no update", () => {
    const r = runCli(["graph", "examples/transfer.repr", "--pipeline", "Transfer", "--step", "4", "--batch", "2"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("// pipeline Transfer, step 4 (adapt), model Classifier, batch 2: training step (forward, backward, update)");
    expect(r.stdout).toContain("// frozen (no gradient, no update): f");
    // Only the new head is updated (with its adam moments); the frozen encoder has no new: output.
    expect(r.stdout).toMatch(/return loss = %\d+, new:W\.weight = %\d+, new:W\.weight\.adam\.m = %\d+, new:W\.weight\.adam\.v = %\d+, new:W\.bias = %\d+, new:W\.bias\.adam\.m = %\d+, new:W\.bias\.adam\.v = %\d+\n$/);
    expect(r.stdout).not.toMatch(/new:f\./);
    // A frozen weight is read by the forward pass only; a trained one by its update too.
    const users = (name: string) => {
      const id = new RegExp(`(%\\d+) = param "${name}"`).exec(r.stdout)![1]!;
      return r.stdout.split("\n").filter((l) => /^%\d+ = \w+ ([^:]*) :/.exec(l)?.[1]!.split(/[ ,]+/).includes(id)).length;
    };
    expect(users("f.1.weight")).toBe(1);
    expect(users("W.weight")).toBeGreaterThan(1);
  });

  it("--kernels names colorization's pooled convolutions (a conv, its epilogue's map and the pool's reduce), for every target", () => {
    for (const args of [[], ["--for", "cpu"], ["--for", "webgpu"]]) {
      const r = runCli(["graph", "examples/colorization.repr", "--kernels", "--batch", "2", ...args]);
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.split("\n").filter((l) => l.startsWith("pooled convolution: "));
      expect(lines).toEqual(["pooled convolution: k0, k1, k2 (conv, map, reduce), one kernel on the CPU", "pooled convolution: k3, k4, k5 (conv, map, reduce), one kernel on the CPU"]);
    }
  });

  it("--kernels --for webgpu (or cpu) joins tiny-gpt's attention into attention kernels; the shared plan keeps them apart", () => {
    const count = (args: string[]): number => {
      const r = runCli(["graph", "examples/tiny-gpt.repr", "--kernels", "--batch", "1", "--mode", "eval", ...args]);
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.split("\n").filter((l) => /^k\d+: v\d+ = attention \{/.test(l)).length;
    };
    // One per layer (4).
    expect(count(["--for", "webgpu"])).toBe(4);
    expect(count(["--for", "cpu"])).toBe(4);
    expect(count([])).toBe(0);
    const bad = runCli(["graph", "examples/tiny-gpt.repr", "--for", "webgpu"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("--for needs --kernels");
  });

  it("reports an unknown model, a bad option and a bad file as user errors", () => {
    const model = runCli(["graph", "examples/transfer.repr", "--model", "Nope"]);
    expect(model.status).toBe(1);
    expect(model.stderr).toContain("there is no model 'Nope' (models: Classifier)");
    for (const args of [["--batch", "2x"], ["--format", "svg"]]) {
      const r = runCli(["graph", "examples/transfer.repr", ...args]);
      expect(r.status, args.join(" ")).toBe(1);
      expect(r.stderr).toMatch(/^repr: error: --(batch|format) must be/);
    }
    const file = join(dir, "bad.repr");
    writeFileSync(file, "model M {\n  input x: f32[4]\n  loss l = mse(x -> g, x)\n}\n");
    const bad = runCli(["graph", file]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/error RC\d+/);
    expect(hasStackTrace(bad.stderr + model.stderr)).toBe(false);
  });
});
