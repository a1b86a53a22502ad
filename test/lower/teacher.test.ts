/**
 * Momentum teachers and stop_gradient (spec/teachers.md): a teacher's
 * tensors are copies of its students' named `t.` + theirs, start equal to
 * them, take no gradient, run the students' layers on the copies, and follow
 * the students' new weights inside the training-step graph.
 */
import { describe, expect, it } from "vitest";
import { initGraph, initialValues, lowerCheckedModel, lowerTrainStep, modelParams } from "../../compiler/lower/index.js";
import { DEFAULT_STEP_SETTINGS } from "../../compiler/check/settings.js";
import { graphNodes } from "../../runtime/ir/node.js";
import { run } from "../../runtime/backends/reference/evaluate.js";
import { expectClose, feedsFor, fill, modelOf, runLowered, type T } from "./harness.js";

const byol = `model B {
  input x: f32[6]
  input y: f32[6]
  encoder f = dense(5) -> batch_norm -> relu
  part g = dense(4)
  part q = dense(4)
  part t = ema(f -> g, momentum: 0.9)
  loss l = mse(q(g(f(x))), stop_gradient(t(y)))
}
`;

/** Every leaf of a graph fed: the given feeds, then zeros (optimizer state). */
function allFeeds(graph: Parameters<typeof graphNodes>[0], feeds: Readonly<Record<string, T>>): Record<string, T> {
  const out: Record<string, T> = { ...feeds };
  for (const n of graphNodes(graph)) {
    if ((n.op === "param" || n.op === "input") && !(n.attrs.name in out)) out[n.attrs.name] = fill(n.shape, () => 0);
  }
  return out;
}

describe("a teacher's tensors", () => {
  const model = modelOf(byol);

  it("are its students' tensors with its name in front, in the students' order; state, not trained, following the learned ones", () => {
    const params = modelParams(model).filter((p) => p.owner === "t");
    expect(params.map((p) => p.name)).toEqual([
      "t.f.0.weight",
      "t.f.0.bias",
      "t.f.1.weight",
      "t.f.1.bias",
      "t.f.1.running_mean",
      "t.f.1.running_var",
      "t.f.1.num_batches_tracked",
      "t.g.weight",
      "t.g.bias",
    ]);
    expect(params.every((p) => p.kind === "state" && !p.decay)).toBe(true);
    expect(params.find((p) => p.name === "t.f.0.weight")?.follows).toEqual({ name: "f.0.weight", momentum: 0.9 });
    // Running statistics are the teacher's own: updated by its forward pass, not followed.
    expect(params.find((p) => p.name === "t.f.1.running_mean")?.follows).toBeUndefined();
    const lowered = lowerCheckedModel(model, { batch: 3, mode: "train" });
    expect(lowered.params.filter((p) => p.owner === "t" && p.trainable)).toEqual([]);
  });

  it("start equal to their students, in float64 and in the initialization graph", () => {
    const params = modelParams(model);
    const byName = new Map(params.map((p) => [p.name, p]));
    const init = run(initGraph(params), { seed: { shape: [], data: [7] } });
    for (const p of params.filter((q) => q.follows)) {
      const student = byName.get(p.follows!.name)!;
      expect([...initialValues(p, 7)]).toEqual([...initialValues(student, 7)]);
      expect([...init[p.name]!.data]).toEqual([...init[student.name]!.data]);
    }
  });

  it("are what applying the teacher reads: the students' layers on the copies, with batch statistics of its own", () => {
    const lowered = lowerCheckedModel(modelOf(byol.replace("loss l = mse(q(g(f(x))), stop_gradient(t(y)))", "output t(y)")), { batch: 3, mode: "train" });
    const feeds = feedsFor(lowered);
    // With the copies set to the students' values, the teacher computes what g(f(y)) computes.
    const same = { ...feeds };
    for (const p of lowered.params.filter((q) => q.owner === "t")) same[p.name] = feeds[p.name.slice(2)] ?? feeds[p.name]!;
    const student = lowerCheckedModel(modelOf(byol.replace("loss l = mse(q(g(f(x))), stop_gradient(t(y)))", "output g(f(y))")), { batch: 3, mode: "train" });
    const a = runLowered(lowered, same)["prediction"]!;
    const b = runLowered(student, { ...feedsFor(student), ...Object.fromEntries(Object.entries(same).filter(([k]) => !k.startsWith("t."))) })["prediction"]!;
    expectClose(a.data, b.data);
    const trained = lowerCheckedModel(model, { batch: 3, mode: "train" });
    expect(Object.keys(trained.outputs.state).filter((n) => n.startsWith("t.")).sort()).toEqual(["t.f.1.num_batches_tracked", "t.f.1.running_mean", "t.f.1.running_var"]);
  });
});

