/**
 * `repr train` and `repr test` end to end (issue 4): the MNIST autoencoder
 * trains on the embedded digits and writes a valid checkpoint, metrics.json
 * and pictures; `repr test` reproduces the test step from the checkpoint; a
 * pipeline's frozen encoder is bit-identical before and after adapt while
 * the new head changes.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { modelParams, findModel } from "../../compiler/lower/index.js";
import { hasStackTrace, runCli } from "../cli/run-cli.js";
import { examplePrograms } from "../gradients/helpers.js";
import { ends, pngSize, readMetrics, readTensors, tempDir } from "./helpers.js";

const AE = "examples/mnist-autoencoder.repr";

describe("repr train examples/mnist-autoencoder.repr", () => {
  const out = join(tempDir("ae"), "run");
  let result: ReturnType<typeof runCli>;
  beforeAll(() => {
    result = runCli(["train", AE, "--steps", "40", "--limit", "512", "--batch", "64", "--out", out, "--plain"]);
  });

  it("exits 0, prints the report and no stack trace", () => {
    expect(result.stderr).not.toSatisfy(hasStackTrace);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/test loss reconstruction\s+\d/);
    expect(result.stdout).toMatch(/mse\s+\d/);
    expect(result.stderr).toMatch(/1 pretrain {2}step 40\/40 {2}loss \d/);
  });

  it("the training loss falls", () => {
    const m = readMetrics(out);
    expect(m.losses).toHaveLength(1);
    const values = m.losses[0]!.values;
    expect(values).toHaveLength(40);
    const { first, last } = ends(values, 5);
    expect(last).toBeLessThan(first * 0.7);
  });

  it("writes a checkpoint with every tensor of the model, in their shapes", () => {
    const program = examplePrograms().find((e) => e.file === "mnist-autoencoder.repr")!.program;
    const expected = modelParams(findModel(program, "Autoencoder"));
    const tensors = readTensors(join(out, "1-pretrain.safetensors"));
    expect([...tensors.keys()].sort()).toEqual(expected.map((p) => p.name).sort());
    for (const p of expected) {
      const t = tensors.get(p.name)!;
      expect(t.dtype).toBe("F32");
      expect(t.shape).toEqual(p.shape);
      expect(Array.from(t.data as Float32Array).every(Number.isFinite)).toBe(true);
    }
    // No resume file is left behind by a finished run.
    expect(existsSync(join(out, "resume.safetensors"))).toBe(false);
  });

  it("writes metrics.json with the test step's loss and metric", () => {
    const m = readMetrics(out);
    const test = m.steps.find((s) => s.kind === "test")!;
    expect(test.examples).toBe(512);
    expect(test.losses!["reconstruction"]).toBeGreaterThan(0);
    // The mse metric is the reconstruction loss here: one mse objective, no `on`.
    expect(test.metrics!["mse"]).toBeCloseTo(test.losses!["reconstruction"]!, 6);
  });

  it("draws the loss curve and a grid of inputs and reconstructions", () => {
    expect(pngSize(join(out, "loss-curve.png")).width).toBeGreaterThan(100);
    const grid = pngSize(join(out, "2-test-reconstruction.png"));
    // Two rows (input, output) of 28-pixel images scaled up.
    expect(grid.height).toBeGreaterThanOrEqual(2 * 28 * 2);
    expect(grid.width).toBeGreaterThan(8 * 28);
  });

  it("repr test --weights gives the test step's numbers again", () => {
    const test = runCli(["test", AE, "--weights", join(out, "1-pretrain.safetensors"), "--limit", "512", "--batch", "64", "--json"]);
    expect(test.status, test.stderr).toBe(0);
    const report = JSON.parse(test.stdout) as { steps: { kind: string; losses: Record<string, number>; metrics: Record<string, number> }[] };
    const trained = readMetrics(out).steps.find((s) => s.kind === "test")!;
    expect(report.steps[0]!.losses).toEqual(trained.losses);
    expect(report.steps[0]!.metrics).toEqual(trained.metrics);
  });
});

describe("repr train examples/transfer.repr (pretrain, freeze, replace, adapt, test)", () => {
  const out = join(tempDir("transfer"), "run");
  let result: ReturnType<typeof runCli>;
  beforeAll(() => {
    result = runCli(["train", AE.replace("mnist-autoencoder", "transfer"), "--steps", "15", "--limit", "400", "--out", out, "--plain"]);
  });

  it("runs every phase and reports them side by side", () => {
    expect(result.status, result.stderr).toBe(0);
    const header = result.stdout.split("\n")[0]!;
    expect(header).toMatch(/1 pretrain\s+4 adapt\s+5 test/);
    expect(result.stdout).toMatch(/accuracy\s+\d/);
    const m = readMetrics(out);
    expect(m.steps.map((s) => s.kind)).toEqual(["pretrain", "freeze", "replace", "adapt", "test"]);
  });

  it("adapt leaves the frozen encoder bit-identical and trains the new head", () => {
    const before = readTensors(join(out, "1-pretrain.safetensors"));
    const after = readTensors(join(out, "4-adapt.safetensors"));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    const encoder = [...before.keys()].filter((n) => n.startsWith("f."));
    expect(encoder.length).toBeGreaterThan(0);
    for (const name of encoder) {
      expect(Buffer.from((after.get(name)!.data as Float32Array).buffer).equals(Buffer.from((before.get(name)!.data as Float32Array).buffer)), name).toBe(true);
    }
    // The new head was freshly initialized and trained: it differs from the pretrained one.
    const head = [...before.keys()].filter((n) => n.startsWith("W."));
    for (const name of head) expect(Array.from(after.get(name)!.data as Float32Array)).not.toEqual(Array.from(before.get(name)!.data as Float32Array));
  });

  it("--init with the pretrained weights and --start-at 2 adapts to the same weights as the whole pipeline", () => {
    const again = join(out, "..", "from-init");
    const r = runCli(["train", "examples/transfer.repr", "--steps", "15", "--limit", "400", "--out", again, "--plain", "--init", join(out, "1-pretrain.safetensors"), "--start-at", "2"]);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(again, "1-pretrain.safetensors"))).toBe(false);
    const [whole, resumed] = [readTensors(join(out, "4-adapt.safetensors")), readTensors(join(again, "4-adapt.safetensors"))];
    for (const [name, t] of whole) {
      expect(Buffer.from((resumed.get(name)!.data as Float32Array).buffer).equals(Buffer.from((t.data as Float32Array).buffer)), name).toBe(true);
    }
  });
});
