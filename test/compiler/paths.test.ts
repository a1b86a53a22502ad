/**
 * Layer paths in freeze and unfreeze steps (spec/paths.md): a part's layers
 * by number as its tensors' names count them, ranges of stages, and what
 * each step leaves frozen.
 */
import { describe, expect, it } from "vitest";
import type { CheckedStep } from "../../compiler/check/program.js";
import { FrozenLayers } from "../../compiler/check/frozen-layers.js";
import { expectErrors, expectValid } from "./harness.js";

const model = `model M {
  input x: f32[8]
  input y: label(classes: 2)
  encoder f = dense(8) -> relu -> transformer_block(dim: 8, heads: 2) -> repeat(2, dense(8) -> relu)
  head W = classifier(classes: 2)
  loss l = cross_entropy(W(f(x -> reshape(shape: [1, 8])) -> flatten), y)
  output W(f(x -> reshape(shape: [1, 8])) -> flatten)
}

data rows {
  x: f32[8]
  y: label(classes: 2)
}
`;

const pipeline = (...steps: string[]) => `import { transformer_block } from "std"\n${model}\npipeline P {\n  pretrain M on rows.train\n${steps.map((s) => `  ${s}\n`).join("")}}\n`;

/** The parts and paths each freeze or unfreeze step names, checked. */
function targets(...steps: string[]): string[][] {
  const r = expectValid(pipeline(...steps));
  return r.program.pipelines[0]!.steps.filter((s): s is Extract<CheckedStep, { kind: "freeze" | "unfreeze" }> => s.kind === "freeze" || s.kind === "unfreeze").map((s) => [...s.parts]);
}

describe("freeze and unfreeze targets", () => {
  it("name parts, layers by path, and ranges of stages, as the tensors' names count them", () => {
    expect(targets("freeze f.0..1", "unfreeze f.0", "freeze f.2.1, f.3.1.0", "freeze W")).toEqual([["f.0", "f.1"], ["f.0"], ["f.2.1", "f.3.1.0"], ["W"]]);
  });

  it("a path that names no layer is RC240, saying what the layer has", () => {
    const [a] = expectErrors(pipeline("freeze f.7"), [{ code: "RC240", line: 18, column: 10 }]);
    expect(a!.message).toBe("'f.7' names no layer: 'f' has layers 0 to 3");
    const [b] = expectErrors(pipeline("freeze f.1.0"), [{ code: "RC240", line: 18, column: 10 }]);
    expect(b!.message).toBe("'f.1.0' names no layer: 'f.1' has no layers inside");
    const [c] = expectErrors(pipeline("freeze f.2..0"), [{ code: "RC240", line: 18, column: 10 }]);
    expect(c!.message).toBe("'f.2..0' names no layer: the range 2..0 runs backwards");
    const [d] = expectErrors(pipeline("unfreeze f.3.0..2"), [{ code: "RC240", line: 18, column: 12 }]);
    expect(d!.message).toBe("'f.3.0..2' names no layer: 'f.3' has layers 0 to 1");
    // A range's ends are stage numbers (a syntax error otherwise).
    expectErrors(pipeline("freeze f.0..x"), [{ code: "RC104", line: 18, column: 15 }]);
  });

  it("freezing what is frozen, and unfreezing what is trainable, are warnings (RC524)", () => {
    const [a] = expectErrors(pipeline("freeze f", "freeze f.2"), [{ code: "RC524", line: 19, column: 10 }]);
    expect(a!.message).toBe("part 'f.2' is already frozen");
    expectErrors(pipeline("freeze f.2", "unfreeze f.3"), [{ code: "RC524", line: 19, column: 12 }]);
    // Unfreezing a part with a frozen layer inside is not a no-op; nor is unfreezing a layer of a frozen part.
    targets("freeze f.2", "unfreeze f");
    targets("freeze f", "unfreeze f.3.1");
  });
});

