/**
 * Freezing part of a part (spec/paths.md): the layers a path covers get no
 * gradient and run in the frozen mode; the rest of the part trains, at its
 * `lr_scale`.
 */
import { describe, expect, it } from "vitest";
import { lowerPipelineStep } from "./harness.js";

const src = `model M {
  input x: f32[8]
  input y: label(classes: 2)
  encoder f = dense(8) -> batch_norm -> relu -> dense(8) -> dropout(rate: 0.5) -> dense(4)
  head W = classifier(classes: 2)
  loss l = cross_entropy(W(f(x)), y)
  output W(f(x))
}

data rows {
  x: f32[8]
  y: label(classes: 2)
}

pipeline P {
  pretrain M on rows.train
  freeze f.0..1
  adapt on rows.train { objective: l, lr_scale: { f: 0.5 } }
  freeze f { train_mode: true }
  unfreeze f.5
  adapt on rows.train { objective: l }
}
`;

/** Step `index` of P lowered at batch 2: the trained tensors, the running statistics it updates, whether dropout draws. */
function stepOf(index: number) {
  const { lowered, step } = lowerPipelineStep(src, "P", index, 2);
  const outputs = step.graph.outputs.map((o) => o.name);
  return {
    trained: step.trainable.map((p) => p.name),
    statistics: outputs.filter((o) => o.includes("running_mean")),
    dropout: lowered.graph.outputs.length > 0 && lowered.inputs.some((i) => i.kind === "seed"),
  };
}

describe("freezing layers inside a part", () => {
  it("freeze f.0..1: the first dense layer and the batch norm take no gradient, and the norm keeps its statistics", () => {
    const s = stepOf(2);
    expect(s.trained).toEqual(["f.3.weight", "f.3.bias", "f.5.weight", "f.5.bias", "W.weight", "W.bias"]);
    expect(s.statistics).toEqual([]);
    expect(s.dropout).toBe(true);
  });

  it("freeze f { train_mode: true } then unfreeze f.5: only f.5 and W train; frozen layers keep training mode", () => {
    const s = stepOf(5);
    expect(s.trained).toEqual(["f.5.weight", "f.5.bias", "W.weight", "W.bias"]);
    // train_mode: batch statistics are still updated, and dropout still draws.
    expect(s.statistics).toEqual(["new:f.1.running_mean"]);
    expect(s.dropout).toBe(true);
  });
});
