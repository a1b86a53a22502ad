/** What a generated module's doc comments say about its methods (compiler/emit/describe.ts). */
import { describe, expect, it } from "vitest";
import { describeModule } from "../../compiler/emit/describe.js";
import type { ModelPlan } from "../../runtime/api/plan.js";
import { tinyPlan } from "./plans.js";

/** The doc lines of the generated `fit` method for a plan whose one training step has `updates` and `epochs`. */
function fitDoc(updates: number, epochs: number): string {
  const plan = tinyPlan();
  const training = plan.training.map((t) => ({ ...t, updates, epochs }));
  const d = describeModule({ ...plan, training } satisfies ModelPlan, { runtimeImport: "repr/runtime" });
  const fit = d.classes[0]!.methods.find((m) => m.kind === "fit");
  expect(fit, "the class has a fit method").toBeDefined();
  return fit!.doc.lines.join("\n");
}

describe("the fit method's doc", () => {
  it("gives the step's number of updates when the step sets `steps`", () => {
    expect(fitDoc(10, 1)).toBe("Trains with the training step `train`: 10 updates in batches of 4, unless options say otherwise.");
    expect(fitDoc(1, 1)).toBe("Trains with the training step `train`: 1 update in batches of 4, unless options say otherwise.");
  });

  it("gives the step's epochs, not 0 updates, when the step trains by epochs", () => {
    const doc = fitDoc(0, 3);
    expect(doc).toBe("Trains with the training step `train`: 3 passes over the data in batches of 4, unless options say otherwise.");
    expect(doc).not.toMatch(/\b0 updates/);
    expect(fitDoc(0, 1)).toContain(": 1 pass over the data in batches of 4");
  });
});