describe("FrozenLayers", () => {
  // f: four stages; f.3: two copies; f.3.1: two stages.
  const below = (path: string) => ({ f: ["0", "1", "2", "3"], "f.3": ["0", "1"], "f.3.1": ["0", "1"] })[path] ?? null;

  it("unfreezing a layer inside a frozen part splits it into the layers beside the path, keeping their mode", () => {
    const frozen = new FrozenLayers(below);
    frozen.freeze("f", "train");
    frozen.unfreeze("f.3.1.0");
    expect([...frozen.modes()].sort()).toEqual([["f.0", "train"], ["f.1", "train"], ["f.2", "train"], ["f.3.0", "train"], ["f.3.1.1", "train"]]);
    expect([frozen.covers("f.3.1.1.weight"), frozen.covers("f.3.1.0.weight"), frozen.covers("f.30.weight"), frozen.touches("f.3")]).toEqual([true, false, false, true]);
  });

  it("freezing a path absorbs what was frozen inside it; unfreezing it releases all of it", () => {
    const frozen = new FrozenLayers(below);
    frozen.freeze("f.3.1", "eval");
    frozen.freeze("f.0", "eval");
    frozen.freeze("f.3", "train");
    expect([...frozen.modes()].sort()).toEqual([["f.0", "eval"], ["f.3", "train"]]);
    frozen.unfreeze("f");
    expect([...frozen.modes()]).toEqual([]);
  });
});

describe("tied", () => {
  const ae = (decoder: string) => `model M {\n  input x: f32[8]\n  encoder f = dense(6) -> relu -> dense(4)\n  decoder g = ${decoder}\n  loss l = mse(g(f(x)), x)\n}\n`;

  it("maps what the named layer makes back to what it takes, owning no parameters", () => {
    const r = expectValid(ae("tied(f.2) -> relu -> tied(f.0)"));
    const g = r.program.models[0]!.parts.find((p) => p.name === "g")!;
    expect([g.input?.shape, g.output?.shape, g.params]).toEqual([[4], [8], 0]);
  });

  it("names what is wrong: not a linear layer (RC441), no such layer (RC240), the wrong width (RC401), not applied yet (RC440)", () => {
    const [a] = expectErrors(ae("tied(f.1)"), [{ code: "RC441", line: 4, column: 20 }]);
    expect(a!.message).toBe("tied(f.1) needs a dense, classifier or embedding layer, but 'f.1' is relu");
    const [b] = expectErrors(ae("tied(f.3)"), [{ code: "RC240", line: 4, column: 20 }]);
    expect(b!.message).toBe("'f.3' names no layer: 'f' has layers 0 to 2");
    const [c] = expectErrors(ae("tied(f.0)"), [{ code: "RC401", line: 4, column: 15 }]);
    expect(c!.message).toBe("tied(f.0) expects f32[..., 6] (what 'f.0' makes), but the encoder 'f' is f32[B, 4]");
    expectErrors(`model M {\n  input x: f32[8]\n  input c: f32[4]\n  encoder f = dense(4)\n  decoder g = tied(f)\n  let y = g(c)\n  loss l = mse(y, x) + mse(f(x), c)\n}\n`, [{ code: "RC440", line: 5, column: 20 }]);
    expectErrors(ae("tied(dense(3))"), [{ code: "RC306", line: 4, column: 20 }]);
  });
});

