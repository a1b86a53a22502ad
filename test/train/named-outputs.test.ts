/**
 * A named output in a real run (spec/models.md): `repr train` draws the
 * attention weights a path reads inside a std `transformer_block`, one row
 * per head, as `<step>-test-<name>.png`.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../cli/run-cli.js";
import { tempDir } from "./helpers.js";

const dir = tempDir("named-outputs");

const SRC = `import { transformer_block } from "std"

model PatchClassifier {
  input image: f32[1, 28, 28]
  input label: label(classes: 10)
  encoder f = patchify(size: 7) -> dense(16) -> positional -> transformer_block(dim: 16, heads: 2) -> mean_pool
  head W = classifier(classes: 10)
  loss classify = cross_entropy(W(f(image)), label)
  output W(f(image))
  output attention_map = f(image).3.1.weights
}

data digits {
  image: f32[1, 28, 28]
  label: label(classes: 10)
}

pipeline P {
  pretrain PatchClassifier on digits.train { steps: 2, batch: 16 }
  test on digits.test { metrics: [accuracy] }
}
`;

describe("repr train draws named outputs", () => {
  it("writes the attention map of the test step: a PNG with a row per head", () => {
    const file = join(dir, "patches.repr");
    writeFileSync(file, SRC);
    const out = join(dir, "run");
    const r = runCli(["train", file, "--out", out, "--limit", "64", "--plain", "--backend", "reference"]);
    expect(r.status, r.stderr).toBe(0);
    const png = join(out, "2-test-attention_map.png");
    expect(existsSync(png)).toBe(true);
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString()).toBe("PNG");
    // Two rows of 16x16 maps (scale 3) and a gap: taller than one row, shorter than three.
    const height = bytes.readUInt32BE(20);
    expect(height).toBeGreaterThan(2 * 16 * 3);
    expect(height).toBeLessThan(3 * 16 * 3);
  });
});
