/**
 * Whole models: every example lowers and runs in both modes with the checker's
 * parameter counts; tensor names are those of spec/checkpoints.md; initial
 * values follow spec/layers.md and agree with their IR form; frozen parts,
 * replaced heads, the supervised objective and the prediction behave as the
 * pipeline spec says.
 */
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Source } from "../../language/source.js";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import {
  initGraph,
  initialValues,
  learnedCount,
  LowerError,
  lowerModel,
  modelParams,
  type LoweredModel,
} from "../../compiler/lower/index.js";
import { negativeTable } from "../../runtime/sampling/negative-table.js";
import { stepLowering } from "../../compiler/lower/steps.js";
import { lowerTrainStep } from "../../compiler/lower/step-graph.js";
import { run } from "../../runtime/backends/reference/evaluate.js";
import { graphNodes } from "../../runtime/ir/node.js";
import { normalAt, streamOf, uniformAt } from "../../runtime/rng/index.js";
import { checked, expectClose, feedsFor, lowerSrc, naiveLinear, runLowered, type T } from "./harness.js";

const root = join(import.meta.dirname, "..", "..");
const examples = readdirSync(join(root, "examples")).filter((f) => f.endsWith(".repr"));

function checkFile(file: string) {
  const path = join(root, "examples", file);
  const { program, diagnostics } = checkProgram(new Source(path, readFileSync(path, "utf8")), nodeFileHost);
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return program;
}

/** Feeds with the model's initial values (seed 7) and, for skip-gram, a real alias table. */
function initialFeeds(lowered: LoweredModel): Record<string, T> {
  const feeds = feedsFor(lowered, {}, (i, name) => (name.startsWith("negatives.") ? 0 : i % 2));
  for (const p of lowered.params) feeds[p.name] = { shape: p.shape, data: [...initialValues(p, 7)] };
  for (const i of lowered.inputs.filter((i) => i.kind === "negatives" && i.name.endsWith(".prob"))) {
    const table = negativeTable(new Array<number>(i.shape[0]! / 2 + 1).fill(1));
    feeds[i.name] = { shape: i.shape, data: [...table.prob].slice(0, i.shape[0]) };
    feeds[i.name.replace(/\.prob$/, ".alias")] = { shape: i.shape, data: [...table.alias].slice(0, i.shape[0]) };
  }
  return feeds;
}

describe("the examples", () => {
  for (const file of examples) {
    for (const mode of ["train", "eval"] as const) {
      it(`${file} lowers and runs in ${mode} mode, batch 2, with the checker's parameter counts`, () => {
        const program = checkFile(file);
        for (const model of program.models) {
          const lowered = lowerModel(program, model.name, { batch: 2, mode });
          expect(learnedCount(lowered.params)).toBe(model.totalParams);
          for (const part of model.parts) {
            expect(learnedCount(lowered.params.filter((p) => p.owner === part.name)), part.name).toBe(part.params);
          }
          // Every tensor the graph reads is declared, with its shape.
          const declared = new Map(lowered.params.map((p) => [p.name, p.shape.join()]));
          for (const n of graphNodes(lowered.graph).filter((n) => n.op === "param")) {
            const attrs = n.attrs as { name: string };
            expect(declared.get(attrs.name), attrs.name).toBe(n.shape.join());
          }
          const out = run(lowered.graph, initialFeeds(lowered));
          for (const name of Object.keys(lowered.outputs.losses)) expect(Number.isFinite(out[`loss/${name}`]!.data[0]), name).toBe(true);
          if (model.prediction) expect(out["prediction"]!.data.every(Number.isFinite)).toBe(true);
          // Inference mode draws nothing but masks and views; it never updates state.
          if (mode === "eval") expect(Object.keys(lowered.outputs.state)).toEqual([]);
        }
      });
    }
  }

  it("the MNIST autoencoder computes mse(g(z(f(x))), x) with its initial weights", () => {
    const program = checkFile("mnist-autoencoder.repr");
    const lowered = lowerModel(program, "Autoencoder", { batch: 2, mode: "train" });
    expect(lowered.params.map((p) => p.name)).toEqual([
      "f.1.weight", "f.1.bias", "f.3.weight", "f.3.bias", "z.weight", "z.bias",
      "g.0.weight", "g.0.bias", "g.2.weight", "g.2.bias", "g.4.weight", "g.4.bias",
    ]);
    const feeds = initialFeeds(lowered);
    const out = runLowered(lowered, feeds);
    const dense = (x: T, name: string, act: (v: number) => number = (v) => v): T => {
      const y = naiveLinear(x, feeds[`${name}.weight`]!, feeds[`${name}.bias`]!);
      return { shape: y.shape, data: y.data.map(act) };
    };
    const relu = (v: number) => Math.max(v, 0);
    const image = feeds["image"]!;
    let h: T = { shape: [2, 784], data: image.data };
    h = dense(dense(h, "f.1", relu), "f.3", relu);
    h = dense(dense(dense(dense(h, "z"), "g.0", relu), "g.2", relu), "g.4", (v) => 1 / (1 + Math.exp(-v)));
    expectClose(out["prediction"]!.data, h.data);
    const mse = h.data.reduce((s, v, i) => s + (v - image.data[i]!) ** 2, 0) / h.data.length;
    expectClose(out["loss"]!.data, [mse]);
  });
});

