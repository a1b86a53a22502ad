/**
 * The PyTorch target as a user runs it (`repr compile --target pytorch`):
 * - the pipeline script under `torchrun --nproc_per_node 2` (DDP, gloo on the
 *   CPU; each rank half of every batch of 8) gives the same tensors after N
 *   updates as one process (a batch of 8), in float64: for the autoencoder, and for the masked autoencoder,
 *   whose masks each rank draws for its own examples at their global index;
 * - a checkpoint repr saves loads into the module with `load_state_dict`
 *   (strict: every key and shape), and one the module writes loads back into
 *   repr, number for number.
 * Skipped, with the reason, where /usr/bin/python3 lacks torch.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readFileSync as read } from "node:fs";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { Source } from "../../language/source.js";
import { Model } from "../../runtime/api/model.js";
import { decodeSafetensors, encodeSafetensors, type Tensor } from "../../runtime/checkpoint/index.js";
import { runCli } from "../cli/run-cli.js";
import { PYTHON, torchMissing } from "./available.js";

const missing = torchMissing();
const torchrun = spawnSync("torchrun", ["--help"], { encoding: "utf8" }).status === 0 ? null : "torchrun is not on PATH (python3-torch installs it)";
const dir = mkdtempSync(join(tmpdir(), "repr-pytorch-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic pixels and labels: `n` examples of each split. */
function digits(n: number): Uint8Array {
  const tensors = new Map<string, Tensor>();
  for (const split of ["train", "test"]) {
    tensors.set(`${split}/image`, { dtype: "F32", shape: [n, 1, 28, 28], data: Float32Array.from({ length: n * 784 }, (_, i) => ((i * 2654435761) % 1000) / 1000 + (split === "test" ? 0.0005 : 0)) });
    tensors.set(`${split}/label`, { dtype: "I64", shape: [n], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 10)) });
  }
  return encodeSafetensors(tensors);
}