describe("the training step", () => {
  const model = modelOf(byol);

  it("updates every copy of a learned weight to m·t + (1 − m)·s', s' the student after the update", () => {
    const lowered = lowerCheckedModel(model, { batch: 3, mode: "train" });
    const step = lowerTrainStep(lowered, { ...DEFAULT_STEP_SETTINGS, optimizer: { name: "sgd", args: { lr: 0.5 } } });
    const feeds = allFeeds(step.graph, feedsFor(lowered));
    const out = run(step.graph, feeds);
    const names = step.graph.outputs.map((o) => o.name);
    for (const student of ["f.0.weight", "f.0.bias", "f.1.weight", "f.1.bias", "g.weight", "g.bias"]) {
      expect(names).toContain(`new:t.${student}`);
      const s = [...out[`new:${student}`]!.data];
      const t = feeds[`t.${student}`]!.data;
      // The student moved, so following its new value differs from following its old one.
      expect(s).not.toEqual(feeds[student]!.data);
      expectClose([...out[`new:t.${student}`]!.data], t.map((v, i) => 0.9 * v + 0.1 * s[i]!));
    }
    // q is not followed; the teacher's statistics come from its own forward pass.
    expect(names.filter((n) => n.startsWith("new:t.q"))).toEqual([]);
    expect(names).toContain("new:t.f.1.running_mean");
    // No gradient reaches a copy: none has an optimizer state.
    expect(names.filter((n) => n.startsWith("new:t.") && n.includes(".adam."))).toEqual([]);
  });

  it("a copy of a frozen student stays as it is, the rest follow; a frozen teacher does not move", () => {
    const frozenF = lowerCheckedModel(model, { batch: 3, mode: "train", frozen: new Set(["f"]) });
    const step = lowerTrainStep(frozenF, DEFAULT_STEP_SETTINGS, new Set(["f"]));
    const names = step.graph.outputs.map((o) => o.name);
    expect(names.filter((n) => n.startsWith("new:f.") || n.startsWith("new:t.f.0") || n.startsWith("new:t.f.1.weight"))).toEqual([]);
    expect(names).toContain("new:t.g.weight");
    const frozenT = lowerCheckedModel(model, { batch: 3, mode: "train", frozen: new Set(["t"]) });
    const stopped = lowerTrainStep(frozenT, DEFAULT_STEP_SETTINGS, new Set(["t"])).graph.outputs.map((o) => o.name);
    expect(stopped.filter((n) => n.startsWith("new:t."))).toEqual([]);
    expect(stopped).toContain("new:g.weight");
  });
});

describe("stop_gradient", () => {
  it("is the value itself, and sends no gradient back: only the other side of the loss trains", () => {
    const lowered = lowerCheckedModel(modelOf(byol), { batch: 3, mode: "train" });
    const step = lowerTrainStep(lowered, DEFAULT_STEP_SETTINGS);
    // f and g train through the online side; the teacher's input side has no gradient, and q trains.
    expect(step.trainable.map((p) => p.name)).toEqual(["f.0.weight", "f.0.bias", "f.1.weight", "f.1.bias", "g.weight", "g.bias", "q.weight", "q.bias"]);
    const value = lowerCheckedModel(modelOf("model S {\n  input x: f32[3]\n  encoder f = dense(3)\n  output stop_gradient(f(x)) + f(x)\n}\n"), { batch: 2, mode: "eval" });
    const out = runLowered(value, feedsFor(value))["prediction"]!;
    const plain = lowerCheckedModel(modelOf("model S {\n  input x: f32[3]\n  encoder f = dense(3)\n  output f(x) + f(x)\n}\n"), { batch: 2, mode: "eval" });
    expectClose(out.data, runLowered(plain, feedsFor(plain))["prediction"]!.data);
  });
});