describe("tensor names (spec/checkpoints.md)", () => {
  const named = `model Named {
  input image: f32[1, 28, 28]
  input label: label(classes: 10)
  encoder f = conv2d(filters: 8, stride: 2)
    -> batch_norm
    -> relu
    -> flatten
    -> dense(64)
    -> layer_norm
  bottleneck z = variational(dim: 16)
  decoder g = dense(784) -> sigmoid
  head W = classifier(classes: 10)
  loss pixels = bce(g(z(f(image))), image -> flatten)
  loss classify = cross_entropy(W(z(f(image))), label)
  output W(z(f(image)))
}
`;

  it("names every tensor of the spec's `Named` example as its table does", () => {
    const model = checked(named).models[0]!;
    const list = modelParams(model).map((p) => `${p.name} ${p.dtype} [${p.shape}]`);
    expect(list).toEqual([
      "f.0.weight f32 [8,1,3,3]", "f.0.bias f32 [8]",
      "f.1.weight f32 [8]", "f.1.bias f32 [8]", "f.1.running_mean f32 [8]", "f.1.running_var f32 [8]", "f.1.num_batches_tracked i32 []",
      "f.4.weight f32 [64,1568]", "f.4.bias f32 [64]",
      "f.5.weight f32 [64]", "f.5.bias f32 [64]",
      "z.mu.weight f32 [16,64]", "z.mu.bias f32 [16]", "z.logvar.weight f32 [16,64]", "z.logvar.bias f32 [16]",
      "g.0.weight f32 [784,16]", "g.0.bias f32 [784]",
      "W.weight f32 [10,16]", "W.bias f32 [10]",
    ]);
  });

  it("marks what weight decay applies to, and numbers each part's layers for layer_decay", () => {
    const params = modelParams(checked(named).models[0]!);
    expect(params.filter((p) => p.decay).map((p) => p.name)).toEqual(["f.0.weight", "f.4.weight", "z.mu.weight", "z.logvar.weight", "g.0.weight", "W.weight"]);
    const layer = (name: string) => params.find((p) => p.name === name)!.layer;
    expect(["f.0.bias", "f.1.running_var", "f.4.weight", "f.5.bias", "z.logvar.bias", "g.0.weight", "W.bias"].map(layer)).toEqual([1, 2, 3, 4, 1, 1, 1]);
    const vit = modelParams(checked(`import { vit } from "std"\nmodel V {\n  input x: f32[4, 8]\n  encoder f = vit(dim: 8, depth: 2, heads: 2)\n  loss l = mse(f(x), x)\n}\n`).models[0]!);
    const layers = new Map(vit.map((p) => [p.name.split(".").slice(0, p.name.startsWith("f.2.") ? 3 : 2).join("."), p.layer]));
    expect([...layers]).toEqual([["f.0", 1], ["f.1", 2], ["f.2.0", 3], ["f.2.1", 4], ["f.3", 5]]);
  });

  it("names the tensors of blocks and data-flow bodies as the spec's `Blocks` example does", () => {
    const model = checked(`import { transformer_block } from "std"
model Blocks {
  input text: tokens(length: 16, vocab: 100)
  input label: label(classes: 2)
  encoder f = embedding(vocab: 100, dim: 32)
    -> positional
    -> transformer_block(dim: 32, heads: 4)
    -> mean_pool
  head W = classifier(classes: 2)
  loss classify = cross_entropy(W(f(text)), label)
  output W(f(text))
}
`).models[0]!;
    const list = modelParams(model).map((p) => `${p.name} [${p.shape}]`);
    expect(list).toEqual([
      "f.0.weight [100,32]", "f.1.weight [16,32]",
      "f.2.0.weight [32]", "f.2.0.bias [32]",
      ...["q", "k", "v", "o"].flatMap((w) => [`f.2.1.${w}.weight [32,32]`, `f.2.1.${w}.bias [32]`]),
      "f.2.2.weight [32]", "f.2.2.bias [32]",
      "f.2.3.0.weight [128,32]", "f.2.3.0.bias [128]", "f.2.3.2.weight [32,128]", "f.2.3.2.bias [32]",
      "W.weight [2,32]", "W.bias [2]",
    ]);
  });

  it("numbers a data-flow body's layers in text order, repeat's copies, and nested pipes", () => {
    const model = checked(`block two(dim: int) {
  input x
  let second = x -> dense(dim)
  let first = x -> layer_norm
  output first + second
}
model M {
  input x: f32[4]
  encoder f = repeat(2, two(dim: 4) -> (relu -> dense(4)))
  part h = f -> dense(3)
  loss l = mse(h(x), h(x))
}
`).models[0]!;
    expect(modelParams(model).map((p) => p.name)).toEqual([
      "f.0.0.0.weight", "f.0.0.0.bias", "f.0.0.1.weight", "f.0.0.1.bias", "f.0.1.1.weight", "f.0.1.1.bias",
      "f.1.0.0.weight", "f.1.0.0.bias", "f.1.0.1.weight", "f.1.0.1.bias", "f.1.1.1.weight", "f.1.1.1.bias",
      "h.1.weight", "h.1.bias",
    ]);
    // Lowering reads the same tensors: a dense weight [4, 4] at f.0.0.0, a layer norm [4] at f.0.0.1.
    const lowered = lowerSrc(`block two(dim: int) {\n  input x\n  let second = x -> dense(dim)\n  let first = x -> layer_norm\n  output first + second\n}\nmodel M {\n  input x: f32[4]\n  encoder f = two(dim: 4)\n  loss l = mse(f(x), x)\n}\n`);
    expect(lowered.params.filter((p) => p.used).map((p) => `${p.name} [${p.shape}]`)).toEqual(["0.weight [4,4]", "0.bias [4]", "1.weight [4]", "1.bias [4]"].map((s) => `f.${s}`));
  });
});

