/**
 * The resume file's loss history (issue 10, item 5): it lives in the file's
 * body as one F64 tensor, not in the JSON header, so the header stays small
 * however long the run; and it reads back bit for bit, NaN included.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LOSSES_TENSOR, readResume, writeResume, type ResumePoint } from "../../cli/train/resume.js";
import type { ModelTensor } from "../../runtime/api/weights.js";
import type { RunState } from "../../runtime/train/pipeline-engine.js";
import { UserError } from "../../cli/errors.js";
import { decodeSafetensors, encodeSafetensors } from "../../runtime/checkpoint/index.js";
import { readTensors, tempDir } from "./helpers.js";

const dir = tempDir("resume-file");
const info = { version: "test", model: "M", step: 0, phase: "pretrain", seed: 0 };

/** The length of a safetensors file's JSON header. */
function headerLength(path: string): number {
  return Number(readFileSync(path).readBigUint64LE(0));
}

/** The tensors a run of a 72-parameter model keeps: weights, a counter, Adam's moments. */
function smallTensors(): Map<string, ModelTensor> {
  return new Map<string, ModelTensor>([
    ["f.0.weight", { shape: [8, 4], data: Float32Array.from({ length: 32 }, (_, i) => i / 7) }],
    ["f.0.bias", { shape: [8], data: new Float32Array(8).fill(0.5) }],
    ["f.0.weight.adam.m", { shape: [8, 4], data: new Float32Array(32).fill(1e-3) }],
    ["f.1.num_batches_tracked", { shape: [], data: Int32Array.of(12) }],
  ]);
}

/** A history of `updates` losses in two series, values no float32 could hold (the reference backend's float64). */
function history(updates: number): ResumePoint["history"] {
  const first = Array.from({ length: Math.floor(updates / 2) }, (_, i) => 1 / (i + 3));
  const second = Array.from({ length: updates - first.length }, (_, i) => Math.PI / (i + 1));
  return {
    steps: [{ step: 1, kind: "pretrain", data: "d.train", examples: 10, batch: 2, updates: first.length, seconds: 1, loss: 0.5, checkpoint: "1-pretrain.safetensors" }],
    series: [
      { step: 1, name: "1 pretrain", offset: 0, losses: first },
      { step: 2, name: "2 adapt", offset: first.length, losses: second },
    ],
  };
}

/** A run's state at the end of `h`. */
const state = (h: ResumePoint["history"]): RunState => ({ pipeline: "P", stepIndex: 1, next: h.series[1]!.losses.length, history: h, tensors: smallTensors() });
const FINGERPRINT = "f".repeat(32);

describe("the resume file's loss history", () => {
  it("keeps the header small after a million updates, and reads back every loss bit for bit", async () => {
    const path = join(dir, "long.safetensors");
    const long = history(1_000_000);
    await writeResume(path, state(long), FINGERPRINT, info);
    // The header holds the tensors' entries and the run's position, not a number per update.
    expect(headerLength(path)).toBeLessThan(4096);
    expect(readTensors(path).get(LOSSES_TENSOR)).toMatchObject({ dtype: "F64", shape: [1_000_000] });
    const back = await readResume(path, { fingerprint: FINGERPRINT, pipeline: "P" });
    expect(back.history).toEqual(long);
    expect(back.next).toBe(500_000);
    // The losses are no tensor of the model: the state holds only what the run stored.
    expect([...back.tensors.keys()].sort()).toEqual([...smallTensors().keys()].sort());
    expect([...back.tensors.get("f.1.num_batches_tracked")!.data]).toEqual([12]);
  });

  it("keeps a NaN loss as NaN", async () => {
    const path = join(dir, "nan.safetensors");
    const h = history(6);
    h.series[1]!.losses[2] = Number.NaN;
    await writeResume(path, state(h), FINGERPRINT, info);
    const back = await readResume(path, { fingerprint: FINGERPRINT, pipeline: "P" });
    expect(Number.isNaN(back.history.series[1]!.losses[2])).toBe(true);
  });

  it("refuses a file whose losses do not match its series", async () => {
    const path = join(dir, "cut.safetensors");
    await writeResume(path, state(history(10)), FINGERPRINT, info);
    const tensors = readTensors(path);
    const { metadata } = decodeSafetensors(new Uint8Array(readFileSync(path)), path);
    tensors.set(LOSSES_TENSOR, { dtype: "F64", shape: [9], data: new Float64Array(9) });
    writeFileSync(path, encodeSafetensors(tensors, metadata));
    const error = await readResume(path, { fingerprint: FINGERPRINT, pipeline: "P" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(`cannot resume from '${path}': its '${LOSSES_TENSOR}' holds 9 losses, but its series add up to 10`);
  });
});
