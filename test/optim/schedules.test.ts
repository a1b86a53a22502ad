/**
 * Learning-rate schedules as IR: their values at chosen updates (warmup
 * boundaries, the end of a cosine) against hand-computed numbers and the
 * plain implementation of spec/optimizers.md, and for random settings; `T`
 * fed as the input `updates` gives the same numbers as `T` built in.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { scheduledRate, scheduledRateValue, stepInput, UPDATES_INPUT, type Schedule } from "../../compiler/optim/schedules.js";
import { run } from "../../runtime/backends/reference/evaluate.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { graphNodes } from "../../runtime/ir/node.js";
import { plainRate } from "./plain.js";

/** `lrₜ` of the IR schedule at each of `ts`. */
function irRates(lr: number, s: Schedule, T: number, ts: readonly number[]): number[] {
  const b = new IRBuilder();
  const step = stepInput(b);
  const g = b.graph({ lr: scheduledRate(b, lr, s, step, T) });
  return ts.map((t) => run(g, { step: { shape: [], data: [t] } }).lr!.data[0]!);
}

/** `lrₜ` of the IR schedule with `T` fed as the input `updates`, and the graph's inputs. */
function fedRates(lr: number, s: Schedule, T: number, ts: readonly number[]): { rates: number[]; inputs: string[] } {
  const b = new IRBuilder();
  const g = b.graph({ lr: scheduledRate(b, lr, s, stepInput(b), "input") });
  const rates = ts.map((t) => run(g, { step: { shape: [], data: [t] }, [UPDATES_INPUT]: { shape: [], data: [T] } }).lr!.data[0]!);
  const inputs = graphNodes(g).flatMap((n) => (n.op === "input" ? [`${(n.attrs as { name: string }).name} ${n.dtype}[${n.shape.join()}]`] : []));
  return { rates, inputs };
}

const close = (a: readonly number[], e: readonly number[]): void => {
  expect(a.length).toBe(e.length);
  a.forEach((x, i) => expect(Math.abs(x - e[i]!), `t index ${i}: ${x} vs ${e[i]}`).toBeLessThanOrEqual(1e-15 + 1e-13 * Math.abs(e[i]!)));
};

describe("schedules", () => {
  it("constant is lr at every update", () => {
    close(irRates(0.3, { kind: "constant" }, 10, [0, 1, 9]), [0.3, 0.3, 0.3]);
  });

  it("warmup(steps) ramps as lr·(t+1)/steps and holds lr from t = steps", () => {
    // steps = 4: 1/4, 2/4, 3/4, 4/4 of lr, then lr.
    close(irRates(2, { kind: "warmup", steps: 4 }, 100, [0, 1, 2, 3, 4, 5, 99]), [0.5, 1, 1.5, 2, 2, 2, 2]);
    close(irRates(2, { kind: "warmup", steps: 1 }, 3, [0, 1, 2]), [2, 2, 2]);
  });

  it("cosine without warmup starts at lr and decays towards 0 at T", () => {
    const T = 10;
    const ts = [0, 5, 9, 10];
    const expected = [1, 0.5, 0.5 * (1 + Math.cos((Math.PI * 9) / 10)), 0];
    close(irRates(1, { kind: "cosine" }, T, ts), expected);
    close(irRates(1, { kind: "cosine", warmup: 0 }, T, ts), expected);
  });

  it("cosine(warmup) ramps linearly, then starts the cosine at lr at t = warmup", () => {
    const [lr, w, T] = [0.6, 3, 13];
    const ts = [0, 1, 2, 3, 4, 8, 12, 13];
    const cos = (t: number): number => 0.5 * lr * (1 + Math.cos((Math.PI * (t - w)) / (T - w)));
    close(irRates(lr, { kind: "cosine", warmup: w }, T, ts), [0.2, 0.4, 0.6, 0.6, cos(4), 0.3, cos(12), 0]);
  });

  it("a warmup longer than the step simply never finishes", () => {
    close(irRates(1, { kind: "cosine", warmup: 20 }, 10, [0, 9]), [1 / 20, 10 / 20]);
    close(irRates(1, { kind: "warmup", steps: 20 }, 10, [9]), [10 / 20]);
    close(irRates(1, { kind: "cosine", warmup: 10 }, 10, [9]), [1]);
  });

  it("match the spec's formulas for random settings", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-5, max: 2, noNaN: true }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
        fc.constantFrom("constant", "warmup", "cosine"),
        (lr, T, w, t0, kind) => {
          const t = t0 % T;
          const s: Schedule = kind === "constant" ? { kind } : kind === "warmup" ? { kind, steps: Math.max(w, 1) } : { kind, warmup: w };
          const expected = plainRate(lr, s, t, T);
          close(irRates(lr, s, T, [t]), [expected]);
          close([scheduledRateValue(lr, s, t, T)], [expected]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("with T fed as the input `updates`, give what T built in gives; only cosine reads it", () => {
    const ts = [0, 1, 2, 3, 7, 12, 13, 20];
    for (const [w, T] of [[0, 10], [3, 13], [5, 4], [2, 1]] as const) {
      const fed = fedRates(0.6, { kind: "cosine", warmup: w }, T, ts);
      expect(fed.rates, `warmup ${w}, T ${T}`).toEqual(irRates(0.6, { kind: "cosine", warmup: w }, T, ts));
      expect(fed.inputs.sort()).toEqual(["step i32[]", "updates i32[]"]);
    }
    expect(fedRates(0.6, { kind: "warmup", steps: 3 }, 10, [0]).inputs).toEqual(["step i32[]"]);
    expect(fedRates(0.6, { kind: "constant" }, 10, [0]).inputs).toEqual([]);
  });

  it("reuse the step input lowering made, and reject a wrong one", () => {
    const b = new IRBuilder();
    const step = b.input("step", [], "i32");
    expect(stepInput(b)).toBe(step);
    const c = new IRBuilder();
    c.input("step", [], "f32");
    expect(() => stepInput(c)).toThrow(/i32 scalar input/);
  });

  it("reject bad settings", () => {
    const b = new IRBuilder();
    const step = stepInput(b);
    expect(() => scheduledRate(b, 1, { kind: "warmup", steps: 0 }, step, 10)).toThrow(/steps must be/);
    expect(() => scheduledRate(b, 1, { kind: "cosine", warmup: -1 }, step, 10)).toThrow(/warmup must be/);
    expect(() => scheduledRate(b, 1, { kind: "constant" }, step, 0)).toThrow(/totalSteps/);
  });
});
