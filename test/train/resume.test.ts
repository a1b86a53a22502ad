/**
 * Never lose a run (issue 4, item 3): a run stopped by SIGINT, or killed
 * outright after a periodic checkpoint, continues with `--resume` to exactly
 * the weights of an uninterrupted run; a loss that becomes NaN stops training
 * with a message naming the update, the step and the phase, and keeps the
 * last good checkpoint.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { hasStackTrace, runCli } from "../cli/run-cli.js";
import { digitsProgram, readMetrics, readTensors, startCli, tempDir } from "./helpers.js";

const dir = tempDir("resume");

/** A small model that trains fast, on the embedded digits. */
const SMALL = digitsProgram({
  model: "Small",
  encoder: "flatten -> dense(32) -> relu",
  decoder: "dense(784) -> sigmoid -> reshape(shape: [1, 28, 28])",
  steps: [
    "pretrain Small on digits.train { steps: 1000, batch: 32, optimizer: adam(lr: 1e-3) }",
    "adapt on digits.train(per_class: 20) { steps: 300, batch: 64, objective: reconstruction }",
    "test on digits.test { metrics: [mse] }",
  ],
});

const file = join(dir, "small.repr");
writeFileSync(file, SMALL);
const args = (out: string) => ["train", file, "--out", out, "--limit", "2000", "--plain"];

/** Every tensor of a checkpoint as bytes, by name. */
function bytes(path: string): Map<string, Buffer> {
  return new Map([...readTensors(path)].map(([n, t]) => [n, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)]));
}

describe("--resume", () => {
  const reference = join(dir, "uninterrupted");
  beforeAll(() => {
    const r = runCli(args(reference));
    expect(r.status, r.stderr).toBe(0);
  }, 120_000);

  /** The run's two checkpoints and its loss history equal the uninterrupted run's, bit for bit. */
  function expectSameAsUninterrupted(out: string): void {
    for (const name of ["1-pretrain.safetensors", "2-adapt.safetensors"]) {
      const [a, b] = [bytes(join(reference, name)), bytes(join(out, name))];
      expect([...b.keys()]).toEqual([...a.keys()]);
      for (const [n, v] of a) expect(b.get(n)!.equals(v), `${name}: ${n}`).toBe(true);
    }
    // The loss history is whole: one loss per update, the same as uninterrupted.
    expect(readMetrics(out).losses).toEqual(readMetrics(reference).losses);
  }

  // Each boundary is provoked on purpose: the run waits at a pause point until the signal arrives.
  const boundaries = [
    { at: "update:1:500", name: "in the middle of a step", resumes: "step 1, update 501" },
    { at: "update:1:1000", name: "after a step's last update", resumes: "step 2, update 1" },
    { at: "step:1", name: "between two steps", resumes: "step 2, update 1" },
    { at: "update:2:1", name: "after the first update of a later step", resumes: "step 2, update 2" },
  ];
  for (const b of boundaries) {
    it(`after SIGINT ${b.name}, continues to the uninterrupted run's weights, bit for bit`, async () => {
      const out = join(dir, `interrupted-${b.at.replaceAll(":", "-")}`);
      const first = startCli(args(out), [b.at]);
      await first.paused(b.at);
      first.child.kill("SIGINT");
      expect(await first.exited, first.stderr).toBe(130);
      expect(first.stderr).toContain("SIGINT: stopping");
      expect(first.stderr).toContain("resume.safetensors");
      expect(first.stderr).not.toSatisfy(hasStackTrace);

      const second = runCli([...args(out), "--resume"]);
      expect(second.status, second.stderr).toBe(0);
      expect(second.stderr).toContain(`resuming pipeline Train at ${b.resumes}`);
      expectSameAsUninterrupted(out);
    }, 120_000);
  }

  it("after a crash (SIGKILL), continues from the last periodic checkpoint to the same weights", async () => {
    const out = join(dir, "killed");
    // A resume checkpoint after every update; the run is killed after update 20, before its checkpoint.
    const first = startCli([...args(out), "--checkpoint-every", "0"], ["update:1:20"]);
    await first.paused("update:1:20");
    first.child.kill("SIGKILL");
    await first.exited;
    const second = runCli([...args(out), "--checkpoint-every", "0", "--resume"]);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain("resuming pipeline Train at step 1, update 20");
    expectSameAsUninterrupted(out);
  }, 120_000);

  it("refuses to resume when the .repr file changed", async () => {
    const out = join(dir, "changed");
    const first = startCli(args(out), ["update:1:10"]);
    await first.paused("update:1:10");
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(143);
    const changed = join(dir, "changed.repr");
    writeFileSync(changed, SMALL.replace("dense(32)", "dense(33)"));
    const r = runCli(["train", changed, "--out", out, "--limit", "2000", "--plain", "--resume"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("RC807");
    expect(r.stderr).toContain("changed since the run started");
  }, 120_000);

  it("says so when there is nothing to resume", () => {
    const r = runCli([...args(join(dir, "nothing")), "--resume"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/RC807.*no such file/);
  });
});

describe("a loss that becomes NaN", () => {
  it("stops with a message naming the update, the step and the phase, and keeps the last good checkpoint", () => {
    const diverging = join(dir, "diverging.repr");
    // Without the decoder's sigmoid, which saturates at 0 or 1 where its input overflows to ±inf (as it does
    // in a fused multiply-add's dot product, which never meets +inf and -inf), so the loss stays finite there.
    const small = SMALL.replace("dense(784) -> sigmoid -> reshape", "dense(784) -> reshape");
    writeFileSync(diverging, small.replace("batch: 64, objective", "batch: 64, optimizer: sgd(lr: 1e30), objective").replace("steps: 1000", "steps: 5"));
    const out = join(dir, "nan");
    // The CPU backend by name: this run diverges by float32 overflow, which float64 (the reference) does not reach in 5 updates.
    const r = runCli(["train", diverging, "--out", out, "--limit", "500", "--plain", "--backend", "cpu"]);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toSatisfy(hasStackTrace);
    expect(r.stderr).toMatch(/error RC806: training stopped: the loss became (NaN|Infinity) at update \d+ of step 2 \(adapt\)/);
    expect(r.stderr).toContain(join(out, "1-pretrain.safetensors"));
    const good = readTensors(join(out, "1-pretrain.safetensors"));
    for (const [, t] of good) expect(Array.from(t.data as Float32Array).every(Number.isFinite)).toBe(true);
    expect(() => readFileSync(join(out, "2-adapt.safetensors"))).toThrow();
  });
});
