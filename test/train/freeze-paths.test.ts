/**
 * Freezing part of a part in a real run (spec/paths.md): `freeze f.0`
 * leaves f's first layer exactly as pretraining left it while the rest of f
 * and the head adapt; the checkpoint holds every tensor under its name.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../cli/run-cli.js";
import { readTensors, tempDir } from "./helpers.js";

const dir = tempDir("freeze-paths");

const SRC = `model Net {
  input image: f32[1, 28, 28]
  input label: label(classes: 10)
  encoder f = flatten -> dense(16) -> relu -> dense(16) -> relu
  head W = classifier(classes: 10)
  loss classify = cross_entropy(W(f(image)), label)
  output W(f(image))
}

data digits {
  image: f32[1, 28, 28]
  label: label(classes: 10)
}

pipeline P {
  pretrain Net on digits.train { steps: 4, batch: 16 }
  freeze f.0..1
  adapt on digits.train { steps: 4, batch: 16, lr_scale: { f: 0.5 } }
}
`;

describe("freeze f.0..1 in a run", () => {
  it("keeps f.1 as pretraining left it, and adapts f.3 and W", () => {
    const file = join(dir, "net.repr");
    writeFileSync(file, SRC);
    const out = join(dir, "run");
    const r = runCli(["train", file, "--out", out, "--limit", "256", "--plain", "--backend", "reference"]);
    expect(r.status, r.stderr).toBe(0);
    const [before, after] = [readTensors(join(out, "1-pretrain.safetensors")), readTensors(join(out, "3-adapt.safetensors"))];
    expect([...after.keys()].sort()).toEqual(["W.bias", "W.weight", "f.1.bias", "f.1.weight", "f.3.bias", "f.3.weight"]);
    const same = (name: string) => [...before.get(name)!.data].every((v, i) => v === after.get(name)!.data[i]);
    expect(["f.1.weight", "f.1.bias"].map(same)).toEqual([true, true]);
    expect(["f.3.weight", "W.weight"].map(same)).toEqual([false, false]);
  });
});
