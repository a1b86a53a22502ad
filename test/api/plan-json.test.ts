/**
 * Plans as JSON (runtime/api/plan-json.ts): every number survives, the
 * non-finite ones and −0 included, and a plan of another format is refused.
 */
import { describe, expect, it } from "vitest";
import { planFromJson, planToJson } from "../../runtime/api/plan-json.js";
import { ReprError } from "../../runtime/api/errors.js";
import type { ModelPlan } from "../../runtime/api/plan.js";

describe("planToJson / planFromJson", () => {
  it("round-trips NaN, ±Infinity and −0 exactly", () => {
    const plan = { format: 1, model: "M", values: [NaN, Infinity, -Infinity, -0, 0, 1.5] } as unknown as ModelPlan;
    const back = planFromJson(planToJson(plan)) as unknown as { values: number[] };
    expect(back.values).toEqual([NaN, Infinity, -Infinity, -0, 0, 1.5]);
    expect(Object.is(back.values[3], -0)).toBe(true);
  });

  it("refuses other formats and bad JSON with a ReprError", () => {
    expect(() => planFromJson('{"format": 2}')).toThrow(/format 2; this runtime reads format 1/);
    expect(() => planFromJson("{")).toThrow(ReprError);
  });
});
