import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CheckpointError } from "../../runtime/checkpoint/errors.js";
import type { Dtype, Tensor } from "../../runtime/checkpoint/dtypes.js";
import {
  compareParameters,
  editDistance,
  matchParameters,
  ParameterMismatchError,
  suggestName,
  type ExpectedParameter,
} from "../../runtime/checkpoint/match.js";
import { checkpointMetadata, readCheckpointInfo } from "../../runtime/checkpoint/metadata.js";
import { decodeSafetensors, encodeSafetensors } from "../../runtime/checkpoint/safetensors.js";
import { expectCheckpointError } from "./helpers.js";

const FILE = "runs/mlp.safetensors";

function f32(shape: number[]): Tensor {
  return { dtype: "F32", shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
}
const p = (name: string, shape: number[], dtype: Dtype = "F32", optional = false): ExpectedParameter =>
  optional ? { name, shape, dtype, optional } : { name, shape, dtype };

/** The tensors of `f = dense(32) -> relu -> dense(8) -> batch_norm` on [784]. */
const expected: ExpectedParameter[] = [
  p("f.0.weight", [32, 784]),
  p("f.0.bias", [32]),
  p("f.2.weight", [8, 32]),
  p("f.2.bias", [8]),
  p("f.3.weight", [8]),
  p("f.3.bias", [8]),
  p("f.3.running_mean", [8]),
  p("f.3.running_var", [8]),
  p("f.3.num_batches_tracked", [], "I64", true),
];
const exact = (): Map<string, Tensor> =>
  new Map(expected.map((e): [string, Tensor] => [e.name, e.dtype === "I64" ? { dtype: "I64", shape: [], data: new BigInt64Array(1) } : f32([...e.shape])]));

describe("matchParameters", () => {
  it("returns the tensors in the model's order when everything fits", () => {
    const loaded = new Map([...exact()].reverse());
    expect([...matchParameters(expected, loaded, FILE).keys()]).toEqual(expected.map((e) => e.name));
  });

  it("accepts a file without an optional tensor, and leaves it out", () => {
    const loaded = exact();
    loaded.delete("f.3.num_batches_tracked");
    expect(matchParameters(expected, loaded, FILE).has("f.3.num_batches_tracked")).toBe(false);
  });

  it("lists every problem at once: missing, unexpected with a suggestion, wrong shape, wrong dtype", () => {
    const loaded = exact();
    loaded.delete("f.2.bias");
    loaded.set("f.2.bais", f32([8]));
    loaded.set("f.0.weight", f32([784, 32]));
    loaded.set("f.3.weight", f32([9]));
    loaded.set("f.3.running_var", { dtype: "F64", shape: [8], data: new Float64Array(8) });
    loaded.set("g.0.weight", f32([4]));
    const message = expectCheckpointError(() => matchParameters(expected, loaded, FILE), FILE, "mismatch");
    expect(message).toBe(
      [
        `${FILE}: the checkpoint does not fit the model: 1 missing, 2 unexpected, 2 tensors with the wrong shape, 1 tensor with the wrong dtype`,
        "  missing: 'f.2.bias', F32 [8]",
        "  unexpected: 'f.2.bais', F32 [8]; did you mean 'f.2.bias'?",
        "  unexpected: 'g.0.weight', F32 [4]",
        "  wrong shape: 'f.0.weight' is [784, 32] in the file, the model expects [32, 784] (transposed? repr stores a dense weight as [out, in])",
        "  wrong shape: 'f.3.weight' is [9] in the file, the model expects [8]",
        "  wrong dtype: 'f.3.running_var' is F64 in the file, the model expects F32",
      ].join("\n"),
    );
  });

  it("carries the report on the error", () => {
    const loaded = exact();
    loaded.delete("f.0.bias");
    try {
      matchParameters(expected, loaded, FILE);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ParameterMismatchError);
      expect(error).toBeInstanceOf(CheckpointError);
      const { report } = error as ParameterMismatchError;
      expect(report.missing.map((m) => m.name)).toEqual(["f.0.bias"]);
      expect(report.unexpected).toEqual([]);
    }
  });

  it("suggests across a PyTorch wrapper's prefix, and for names that differ only in case", () => {
    const loaded = exact();
    loaded.delete("f.0.weight");
    loaded.delete("f.2.weight");
    loaded.set("module.f.0.weight", f32([32, 784]));
    loaded.set("F.2.Weight", f32([8, 32]));
    const { unexpected } = compareParameters(expected, loaded);
    expect(unexpected.map((u) => [u.name, u.suggestion])).toEqual([
      ["F.2.Weight", "f.2.weight"],
      ["module.f.0.weight", "f.0.weight"],
    ]);
  });

  it("reports an empty checkpoint as all missing, and a checkpoint for another model as all unexpected", () => {
    expect(compareParameters(expected, new Map()).missing.length).toBe(expected.length - 1);
    const other = compareParameters([], exact());
    expect(other.unexpected.length).toBe(expected.length);
    expect(other.unexpected.every((u) => u.suggestion === undefined)).toBe(true);
  });

  it("finds exactly the differences it was given (property)", () => {
    fc.assert(
      fc.property(fc.subarray(expected.map((e) => e.name)), fc.subarray(["x.0.weight", "f.9.bias", "zz"]), (dropped, extra) => {
        const loaded = exact();
        for (const name of dropped) loaded.delete(name);
        for (const name of extra) loaded.set(name, f32([1]));
        const report = compareParameters(expected, loaded);
        const required = dropped.filter((n) => n !== "f.3.num_batches_tracked");
        expect(report.missing.map((m) => m.name).sort()).toEqual([...required].sort());
        expect(report.unexpected.map((u) => u.name).sort()).toEqual([...extra].sort());
        expect(report.wrongShape).toEqual([]);
        expect(report.wrongDtype).toEqual([]);
      }),
    );
  });

  it("treats a name the model lists twice as a bug in the caller", () => {
    expect(() => compareParameters([p("a", [1]), p("a", [1])], new Map())).toThrow(/internal error: .* 'a' twice/);
  });

  it("checks a whole file: encode, decode, match", () => {
    const bytes = encodeSafetensors(exact());
    expect(matchParameters(expected, decodeSafetensors(bytes, FILE).tensors, FILE).size).toBe(expected.length);
  });
});

