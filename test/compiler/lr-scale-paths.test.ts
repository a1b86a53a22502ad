/**
 * Learning rates by layer (spec/paths.md): an `lr_scale` table's keys are
 * parts and layer paths, as `freeze` takes them; a tensor's rate multiplier
 * is the scale of the most specific key covering it, times the layer decay.
 */
import { describe, expect, it } from "vitest";
import type { CheckedStep } from "../../compiler/check/program.js";
import { buildModelPlan } from "../../compiler/plan/build.js";
import { expectErrors, expectValid } from "./harness.js";

const model = `model M {
  input x: f32[8]
  input y: label(classes: 2)
  encoder f = dense(8) -> relu -> dense(8) as mid -> relu -> repeat(2, dense(8)) -> dense(4) as top
  head W = classifier(classes: 2)
  loss l = cross_entropy(W(f(x)), y)
  output W(f(x))
}

data rows {
  x: f32[8]
  y: label(classes: 2)
}
`;

/** The model with a pipeline whose adapt step (line 28) has `settings`. */
const pipeline = (settings: string, before = "") => `${model}\npipeline P {\n  pretrain M on rows.train\n${before ? `  ${before}\n` : ""}  adapt on rows.train { ${settings} }\n}\n`;

/** The adapt step's lr_scale, by path, as checked. */
function scales(settings: string): Record<string, number> {
  const r = expectValid(pipeline(settings));
  const adapt = r.program.pipelines[0]!.steps.find((s): s is Extract<CheckedStep, { kind: "adapt" }> => s.kind === "adapt")!;
  return { ...adapt.settings.lrScale };
}

/** The rate multiplier of each tensor the adapt step trains, from its plan. */
function rates(settings: string, before = ""): Record<string, number> {
  const r = expectValid(pipeline(settings, before));
  const plan = buildModelPlan(r.program, "M", { pipelines: ["P"] });
  const adapt = plan.pipelines[0]!.steps.find((s) => s.kind === "adapt")!;
  if (adapt.kind !== "adapt") throw new Error("no adapt step");
  return Object.fromEntries(adapt.training.optimizer!.params.map((p) => [p.name, p.rate]));
}

describe("lr_scale keys", () => {
  it("take parts, layer paths, ranges and stage names, resolved to the paths the tensors' names start with", () => {
    expect(scales("lr_scale: { f: 0.5, f.0: 0.1, f.4.1: 2, f.mid..3: 0.25, f.top: 3, W: 4 }")).toEqual({
      f: 0.5,
      "f.0": 0.1,
      "f.4.1": 2,
      "f.2": 0.25,
      "f.3": 0.25,
      "f.5": 3,
      W: 4,
    });
  });

  it("a path that names no layer is RC240, as in freeze; an unknown part is RC209", () => {
    const [a] = expectErrors(pipeline("lr_scale: { f.9: 0.1 }"), [{ code: "RC240", line: 17, column: 37 }]);
    expect(a!.message).toBe("'f.9' names no layer: 'f' has layers 0, 1, 2 (mid), 3, 4, 5 (top)");
    const [b] = expectErrors(pipeline("lr_scale: { f.4.0..2: 0.1 }"), [{ code: "RC240", line: 17, column: 37 }]);
    expect(b!.message).toBe("'f.4.0..2' names no layer: 'f.4' has layers 0 to 1");
    expectErrors(pipeline("lr_scale: { f.1.0: 0.1 }"), [{ code: "RC240", line: 17, column: 37 }]);
    expectErrors(pipeline("lr_scale: { g.1: 0.1 }"), [{ code: "RC209", line: 17, column: 37 }]);
  });

  it("a layer named by two keys is RC245: the same key twice, overlapping ranges, a stage by number and by name", () => {
    const [a] = expectErrors(pipeline("lr_scale: { f.0..2: 0.1, f.2..3: 0.5 }"), [{ code: "RC245", line: 17, column: 50 }]);
    expect(a!.message).toBe("'f.2' is given two learning-rate scales, by 'f.0..2' and by 'f.2..3'");
    const [b] = expectErrors(pipeline("lr_scale: { f.2: 0.1, f.mid: 0.5 }"), [{ code: "RC245", line: 17, column: 47 }]);
    expect(b!.message).toBe("'f.2' is given two learning-rate scales, by 'f.2' and by 'f.mid'");
    expectErrors(pipeline("lr_scale: { f: 0.1, f: 0.5 }"), [{ code: "RC245", line: 17, column: 45 }]);
  });

  it("a scale is a number > 0 (RC307)", () => {
    const diags = expectErrors(pipeline("lr_scale: { f.0: 0 }"), [{ code: "RC307", line: 17, column: 42 }]);
    expect(diags[0]!.message).toMatch(/f\.0/);
  });

  it("a path is a key only of an lr_scale table (RC122)", () => {
    const [a] = expectErrors(pipeline("epochs.2: 1"), [{ code: "RC122", line: 17, column: 25 }]);
    expect(a!.message).toBe("'epochs.2': a key here is a name, as in 'epochs'; layer paths are keys only of an 'lr_scale' table");
    // Only the table itself takes paths, not a map inside it.
    expectErrors(pipeline("lr_scale: { f: { f.2: 1 } }"), [{ code: "RC122", line: 17, column: 42 }]);
  });
});

describe("per-tensor rate multipliers of a compiled step", () => {
  it("are the scale of the most specific key covering each tensor (a layer beats its part), 1 for the rest", () => {
    const r = rates("lr_scale: { f: 0.5, f.0: 0.1, f.4.1: 2, f.mid..3: 0.25, f.top: 3 }");
    expect(r).toEqual({
      "f.0.weight": 0.1,
      "f.0.bias": 0.1,
      "f.2.weight": 0.25,
      "f.2.bias": 0.25,
      "f.4.0.weight": 0.5,
      "f.4.0.bias": 0.5,
      "f.4.1.weight": 2,
      "f.4.1.bias": 2,
      "f.5.weight": 3,
      "f.5.bias": 3,
      "W.weight": 1,
      "W.bias": 1,
    });
  });

  it("multiply with layer_decay, and skip frozen layers", () => {
    const plain = rates("layer_decay: 0.5", "freeze f.0");
    const scaled = rates("layer_decay: 0.5, lr_scale: { f.4: 0.1, W: 3 }", "freeze f.0");
    expect(Object.keys(scaled)).toEqual(Object.keys(plain));
    expect(Object.keys(scaled)).not.toContain("f.0.weight");
    for (const [name, rate] of Object.entries(scaled)) {
      const key = name.startsWith("f.4.") ? 0.1 : name.startsWith("W.") ? 3 : 1;
      expect(rate, name).toBeCloseTo(plain[name]! * key, 14);
    }
    // Layer decay makes the rates differ by layer, so the comparison above means something.
    expect(new Set(Object.values(plain)).size).toBeGreaterThan(1);
  });
});
