/**
 * Learning rates by layer in a training step (spec/paths.md): one plain SGD
 * update on the float64 reference backend, with `lr_scale: { f.3: 0.001 }`,
 * moves f's last layer exactly 0.001 times as far as the same update without
 * it, and every other tensor exactly as far.
 */
import { describe, expect, it } from "vitest";
import { newName } from "../../compiler/optim/train-step.js";
import { run } from "../../runtime/backends/reference/evaluate.js";
import { feedsFor, lowerPipelineStep, type T } from "./harness.js";

const src = (settings: string) => `model M {
  input x: f32[6]
  input y: label(classes: 3)
  encoder f = dense(5) -> tanh -> dense(4) as top -> tanh
  head W = classifier(classes: 3)
  loss l = cross_entropy(W(f(x)), y)
  output W(f(x))
}

data rows {
  x: f32[6]
  y: label(classes: 3)
}

pipeline P {
  pretrain M on rows.train
  adapt on rows.train { optimizer: sgd(lr: 0.5)${settings} }
}
`;

/** Each trained tensor's change in one update of the adapt step, from the same weights and batch. */
function deltas(settings: string): Map<string, number[]> {
  const { lowered, step } = lowerPipelineStep(src(settings), "P", 1, 4);
  const feeds: Record<string, T> = { ...feedsFor(lowered), step: { shape: [], data: [0] } };
  const out = run(step.graph, feeds);
  return new Map(step.trainable.map((p) => [p.name, [...out[newName(p.name)]!.data].map((v, i) => v - feeds[p.name]!.data[i]!)]));
}

describe("lr_scale on one layer", () => {
  it("scales that layer's SGD update by its factor and leaves the others' as they are", () => {
    const plain = deltas("");
    const scaled = deltas(", lr_scale: { f.top: 0.001 }");
    expect([...scaled.keys()]).toEqual(["f.0.weight", "f.0.bias", "f.2.weight", "f.2.bias", "W.weight", "W.bias"]);
    for (const [name, d] of scaled) {
      const factor = name.startsWith("f.2.") ? 0.001 : 1;
      const p = plain.get(name)!;
      // The update moves something, so the ratio is measured, not 0/0.
      expect(Math.max(...p.map(Math.abs)), name).toBeGreaterThan(1e-4);
      d.forEach((v, i) => expect(v, `${name}[${i}]`).toBeCloseTo(p[i]! * factor, 12));
    }
  });

  it("a part's scale applies to its other layers, the layer's own to it", () => {
    const plain = deltas("");
    const scaled = deltas(", lr_scale: { f: 0.1, f.2: 3 }");
    for (const [name, d] of scaled) {
      const factor = name.startsWith("f.2.") ? 3 : name.startsWith("f.") ? 0.1 : 1;
      d.forEach((v, i) => expect(v, `${name}[${i}]`).toBeCloseTo(plain.get(name)![i]! * factor, 12));
    }
  });
});