describe("the mismatch report in spec/checkpoints.md", () => {
  it("is what matchParameters says for that file", () => {
    const spec = readFileSync(join(import.meta.dirname, "..", "..", "spec", "checkpoints.md"), "utf8");
    const shown = /```text\n(runs\/named\.safetensors: [^`]*)```/.exec(spec)?.[1]?.trimEnd();
    expect(shown).toBeDefined();
    const model: ExpectedParameter[] = [p("f.4.weight", [64, 1568]), p("f.4.bias", [64]), p("W.weight", [10, 16]), p("W.bias", [10])];
    const loaded = new Map<string, Tensor>([
      ["f.4.weight", f32([64, 1568])],
      ["f.4.bais", f32([64])],
      ["W.weight", f32([16, 10])],
      ["W.bias", f32([10])],
    ]);
    const file = "runs/named.safetensors";
    expect(expectCheckpointError(() => matchParameters(model, loaded, file), file, "mismatch")).toBe(shown);
  });
});

describe("suggestions", () => {
  it("measures edits, a swap of neighbours counting as one", () => {
    expect(editDistance("bias", "bias")).toBe(0);
    expect(editDistance("bais", "bias")).toBe(1);
    expect(editDistance("f.0.weight", "f.1.weight")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });

  it("suggests only close names", () => {
    expect(suggestName("f.0.wieght", ["f.0.weight", "f.0.bias"])).toBe("f.0.weight");
    expect(suggestName("g.0.weight", ["f.0.bias"])).toBeUndefined();
    expect(suggestName("x", [])).toBeUndefined();
    expect(suggestName("model.z.mu.weight", ["z.mu.weight", "z.logvar.weight"])).toBe("z.mu.weight");
    expect(suggestName("z.mu.bias", ["enc.z.mu.bias"])).toBe("enc.z.mu.bias");
  });
});

describe("checkpoint metadata", () => {
  const info = { version: "0.1.0", model: "Named", step: 1200, phase: "pretrain", seed: 7 };

  it("writes every key as a string and reads it back", () => {
    const metadata = checkpointMetadata(info);
    expect(metadata).toEqual({
      format: "pt",
      "repr.version": "0.1.0",
      "repr.model": "Named",
      "repr.step": "1200",
      "repr.phase": "pretrain",
      "repr.seed": "7",
    });
    const decoded = decodeSafetensors(encodeSafetensors(new Map(), metadata), FILE).metadata;
    expect(readCheckpointInfo(decoded, FILE)).toEqual(info);
  });

  it("reads a file from another tool, which has none of repr's keys", () => {
    expect(readCheckpointInfo({ format: "pt" }, FILE)).toEqual({});
  });

  it.each(["-1", "1.5", "01", "", "1e3", "9007199254740993"])("refuses repr.step %j", (step) => {
    const message = expectCheckpointError(() => readCheckpointInfo({ "repr.step": step }, FILE), FILE, "header-format");
    expect(message).toBe(`${FILE}: metadata 'repr.step' is '${step}', not a non-negative integer`);
  });

  it("refuses to write a step that is not a count", () => {
    expect(() => checkpointMetadata({ ...info, step: -1 })).toThrow(/internal error/);
  });
});
