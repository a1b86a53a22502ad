import { describe, expect, it } from "vitest";
import { formatShapes } from "../../compiler/check/check.js";
import { expectValid, modelOf } from "./harness.js";

const src = `/// Digits in, digits out.
model DigitsAE {
  /// One image.
  input image: f32[1, 28, 28]
  /// The encoder.
  encoder f = flatten -> dense(256) -> relu -> dense(64)
  bottleneck z = variational(dim: 16)
  decoder g = dense(784) -> sigmoid -> reshape([1, 28, 28])
  head W = classifier(classes: 10)
  loss recon = bce(g(z(f(image))), image)
}
data digits {
  image: f32[1, 28, 28]
  label: label(classes: 10)
}
pipeline Probe {
  pretrain DigitsAE on digits.train { epochs: 2, optimizer: adamw(lr: 0.001) }
  freeze f, z
  replace W with classifier(classes: 3)
  adapt on digits.train(labels: [1, 2, 3], per_class: 5) { epochs: 3 }
  test on digits.test(labels: [1, 2, 3]) { metrics: [accuracy] }
}
`;

describe("the checked program", () => {
  it("exposes inputs, parts with shapes, parameters and docs, losses and the prediction", () => {
    const m = modelOf(src);
    expect(m.doc).toBe("Digits in, digits out.");
    expect(m.inputs.map((i) => [i.name, i.type, i.doc])).toEqual([["image", { dtype: "f32", shape: [1, 28, 28], batched: true }, "One image."]]);
    expect(m.parts.map((p) => [p.role, p.name, p.input?.shape, p.output?.shape, p.params])).toEqual([
      ["encoder", "f", [1, 28, 28], [64], 784 * 256 + 256 + 256 * 64 + 64],
      ["bottleneck", "z", [64], [16], 2 * (64 * 16 + 16)],
      ["decoder", "g", [16], [1, 28, 28], 16 * 784 + 784],
      ["head", "W", [16], [10], 170],
    ]);
    expect(m.parts[0]!.doc).toBe("The encoder.");
    expect(m.totalParams).toBe(m.parts.reduce((s, p) => s + p.params, 0));
    expect(m.losses).toMatchObject([{ name: "recon", objectives: ["bce"], regularizers: ["z: 1·KL(q(z|x) ‖ N(0, I))"], on: null }]);
    expect(m.prediction).toMatchObject({ input: "image", parts: ["f", "z", "W"], output: null, type: { shape: [10] } });
  });

  it("keeps a resolved layer tree with concrete arguments", () => {
    const f = modelOf(src).parts[0]!.layer!;
    expect(f.kind).toBe("sequence");
    if (f.kind !== "sequence") return;
    expect(f.layers.map((l) => (l.kind === "builtin" ? [l.name, l.args, l.params] : l.kind))).toEqual([
      ["flatten", {}, 0],
      ["dense", { units: 256, bias: true }, 784 * 256 + 256],
      ["relu", {}, 0],
      ["dense", { units: 64, bias: true }, 256 * 64 + 64],
    ]);
  });

  it("keeps the model graph in dependency order", () => {
    const m = modelOf(src);
    const ops = m.graph.nodes.map((n) => (n.op === "apply" ? `apply ${n.part}` : n.op === "call" ? `call ${n.name}` : n.op));
    expect(ops).toEqual(["input", "apply f", "apply z", "apply g", "call bce"]);
    for (const n of m.graph.nodes) if (n.op === "apply") expect(n.input).toBeLessThan(n.id);
  });

  it("records the pipeline's steps with resolved data and settings", () => {
    const { program } = expectValid(src);
    expect(program.data).toEqual([expect.objectContaining({ name: "digits", fields: [expect.objectContaining({ name: "image" }), expect.objectContaining({ name: "label" })] })]);
    const [pre, freeze, replace, adapt] = program.pipelines[0]!.steps;
    expect(pre).toMatchObject({ kind: "pretrain", model: "DigitsAE", trainable: ["f", "z", "g"], settings: { epochs: 2, optimizer: { name: "adamw", args: { lr: 0.001, weight_decay: 0.01 } }, objectives: ["recon"] } });
    expect(freeze).toMatchObject({ kind: "freeze", parts: ["f", "z"] });
    expect(replace).toMatchObject({ kind: "replace", part: "W", params: 17 * 3 });
    expect(adapt).toMatchObject({ kind: "adapt", trainable: ["W"], data: { labels: [1, 2, 3], perClass: 5, classes: 3 } });
  });

  it("formats the shapes table", () => {
    const { program } = expectValid(src);
    expect(formatShapes(program)).toBe(
      [
        "model DigitsAE  # Digits in, digits out.",
        "  input image   f32[B, 1, 28, 28]",
        "  encoder f     [B, 1, 28, 28] -> [B, 64]  217,408 params  # The encoder.",
        "  bottleneck z  [B, 64] -> [B, 16]           2,080 params",
        "  decoder g     [B, 16] -> [B, 1, 28, 28]   13,328 params",
        "  head W        [B, 16] -> [B, 10]             170 params",
        "  loss recon    bce + z: 1·KL(q(z|x) ‖ N(0, I))",
        "  predict       image -> f -> z -> W: [B, 10]",
        "  total                                    232,986 params",
        "",
        "pipeline Probe (model DigitsAE)",
        "  pretrain DigitsAE  on digits.train; trains f, z, g; objectives recon",
        "  freeze             f, z",
        "  replace W          [B, 16] -> [B, 3]  51 params",
        "  adapt              on digits.train(per_class: 5, labels: [1, 2, 3]); trains W",
        "  test               on digits.test(labels: [1, 2, 3]); metrics accuracy",
      ].join("\n"),
    );
  });

  it("writes the prediction from what the encoder receives, with masks and views off", () => {
    const mlm = `/// A masked language model, whose doc comment is long enough to be cut at a word in the table.
model M {
  input text: tokens(length: 16, vocab: 100, special: [mask])
  mask m = tokens(text, ratio: 0.25, mask_token: mask)
  /// Token vectors.
  encoder f = embedding(vocab: 100, dim: 8) -> mean_pool
  head W = dense(100)
  loss l = mse(W(f(m.input)), W(f(m.input)))
}`;
    const m = modelOf(mlm);
    expect(m.prediction).toMatchObject({ input: "text", source: "m.input (masks off)", parts: ["f", "W"] });
    const shapes = formatShapes(expectValid(mlm).program).split("\n");
    expect(shapes[0]).toBe("model M  # A masked language model, whose doc comment is long enough to be…");
    expect(shapes).toContain("  encoder f   [B, 16] -> [B, 8]     800 params  # Token vectors.");
    expect(shapes).toContain("  predict     m.input (masks off) -> f -> W: [B, 100]");

    const piped = "model P {\n  input image: f32[1, 4, 4]\n  encoder f = dense(8)\n  head W = dense(10)\n  let h = image -> flatten\n  views a, b = augment(h, noise: 0.1)\n  loss l = mse(W(f(a)), W(f(b)))\n}";
    expect(modelOf(piped).prediction).toMatchObject({ source: "a (views off)", parts: ["f", "W"] });
    const direct = "model P {\n  input image: f32[1, 4, 4]\n  encoder f = dense(8)\n  head W = dense(10)\n  loss l = mse(W(f(image -> flatten)), W(f(image -> flatten)))\n}";
    expect(modelOf(direct).prediction).toMatchObject({ source: "image -> flatten", parts: ["f", "W"] });
  });
});
