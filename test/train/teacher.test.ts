/**
 * A momentum teacher in a real run (spec/teachers.md): `repr train` writes
 * its copies under their documented names, they follow the student, the
 * copies of a frozen student stay, and `--resume` continues the teacher
 * bit for bit.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../cli/run-cli.js";
import { readTensors, startCli, tempDir } from "./helpers.js";

const dir = tempDir("teacher");

const SRC = `model Byol {
  input image: f32[1, 28, 28]
  views a, b = augment(image, shift: 1, noise: 0.1)
  encoder f = flatten -> dense(16) -> batch_norm -> relu
  part g = dense(8)
  part q = dense(8)
  part t = ema(f -> g, momentum: 0.5)
  loss byol = mse(q(g(f(a))) -> l2_normalize, stop_gradient(t(b)) -> l2_normalize)
}

data digits {
  image: f32[1, 28, 28]
  label: label(classes: 10)
}

pipeline Train {
  pretrain Byol on digits.train { steps: 12, batch: 16 }
  freeze f
  adapt on digits.train { steps: 6, batch: 16, objective: byol }
}
`;

const file = join(dir, "byol.repr");
writeFileSync(file, SRC);
const args = (out: string) => ["train", file, "--out", out, "--limit", "256", "--plain", "--backend", "reference"];

/** A tensor's numbers. */
const numbers = (path: string, name: string): number[] => [...(readTensors(path).get(name)!.data as Float32Array)];

describe("a teacher in training", () => {
  const reference = join(dir, "uninterrupted");
  beforeAll(() => {
    const r = runCli(args(reference));
    expect(r.status, r.stderr).toBe(0);
  }, 120_000);

  it("its copies are in the checkpoint under their names, and follow the student without being it", () => {
    const path = join(reference, "1-pretrain.safetensors");
    const names = [...readTensors(path).keys()];
    for (const n of ["t.f.1.weight", "t.f.1.bias", "t.f.2.running_mean", "t.f.2.weight", "t.g.weight", "t.g.bias"]) expect(names).toContain(n);
    expect(names.some((n) => n.startsWith("t.q"))).toBe(false);
    const [student, teacher] = [numbers(path, "f.1.weight"), numbers(path, "t.f.1.weight")];
    expect(teacher).not.toEqual(student);
    const gap = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0));
    expect(gap(teacher, student)).toBeGreaterThan(0);
    // With f frozen in the adapt step, f and the teacher's copy of it stay as they were; g and its copy move on.
    const after = join(reference, "3-adapt.safetensors");
    expect(numbers(after, "f.1.weight")).toEqual(student);
    expect(numbers(after, "t.f.1.weight")).toEqual(teacher);
    expect(numbers(after, "t.g.weight")).not.toEqual(numbers(path, "t.g.weight"));
  });

  it("continues after SIGINT to the uninterrupted run's teacher, bit for bit", async () => {
    const out = join(dir, "interrupted");
    const first = startCli(args(out), ["update:1:5"]);
    await first.paused("update:1:5");
    first.child.kill("SIGINT");
    expect(await first.exited, first.stderr).toBe(130);
    const second = runCli([...args(out), "--resume"]);
    expect(second.status, second.stderr).toBe(0);
    for (const name of ["1-pretrain.safetensors", "3-adapt.safetensors"]) {
      const [a, b] = [readTensors(join(reference, name)), readTensors(join(out, name))];
      expect([...b.keys()]).toEqual([...a.keys()]);
      for (const [n, t] of a) expect([...b.get(n)!.data], `${name}: ${n}`).toEqual([...t.data]);
    }
  }, 120_000);
});