describe("initialization (spec/layers.md)", () => {
  const model = checked(`model I {\n  input x: f32[5]\n  input t: tokens(length: 1, vocab: 4)\n  encoder f = dense(3) -> layer_norm\n  part e = embedding(vocab: 4, dim: 3) -> positional(length: 1)\n  loss l = mse(f(x), e(t) -> flatten)\n}\n`).models[0]!;

  it("draws U(1/√in), N(σ) and constants from init/<name> at step 0", () => {
    const params = modelParams(model);
    const byName = new Map(params.map((p) => [p.name, p]));
    const w = initialValues(byName.get("f.0.weight")!, 42);
    w.forEach((v, i) => expect(v).toBe((1 / Math.sqrt(5)) * (2 * uniformAt(42, streamOf("init", "f.0.weight"), i, 0) - 1)));
    expect([...initialValues(byName.get("f.0.bias")!, 42)]).toEqual([0, 0, 0]);
    expect([...initialValues(byName.get("f.1.weight")!, 42)]).toEqual([1, 1, 1]);
    const e = initialValues(byName.get("e.0.weight")!, 42);
    e.forEach((v, i) => expect(v).toBe(normalAt(42, streamOf("init", "e.0.weight"), i, 0)));
    const p = initialValues(byName.get("e.1.weight")!, 42);
    p.forEach((v, i) => expect(v).toBe(0.02 * normalAt(42, streamOf("init", "e.1.weight"), i, 0)));
    expect([...initialValues(byName.get("f.0.weight")!, 43)]).not.toEqual([...w]);
    expect([...initialValues(byName.get("f.0.weight")!, 42, new Float32Array(15))]).toEqual([...new Float32Array(w)]);
  });

  it("the IR initializer gives the same numbers on the reference backend", () => {
    const params = modelParams(model);
    const out = run(initGraph(params), { "seed": { shape: [], data: [42] } });
    for (const p of params) expectClose([...out[p.name]!.data], [...initialValues(p, 42)], 1e-15);
  });
});

