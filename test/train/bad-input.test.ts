/**
 * Wrong data, wrong checkpoints and wrong options (issue 4): each gives a
 * clear error — the file, the field, the expected and actual shapes — and
 * exit 1, never a stack trace; and nothing a previous run wrote is destroyed.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeIdx, encodeNpy } from "../../runtime/data/index.js";
import { hasStackTrace, runCli } from "../cli/run-cli.js";
import { tempDir } from "./helpers.js";

const dir = tempDir("bad");
const AE = "examples/mnist-autoencoder.repr";

/** Runs `repr train AE` with extra arguments into `out`; it must fail with exit 1 and no stack trace. */
function fails(extra: readonly string[], out = join(dir, "out")): string {
  const r = runCli(["train", AE, "--steps", "2", "--limit", "64", "--out", out, "--plain", ...extra]);
  expect(r.stderr).not.toSatisfy(hasStackTrace);
  expect(r.status, r.stderr).toBe(1);
  return r.stderr;
}

describe("bad data", () => {
  it("a missing file names the file", () => {
    const missing = join(dir, "no-such.npy");
    const err = fails(["--data", `digits=${missing}`]);
    expect(err).toContain("RC804");
    expect(err).toContain(missing);
  });

  it("an array of the wrong shape names the file, the field, the expected and the actual shape", () => {
    const path = join(dir, "colour.npy");
    writeFileSync(path, encodeNpy(new Float32Array(10 * 3 * 28 * 28), [10, 3, 28, 28], "<f4"));
    const err = fails(["--data", `digits.image=${path}`, "--data", `digits.label=${join(dir, "labels.npy")}`]);
    expect(err).toContain("RC804");
    expect(err).toContain(path);
    expect(err).toContain("'image'");
    expect(err).toContain("f32[1, 28, 28]");
    expect(err).toMatch(/3, 28, 28/);
  });

  it("labels out of range name the file and the field", () => {
    const images = join(dir, "images.npy");
    const labels = join(dir, "labels-bad.npy");
    writeFileSync(images, encodeNpy(new Float32Array(10 * 784), [10, 1, 28, 28], "<f4"));
    writeFileSync(labels, encodeNpy(Int32Array.from({ length: 10 }, (_, i) => i + 3), [10], "<i4"));
    const err = fails(["--data", `digits.image=${images}`, "--data", `digits.label=${labels}`]);
    expect(err).toContain("RC804");
    expect(err).toContain(labels);
    expect(err).toContain("'label'");
  });

  it("a truncated IDX file names the file and says it is truncated", () => {
    const folder = join(dir, "idx");
    mkdirSync(folder, { recursive: true });
    const images = encodeIdx(new Uint8Array(20 * 784), [20, 28, 28], "u8");
    writeFileSync(join(folder, "train-images-idx3-ubyte"), images.subarray(0, images.length - 100));
    writeFileSync(join(folder, "train-labels-idx1-ubyte"), encodeIdx(new Uint8Array(20), [20], "u8"));
    writeFileSync(join(folder, "t10k-images-idx3-ubyte"), encodeIdx(new Uint8Array(5 * 784), [5, 28, 28], "u8"));
    writeFileSync(join(folder, "t10k-labels-idx1-ubyte"), encodeIdx(new Uint8Array(5), [5], "u8"));
    const err = fails(["--data", `digits=${folder}`]);
    expect(err).toContain("RC804");
    expect(err).toContain(join(folder, "train-images-idx3-ubyte"));
    expect(err).toMatch(/truncated|bytes/);
  });
});

describe("bad checkpoints", () => {
  const corrupt = join(dir, "corrupt.safetensors");
  beforeAll(() => writeFileSync(corrupt, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])));

  it("repr test --weights with a corrupted file", () => {
    const r = runCli(["test", AE, "--weights", corrupt, "--limit", "16"]);
    expect(r.stderr).not.toSatisfy(hasStackTrace);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("RC805");
    expect(r.stderr).toContain(corrupt);
  });

  it("--init with a corrupted file", () => {
    const err = fails(["--init", corrupt]);
    expect(err).toContain("RC805");
    expect(err).toContain(corrupt);
  });

  it("repr test --weights with another model's checkpoint lists what does not fit", () => {
    const out = join(dir, "transfer");
    const trained = runCli(["train", "examples/transfer.repr", "--steps", "2", "--limit", "64", "--out", out, "--plain"]);
    expect(trained.status, trained.stderr).toBe(0);
    const r = runCli(["test", AE, "--weights", join(out, "1-pretrain.safetensors"), "--limit", "16"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/RC805.*does not fit the model/);
  });
});

describe("bad options name the option", () => {
  it.each([
    [["--steps", "0"], "--steps"],
    [["--backend", "gpu"], "--backend"],
    [["--data", "digits"], "--data"],
    [["--data", "pixels=mnist"], "no data 'pixels'"],
    [["--data", "digits.pixels=mnist"], "no field 'pixels'"],
    [["--steps", "2", "--epochs", "2"], "--steps or --epochs"],
    [["--pipeline", "Nope"], "no pipeline 'Nope'"],
    [["--model", "Nope"], "no model 'Nope'"],
  ])("%j", (extra, expected) => {
    expect(fails(extra)).toContain(expected);
  });
});

describe("nothing already written is destroyed", () => {
  it("a failing run leaves the files of an earlier run in --out as they were", () => {
    const out = join(dir, "kept");
    const ok = runCli(["train", AE, "--steps", "3", "--limit", "64", "--out", out, "--plain"]);
    expect(ok.status, ok.stderr).toBe(0);
    const before = new Map(readdirSync(out).map((f) => [f, readFileSync(join(out, f))]));
    fails(["--data", `digits=${join(dir, "missing-folder")}`], out);
    for (const [f, bytes] of before) expect(readFileSync(join(out, f)).equals(bytes), f).toBe(true);
    expect(readdirSync(out).sort()).toEqual([...before.keys()].sort());
  });
});

describe("--model without a pipeline", () => {
  it("trains a model's losses on the data that provides its inputs, then tests", () => {
    const out = join(dir, "model");
    const r = runCli(["train", AE, "--model", "Autoencoder", "--steps", "3", "--limit", "64", "--out", out, "--plain"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/test loss reconstruction\s+\d/);
    // A reconstruction has no class scores: no accuracy, but the mse metric.
    expect(r.stdout).not.toContain("accuracy");
    expect(r.stdout).toMatch(/\nmse\s+\d/);
  });

  it("refuses data whose label field has another class count, naming the types", () => {
    const r = runCli(["train", "examples/transfer.repr", "--model", "Classifier", "--steps", "3", "--out", join(dir, "classifier"), "--plain"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("label: i32[B] (5 classes)");
  });
});
