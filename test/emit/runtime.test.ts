/**
 * A generated module on the real runtime: the class the module exports runs
 * the plan's functions and training step through `Model` on the CPU backend
 * and gets what `Model` itself computes from the same plan.
 */
import { runInThisContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { emitModule } from "../../compiler/emit/index.js";
import * as runtime from "../../runtime/index.js";
import { transpile } from "./harness.js";
import { tinyPlan } from "./plans.js";

type Generated = Record<string, (...args: unknown[]) => unknown> & { readonly backend?: string };

/** The module's class, with the runtime as `repr/runtime`. */
function load(): Generated {
  const { js } = transpile(emitModule(tinyPlan(), { runtimeImport: "repr/runtime" }));
  const exports: Record<string, unknown> = {};
  const run = runInThisContext(`(function (exports, require) {${js}\n})`) as (e: unknown, r: (spec: string) => unknown) => void;
  run(exports, () => runtime);
  return exports.TinyClassifier as Generated;
}

describe("a generated module on the real runtime", () => {
  it("computes what Model computes from the same plan", async () => {
    const cls = load();
    const model = (await cls.create!({ backend: "cpu", seed: 1 })) as Generated;
    const direct = await runtime.Model.create(tinyPlan(), { backend: "cpu", seed: 1 });
    const image = new Float32Array([1, 2, 3, -1, -2, -3, 0.5, 0, 2]);
    expect(model.backend).toBe("cpu");
    expect(await model.encode!(image)).toEqual(await direct.call("encode", { image }));
    expect(await model.classify!(image, 3)).toEqual(await direct.call("classify", { image }, 3));
    const batch = { image: new Float32Array(12).fill(1), label: new Int32Array(4) };
    expect(await model.trainStep!(batch)).toBe(await direct.trainStep("train", batch));
    const data = { image: new Float32Array(24).fill(0.5), label: new Int32Array(8) };
    expect(await model.evaluate!(data)).toBe(await direct.evaluate("train", data));
    const fitted = (await model.fit!(data, { updates: 2 })) as runtime.FitResult;
    expect(fitted.updates).toBe(2);
    const bytes = (await model.save!()) as Uint8Array;
    model.freeze!("f");
    await model.replaceHead!("h", 3);
    await model.load!(bytes);
    expect(await model.save!()).toEqual(bytes);
    (model as unknown as Disposable)[Symbol.dispose]();
    direct.dispose();
  });

  it("runs a pipeline as Pipeline runs it, and hands back an instance of the class", async () => {
    const cls = load();
    const train = { image: Float32Array.from({ length: 18 }, (_, i) => Math.sin(i)), label: Int32Array.from({ length: 6 }, (_, i) => i % 2) };
    const options = { backend: "cpu", data: { tiny: { train, test: train } } };
    const result = (await cls.runTrain!(options)) as { kind: string; history: runtime.RunHistory; model: Generated };
    const pipeline = await runtime.Pipeline.create(tinyPlan(), "Train", { backend: "cpu" });
    const direct = await pipeline.run(options);
    if (result.kind !== "done" || direct.kind !== "done") throw new Error("a run stopped");
    expect(result.history.series.map((s) => s.losses.length)).toEqual([3]);
    expect(result.history.series).toEqual(direct.history.series);
    expect(result.model).toBeInstanceOf(cls as unknown as new () => unknown);
    expect(await result.model.save!()).toEqual(await direct.model.save());
    direct.model.dispose();
    (result.model.dispose as () => void)();
  });
});
