/**
 * Plans as JSON (runtime/api/plan-json.ts): every number survives, the
 * non-finite ones and −0 included, a compiled plan with the feeds its
 * training steps ask for comes back equal, and a plan of another format is
 * refused.
 */
import { describe, expect, it } from "vitest";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { planFromJson, planToJson } from "../../runtime/api/plan-json.js";
import { ReprError } from "../../runtime/api/errors.js";
import { PLAN_FORMAT, type ModelPlan } from "../../runtime/api/plan.js";
import { examplePrograms } from "../gradients/helpers.js";
import { pipelineTraining } from "../plan/harness.js";

describe("planToJson / planFromJson", () => {
  it("round-trips NaN, ±Infinity and −0 exactly", () => {
    const plan = { format: PLAN_FORMAT, model: "M", values: [NaN, Infinity, -Infinity, -0, 0, 1.5] } as unknown as ModelPlan;
    const back = planFromJson(planToJson(plan)) as unknown as { values: number[] };
    expect(back.values).toEqual([NaN, Infinity, -Infinity, -0, 0, 1.5]);
    expect(Object.is(back.values[3], -0)).toBe(true);
  });

  it("round-trips compiled plans whose steps need noise tables and the run's number of updates", () => {
    const programs = examplePrograms();
    // A plan carries its pipelines: their steps, data declarations and batch graphs go through JSON too.
    const plan = (file: string, model: string): ModelPlan => buildModelPlan(programs.find((p) => p.file === file)!.program, model);
    const skipgram = plan("skipgram.repr", "SkipGram");
    const mae = plan("masked-autoencoder.repr", "MAE");
    expect(pipelineTraining(skipgram, "Train")[0]!.noise.length).toBe(1);
    expect(pipelineTraining(mae, "LinearProbe")[0]!.updatesInput).toBe("updates");
    expect(mae.data.length).toBeGreaterThan(0);
    for (const p of [skipgram, mae]) expect(planFromJson(planToJson(p))).toEqual(p);
  });

  it("refuses other formats and bad JSON with a ReprError", () => {
    // The format is 4 since test steps' metrics name their targets.
    expect(PLAN_FORMAT).toBe(4);
    expect(() => planFromJson('{"format": 3}')).toThrow(/format 3; this runtime reads format 4/);
    expect(() => planFromJson("{")).toThrow(ReprError);
  });
});
