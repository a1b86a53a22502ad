/**
 * Values inside applications, by path (spec/paths.md), and named outputs
 * (spec/models.md): what `h.2.1.weights`, `h.2.h` and `h.1` compute, as
 * lets, as named outputs, in a plan's functions and in a test step.
 */
import { describe, expect, it } from "vitest";
import { lowerCheckedModel } from "../../compiler/lower/index.js";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { batchGraphOutputs } from "../../runtime/ir/batch-graph.js";
import { expectClose, feedsFor, runLowered } from "./harness.js";
import { checked } from "./harness.js";

const src = `import { transformer_block } from "std"

model Reader {
  input text: tokens(length: 6, vocab: 11)
  input label: label(classes: 2)
  encoder f = embedding(vocab: 11, dim: 8)
    -> positional
    -> transformer_block(dim: 8, heads: 2, causal: true)
    -> mean_pool
  head W = classifier(classes: 2)
  let h = f(text)
  let weights = h.2.1.weights
  let mid = h.2.h
  let placed = h.1
  let block = h.2
  loss classify = cross_entropy(W(h), label)
  output W(h)
  output attention_map = f(text).2.1.weights
}

data rows {
  text: tokens(length: 6, vocab: 11)
  label: label(classes: 2)
}

pipeline P {
  pretrain Reader on rows.train
  test on rows.test { metrics: [accuracy] }
}
`;

describe("values inside an application", () => {
  const program = checked(src);
  const model = program.models[0]!;

  it("have the types of what the layers make: weights [heads, L, L], a block's let, a stage's output", () => {
    const types = Object.fromEntries([...model.lets, ...model.outputs].map((l) => [l.name, l.type.shape]));
    expect(types).toEqual({ h: [8], weights: [2, 6, 6], mid: [6, 8], placed: [6, 8], block: [6, 8], attention_map: [2, 6, 6] });
  });

  it("are computed from the same application: causal weights that sum to 1, E[t] + P, and the block's output that mean_pool averages", () => {
    const lowered = lowerCheckedModel(model, { batch: 2, mode: "eval", values: ["h", "weights", "placed", "block"], outputs: ["attention_map"] });
    const feeds = feedsFor(lowered, {}, (k, name) => (k * 5 + 1) % (name === "label" ? 2 : 11));
    const out = runLowered(lowered, feeds);
    const w = out["value/weights"]!;
    expect(w.shape).toEqual([2, 2, 6, 6]);
    for (let row = 0; row < 2 * 2 * 6; row++) {
      const r = w.data.slice(row * 6, row * 6 + 6);
      expect(Math.abs(r.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
      // Causal: query i sees keys 0..i only.
      const i = row % 6;
      expect(r.slice(i + 1).every((v) => v === 0)).toBe(true);
    }
    expect(out["output/attention_map"]!.data).toEqual(w.data);
    const [E, P, t] = [feeds["f.0.weight"]!.data, feeds["f.1.weight"]!.data, feeds["text"]!.data];
    expectClose(out["value/placed"]!.data, Array.from({ length: 2 * 6 * 8 }, (_, k) => E[t[Math.floor(k / 8)]! * 8 + (k % 8)]! + P[(Math.floor(k / 8) % 6) * 8 + (k % 8)]!));
    const block = out["value/block"]!.data;
    expectClose(out["value/h"]!.data, Array.from({ length: 2 * 8 }, (_, k) => {
      const [b, j] = [Math.floor(k / 8), k % 8];
      return Array.from({ length: 6 }, (_, l) => block[(b * 6 + l) * 8 + j]!).reduce((a, v) => a + v, 0) / 6;
    }));
  });

  it("a named output is a function of the plan and a picture of every test step", () => {
    const plan = buildModelPlan(program, "Reader");
    const fn = plan.functions.find((f) => f.name === "attention_map");
    expect(fn?.output.shape).toEqual([2, 6, 6]);
    expect(fn?.inputs.map((i) => i.name)).toEqual(["text"]);
    const test = plan.pipelines[0]!.steps.find((s) => s.kind === "test");
    expect(test?.kind === "test" && batchGraphOutputs(test.graph)).toContain("picture/@attention_map");
  });
});
