/**
 * A pipeline script of the PyTorch target against repr's own training
 * engine: examples/transfer.repr's `Transfer` (pretrain on labels 0-4, freeze
 * the encoder, replace the head, adapt on ten examples of each of 5-9,
 * test), run by `train_Transfer.py` in float64 and by repr's `Pipeline` on
 * the reference backend with the same data, seed, steps and limit, ends with
 * the same tensors: the same selections, repr's shuffled order and batches,
 * the same initialization and new head, and each update the step's. (The
 * reference backend keeps tensors in float32 between updates, hence the
 * tolerance.) Skipped, with the reason, where /usr/bin/python3 lacks torch.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import { describePytorch, printPytorch } from "../../compiler/emit/pytorch/index.js";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { Source } from "../../language/source.js";
import { Pipeline } from "../../runtime/api/pipeline.js";
import { decodeSafetensors, encodeSafetensors, type Tensor } from "../../runtime/checkpoint/index.js";
import { PYTHON, torchMissing } from "./available.js";

const missing = torchMissing();
const dir = mkdtempSync(join(tmpdir(), "repr-pytorch-pipeline-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `n` deterministic digits-like examples: pixels in [0, 1), labels cycling through 0-9. */
function split(n: number, salt: number): { image: Float32Array; label: Int32Array } {
  return {
    image: Float32Array.from({ length: n * 784 }, (_, i) => (((i + salt) * 2654435761) % 997) / 997),
    label: Int32Array.from({ length: n }, (_, i) => (i * 7 + salt) % 10),
  };
}

describe.skipIf(missing !== null)(`a pipeline script equals repr's training engine${missing ? ` (skipped: ${missing})` : ""}`, () => {
  it("transfer.repr's Transfer: pretrain, freeze, replace, adapt, test — the same tensors at the end", async () => {
    const path = "examples/transfer.repr";
    const plan = buildModelPlan(checkProgram(new Source(path, readFileSync(path, "utf8")), nodeFileHost).program, "Classifier", { pipelines: ["Transfer"] });
    const data = { train: split(120, 3), test: split(40, 5) };
    const settings = { steps: 3, limit: 30, seed: 4 };

    const pipeline = await Pipeline.create(plan, "Transfer", { backend: "reference" });
    const result = await pipeline.run({ data: { digits: data }, ...settings });
    expect(result.kind).toBe("done");
    if (result.kind !== "done") return;
    const names = [...(plan.pipelines[0]!.after?.tensors ?? plan.tensors)].map((t) => t.name);
    const repr = new Map(await Promise.all(names.map(async (n) => [n, Array.from((await result.model.tensor(n)).data)] as const)));
    result.model.dispose();

    const folder = join(dir, "pt");
    mkdirSync(folder);
    for (const [file, text] of printPytorch(describePytorch([plan]))) writeFileSync(join(folder, file), text);
    const tensors = new Map<string, Tensor>();
    for (const [s, d] of Object.entries(data)) {
      tensors.set(`${s}/image`, { dtype: "F32", shape: [d.label.length, 1, 28, 28], data: d.image });
      tensors.set(`${s}/label`, { dtype: "I64", shape: [d.label.length], data: BigInt64Array.from(Array.from(d.label, BigInt)) });
    }
    writeFileSync(join(dir, "digits.safetensors"), encodeSafetensors(tensors));
    const r = spawnSync(
      PYTHON,
      [join(folder, "train_Transfer.py"), "--data", `digits=${join(dir, "digits.safetensors")}`, "--steps", "3", "--limit", "30", "--seed", "4", "--double", "--out", join(dir, "py.safetensors")],
      { cwd: folder, encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" }, timeout: 300_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const log = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { kind: string; loss?: number });
    expect(log.map((l) => l.kind)).toEqual(["pretrain", "pretrain", "pretrain", "freeze", "replace", "adapt", "adapt", "adapt", "test"]);
    const py = decodeSafetensors(readFileSync(join(dir, "py.safetensors")), "py.safetensors").tensors;
    expect([...py.keys()].sort()).toEqual([...names].sort());
    const rows = names.map((n) => {
      const a = py.get(n)!.data as Float64Array;
      const b = repr.get(n)!;
      const scale = b.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-12);
      return [n, a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0) / scale] as const;
    });
    expect(rows.filter(([, e]) => !(e <= 1e-5)), JSON.stringify(rows)).toEqual([]);
    // The losses repr logged, update by update.
    const reprLosses = result.history.series.flatMap((s) => s.losses);
    const pyLosses = log.filter((l) => l.loss !== undefined).map((l) => l.loss!);
    expect(pyLosses.length).toBe(reprLosses.length);
    pyLosses.forEach((l, i) => expect(Math.abs(l - reprLosses[i]!) / Math.abs(reprLosses[i]!)).toBeLessThan(1e-5));
  }, 300_000);
});