describe("steps", () => {
  const src = `model Net {
  input image: f32[8]
  input label: label(classes: 3)
  encoder f = dense(6) -> batch_norm -> dropout(rate: 0.5)
  head W = classifier(classes: 3)
  loss classify = cross_entropy(W(f(image)), label)
}
`;

  it("a frozen part runs in inference mode and is not trainable; train_mode opts back in", () => {
    const frozen = lowerSrc(src, { frozen: new Set(["f"]) });
    const ops = (l: LoweredModel) => graphNodes(l.graph).map((n) => n.op);
    expect(ops(frozen)).not.toContain("uniform");
    expect(Object.keys(frozen.outputs.state)).toEqual([]);
    expect(frozen.params.filter((p) => p.trainable).map((p) => p.name)).toEqual(["W.weight", "W.bias"]);
    const trainMode = lowerSrc(src, { frozen: new Set(["f"]), partModes: new Map([["f", "train" as const]]) });
    expect(ops(trainMode)).toContain("uniform");
    expect(Object.keys(trainMode.outputs.state).sort()).toEqual(["f.1.num_batches_tracked", "f.1.running_mean", "f.1.running_var"]);
    expect(trainMode.params.filter((p) => p.trainable).map((p) => p.name)).toEqual(["W.weight", "W.bias"]);
  });

  it("the prediction is the head along the encoder; the supervised objective trains it against labels", () => {
    const eval_ = lowerSrc(src, { mode: "eval" });
    const feeds = feedsFor(eval_, {}, (i) => i % 3);
    const out = runLowered(eval_, feeds);
    const supervised = lowerSrc(src, { mode: "eval", supervised: { labels: "label" } });
    const sup = runLowered(supervised, feeds);
    // With no output, the prediction is W(f(image)), whose cross-entropy is the model's own loss here.
    expectClose(sup["loss"]!.data, out["loss/classify"]!.data);
    expectClose(sup["prediction"]!.data, out["prediction"]!.data);
  });

  it("a replaced head has fresh tensors under the part's name", () => {
    const program = checked(`${src}
data digits {
  image: f32[8]
  label: label(classes: 3)
}
pipeline P {
  pretrain Net on digits.train
  freeze f
  replace W with dense(4) -> relu -> classifier(classes: 3)
  adapt on digits.train
}
`);
    const step = program.pipelines[0]!.steps.find((s) => s.kind === "replace")!;
    const replaced = new Map([["W", (step as { layer: import("../../compiler/check/program.js").LayerNode }).layer]]);
    const lowered = lowerModel(program, "Net", { batch: 2, mode: "train", frozen: new Set(["f"]), replaced, supervised: { labels: "label" } });
    expect(lowered.params.filter((p) => p.owner === "W").map((p) => `${p.name} [${p.shape}]`)).toEqual(["W.0.weight [4,6]", "W.0.bias [4]", "W.2.weight [3,4]", "W.2.bias [3]"]);
    expect(lowered.outputs.prediction!.shape).toEqual([2, 3]);
    const out = runLowered(lowered, feedsFor(lowered, {}, (i) => i % 2));
    expect(Number.isFinite(out["loss"]!.data[0])).toBe(true);
  });

  it("selects losses by name and says which exist", () => {
    expect(() => lowerSrc(src, { objectives: ["nope"] })).toThrow(LowerError);
    expect(() => lowerSrc(src, { objectives: ["nope"] })).toThrow(/has no loss 'nope' \(losses: classify\)/);
    expect(Object.keys(lowerSrc(src, { objectives: [] }).outputs.losses)).toEqual([]);
  });

  it("a fixed seed is baked in; without one the seed is an input", () => {
    const fixed = lowerSrc(src, { seed: 11 });
    expect(fixed.inputs.map((i) => i.name).sort()).toEqual(["image", "label", "step"]);
    const open = lowerSrc(src);
    const feeds = feedsFor(open, { "seed": { shape: [], data: [11] } }, (i) => i % 3);
    expectClose(runLowered(fixed, feeds)["loss"]!.data, runLowered(open, feeds)["loss"]!.data);
  });

  it("dropout in a value outside parts draws from its own stream", () => {
    const lowered = lowerSrc(`model D {\n  input x: f32[16]\n  let y = x -> dropout(rate: 0.5)\n  loss l = mse(y, x)\n}\n`, { values: ["y"] });
    const feeds = feedsFor(lowered);
    const y = runLowered(lowered, feeds)["value/y"]!;
    const stream = streamOf("dropout", "#1");
    expectClose(y.data, feeds["x"]!.data.map((v, i) => (uniformAt(5, stream, i, 3) < 0.5 ? 0 : 2 * v)));
  });
});