describe("values inside applications and named outputs", () => {
  const head = `import { transformer_block } from "std"\nmodel M {\n  input x: f32[4, 8]\n  encoder f = dense(8) -> transformer_block(dim: 8, heads: 2)\n  loss l = mse(f(x), x)\n`;

  it("a path reads a stage's output, a block's let, attention's weights; named outputs are values of their own", () => {
    const r = expectValid(`${head}  let a = f(x).1.h\n  let b = a + f(x).0\n  output weights_map = f(x).1.1.weights\n  output f(x)\n}\n`);
    const m = r.program.models[0]!;
    expect(m.outputs.map((o) => [o.name, o.type.shape])).toEqual([["weights_map", [2, 4, 4]]]);
    expect(m.output).not.toBeNull();
  });

  it("names what is missing (RC442): a value no layer computed, a layer or value the layer does not have", () => {
    const [a] = expectErrors(`${head}  let a = x.0\n}\n`, [{ code: "RC442", line: 6, column: 13 }]);
    expect(a!.message).toBe("input 'x' has no layer or value '0' inside");
    const [b] = expectErrors(`${head}  let a = f(x).1.hh\n}\n`, [{ code: "RC442", line: 6, column: 18 }]);
    expect(b!.notes).toEqual(["it is block 'transformer_block', which has layers 0 to 3 and has the values x, h"]);
    const [c] = expectErrors(`${head}  let a = f(x).0.weights\n}\n`, [{ code: "RC442", line: 6, column: 18 }]);
    expect(c!.notes).toEqual(["it is dense, which has no layers inside"]);
  });

  it("named outputs: several, besides the one output; a name used twice is RC202; a block's output has none (RC241)", () => {
    expectValid(`${head}  output a = f(x).0\n  output b = f(x).1\n  output f(x)\n}\n`);
    expectErrors(`${head}  let a = x\n  output a = f(x).0\n}\n`, [{ code: "RC202", line: 7, column: 10 }]);
    expectErrors(`block b() {\n  input x\n  output y = x\n}\n`, [{ code: "RC241", line: 3, column: 10 }]);
  });
});

describe("stage names ('as')", () => {
  const src = (extra: string, steps = "") => `model M {
  input image: f32[1, 28, 28]
  input label: label(classes: 10)
  encoder f = flatten -> dense(32) as hidden -> relu -> dense(8) as code -> relu
  decoder g = tied(f.code) -> relu -> tied(f.hidden) -> sigmoid
  head W = classifier(classes: 10)
  loss rec = mse(g(f(image)), image -> flatten)
  loss classify = cross_entropy(W(f(image)), label)
  output W(f(image))
${extra}}

data digits {
  image: f32[1, 28, 28]
  label: label(classes: 10)
}

pipeline P {
  pretrain M on digits.train { objective: rec }
${steps}}
`;

  it("a path may use a stage's name instead of its number, in freeze, tied and values", () => {
    const r = expectValid(src("  let codes = f(image).code\n", "  freeze f.hidden, f.code..4\n"));
    const freeze = r.program.pipelines[0]!.steps[1]!;
    expect(freeze.kind === "freeze" && freeze.parts).toEqual(["f.1", "f.3", "f.4"]);
    const m = r.program.models[0]!;
    expect(m.lets.find((l) => l.name === "codes")?.type.shape).toEqual([8]);
    expect(m.parts.find((p) => p.name === "g")?.output?.shape).toEqual([784]);
  });

  it("an unknown name lists the stages with theirs (RC240); a name used twice in a pipe is RC202; names belong to layer pipes (RC242, RC121)", () => {
    const [a] = expectErrors(src("", "  freeze f.nope\n"), [{ code: "RC240", line: 19, column: 10 }]);
    expect(a!.message).toBe("'f.nope' names no layer: 'f' has layers 0, 1 (hidden), 2, 3 (code), 4");
    expectErrors(`model M {\n  input x: f32[4]\n  encoder f = dense(4) as a -> relu as a\n  loss l = mse(f(x), x)\n}\n`, [{ code: "RC202", line: 3, column: 40 }]);
    expectErrors(`model M {\n  input x: f32[4]\n  encoder f = dense(4)\n  let y = x -> f as a -> relu\n  loss l = mse(y, x)\n}\n`, [{ code: "RC242", line: 4, column: 21 }]);
    expectErrors(`model M {\n  input x: f32[4]\n  encoder f = dense(4)\n  loss l = mse(f(x) + x as a, x)\n}\n`, [{ code: "RC121", line: 4, column: 28 }]);
  });
});