describe.skipIf(missing !== null)(`the PyTorch target, run${missing ? ` (skipped: ${missing})` : ""}`, () => {
  const out = join(dir, "pt");

  it("compiles: model.py, repr_runtime.py and a script per pipeline", () => {
    const r = runCli(["compile", "examples/mnist-autoencoder.repr", "--target", "pytorch", "-o", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("wrote model.py, repr_runtime.py, train_Train.py");
  });

  for (const [example, script, cls] of [["mnist-autoencoder", "train_Train.py", "Autoencoder"], ["masked-autoencoder", "train_FromScratch.py", "MAE"]] as const) {
  it.skipIf(torchrun !== null)(`${example}: 2 processes under torchrun (4 examples each) equal 1 process (8) after 4 updates${torchrun ? ` (skipped: ${torchrun})` : ""}`, () => {
    const out = join(dir, example);
    const compiled = runCli(["compile", `examples/${example}.repr`, "--target", "pytorch", "-o", out]);
    expect(compiled.status, compiled.stderr).toBe(0);
    writeFileSync(join(dir, "digits.safetensors"), digits(32));
    const common = ["--data", `digits=${join(dir, "digits.safetensors")}`, "--steps", "4", "--double", "--seed", "3"];
    const env = { ...process.env, OMP_NUM_THREADS: "1" };
    const one = spawnSync(PYTHON, [join(out, script), ...common, "--batch", "8", "--out", join(dir, "one.safetensors")], { cwd: out, encoding: "utf8", env, timeout: 300_000 });
    expect(one.status, one.stderr).toBe(0);
    // --redirects 1 --tee 1: torchrun 1.13's default (no redirect) fails on Python 3.11's enums.
    const two = spawnSync("torchrun", ["--nproc_per_node", "2", "--redirects", "1", "--tee", "1", "--master_port", String(29500 + (process.pid % 500)), join(out, script), ...common, "--batch", "8", "--out", join(dir, "two.safetensors")], { cwd: out, encoding: "utf8", env, timeout: 300_000 });
    expect(two.status, two.stderr).toBe(0);
    const losses = (text: string): number[] => text.split("\n").filter((l) => l.includes('"loss"')).map((l) => (JSON.parse(l.replace(/^\[default\d+\]:/, "")) as { loss: number }).loss);
    expect(losses(one.stdout)).toHaveLength(4);
    expect(losses(two.stdout)).toHaveLength(4);
    // Each update's loss: the mean over the same 8 examples.
    losses(two.stdout).forEach((l, i) => expect(Math.abs(l - losses(one.stdout)[i]!)).toBeLessThan(1e-12));
    const a = decodeSafetensors(readFileSync(join(dir, "one.safetensors")), "one.safetensors").tensors;
    const b = decodeSafetensors(readFileSync(join(dir, "two.safetensors")), "two.safetensors").tensors;
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    let worst = 0;
    const noise: string[] = [];
    for (const [name, t] of a) {
      const x = t.data as Float64Array;
      const y = b.get(name)!.data as Float64Array;
      const scale = x.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-12);
      // Attention's key bias has a gradient that is zero in exact arithmetic (test/torch/README.md): both
      // runs move it by roundoff that Adam scales up to a step of at most lr, so it is held to that bound.
      if (/\.k\.bias$/.test(name)) noise.push(name);
      else worst = Math.max(worst, x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0) / scale);
    }
    expect(worst).toBeLessThan(1e-10);
    // The weights moved: 4 updates of adam, not a run that did nothing.
    const init = spawnSync(PYTHON, ["-c", `import model, repr_runtime as R; R.write_safetensors('init.safetensors', R.tensors(model.${cls}(3).double()))`], { cwd: out, encoding: "utf8" });
    expect(init.status, init.stderr).toBe(0);
    const initial = decodeSafetensors(readFileSync(join(out, "init.safetensors")), "init.safetensors").tensors;
    const start = initial.get("f.1.weight")!.data as Float64Array;
    const lr = 4 * Math.max(...[...readFileSync(join(out, "model.py"), "utf8").matchAll(/"lr": ([0-9.e-]+)/g)].map((m) => Number(m[1])));
    for (const name of noise) {
      const s0 = initial.get(name)!.data as Float64Array;
      for (const t of [a, b]) expect((t.get(name)!.data as Float64Array).every((v, i) => Math.abs(v - s0[i]!) <= lr * (1 + 1e-9)), name).toBe(true);
    }
    expect((a.get("f.1.weight")!.data as Float64Array).some((v, i) => Math.abs(v - start[i]!) > 1e-5)).toBe(true);
  }, 300_000);
  }

  it("loads a repr checkpoint with load_state_dict, and repr loads the module's back", async () => {
    const path = "examples/mnist-autoencoder.repr";
    const { program } = checkProgram(new Source(path, read(path, "utf8")), nodeFileHost);
    const plan = buildModelPlan(program, "Autoencoder", {});
    const model = await Model.create(plan, { backend: "cpu", seed: 9 });
    writeFileSync(join(dir, "repr.safetensors"), await model.save());
    const script = [
      "import torch, model, repr_runtime as R",
      "m = model.Autoencoder(0)",
      "state = R.read_safetensors('../repr.safetensors')",
      "m.load_state_dict({k: v.to(torch.float32) for k, v in state.items()}, strict=True)",
      "fresh = model.Autoencoder(9)",
      "assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), fresh.state_dict().values())), 'repr seed 9 != module seed 9'",
      "with torch.no_grad():",
      "    for t in m.parameters(): t.mul_(0.5)",
      "R.write_safetensors('../torch.safetensors', m.state_dict())",
      "print(len(state))",
    ].join("\n");
    const r = spawnSync(PYTHON, ["-c", script], { cwd: out, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(String(plan.tensors.length));
    await model.load(readFileSync(join(dir, "torch.safetensors")));
    const w = await model.tensor("f.1.weight");
    const again = await Model.create(plan, { backend: "cpu", seed: 9 });
    const w0 = await again.tensor("f.1.weight");
    expect(Array.from(w.data)).toEqual(Array.from(w0.data, (v) => Math.fround(v * 0.5)));
    model.dispose();
    again.dispose();
  });
});