describe("pipeline steps", () => {
  const program = () =>
    checked(`model Net {
  input image: f32[8]
  input label: label(classes: 3)
  encoder f = dense(6) -> batch_norm -> relu
  head W = classifier(classes: 3)
  loss classify = cross_entropy(W(f(image)), label)
  loss self = mse(W(f(image)), W(f(image)))
}
data digits {
  image: f32[8]
  label: label(classes: 3)
}
pipeline P {
  pretrain Net on digits.train { batch: 4, objective: classify }
  freeze f { train_mode: true }
  replace W with dense(4) -> relu -> classifier(classes: 3)
  adapt on digits.train { optimizer: sgd(lr: 0.5) }
  unfreeze f
  adapt on digits.train { objective: [classify, self] }
  test on digits.test
}
`);

  it("carries frozen parts, their modes and replaced heads into each step's options", () => {
    const p = program();
    const pretrain = stepLowering(p, "P", 0);
    expect(pretrain.options).toMatchObject({ batch: 4, mode: "train", objectives: ["classify"] });
    const adapt = stepLowering(p, "P", 3);
    expect(adapt.options.supervised).toEqual({ labels: "label" });
    expect([...adapt.options.frozen!]).toEqual(["f"]);
    expect([...adapt.options.partModes!]).toEqual([["f", "train"]]);
    expect([...adapt.options.replaced!.keys()]).toEqual(["W"]);
    const later = stepLowering(p, "P", 5);
    expect([...later.options.frozen!]).toEqual([]);
    expect(later.options.objectives).toEqual(["classify", "self"]);
    expect(stepLowering(p, "P", 6).options).toMatchObject({ mode: "eval", objectives: ["classify", "self"] });
    expect(() => stepLowering(p, "P", 1)).toThrow(/'freeze', which computes nothing/);
    expect(() => stepLowering(p, "Q", 0)).toThrow(/no pipeline 'Q' \(pipelines: P\)/);
  });

  it("a training step updates only trainable tensors, by their gradients, and records running statistics", () => {
    const p = program();
    const s = stepLowering(p, "P", 3);
    const lowered = lowerModel(p, s.model, { ...s.options, batch: 4 });
    const step = lowerTrainStep(lowered, s.settings, s.options.frozen);
    const outputs = step.graph.outputs.map((o) => o.name);
    expect(outputs.filter((n) => n.startsWith("new:W"))).toEqual(["new:W.0.weight", "new:W.0.bias", "new:W.2.weight", "new:W.2.bias"]);
    expect(outputs.filter((n) => n.startsWith("new:f.")).sort()).toEqual(["new:f.1.num_batches_tracked", "new:f.1.running_mean", "new:f.1.running_var"]);
    // No gradient flows to a frozen tensor: nothing is computed from the loss's cotangent for f's weights.
    const feeds = feedsFor(lowered, {}, (i) => i % 3);
    const out = runLowered({ ...lowered, graph: step.graph }, feeds);
    // sgd(lr: 0.5): new = old − 0.5·∂loss/∂old; check one coordinate by central differences.
    const h = 1e-6;
    const bump = (d: number) => {
      const data = [...feeds["W.2.bias"]!.data];
      data[1]! += d;
      return runLowered(lowered, { ...feeds, "W.2.bias": { shape: [3], data } })["loss"]!.data[0]!;
    };
    const g = (bump(h) - bump(-h)) / (2 * h);
    expect(out["new:W.2.bias"]!.data[1]).toBeCloseTo(feeds["W.2.bias"]!.data[1]! - 0.5 * g, 8);
  });
});
