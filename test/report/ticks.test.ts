import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { linearAxis, logAxis, tickLabel } from "../../cli/report/ticks.js";

describe("linearAxis", () => {
  it("ticks round numbers and extends the range to them", () => {
    expect(linearAxis(0, 1)).toEqual({ lo: 0, hi: 1, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] });
    expect(linearAxis(0.13, 0.67)).toEqual({ lo: 0.1, hi: 0.7, ticks: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7] });
    expect(linearAxis(0, 1250, 8, true).ticks).toEqual([0, 200, 400, 600, 800, 1000, 1200, 1400]);
  });

  it("never ticks half steps on an integer axis", () => {
    expect(linearAxis(0, 3, 8, true).ticks).toEqual([0, 1, 2, 3]);
    expect(linearAxis(5, 5, 8, true)).toEqual({ lo: 4, hi: 6, ticks: [4, 5, 6] });
  });

  it("widens an empty range around its value", () => {
    expect(linearAxis(0, 0).lo).toBeLessThan(0);
    const axis = linearAxis(2, 2);
    expect(axis.lo).toBeLessThan(2);
    expect(axis.hi).toBeGreaterThan(2);
  });

  it("stays finite and short for ranges at the limits of floating point", () => {
    for (const [a, b] of [
      [1, 1 + 2 ** -52],
      [-1e308, 1e308],
      [0, 1e-300],
      [1e20, 1e20 + 1e5],
      // Subnormal ranges, whose step (range / count) underflows to 0: the loop over ticks never ended.
      [0, 5e-324],
      [-5e-324, 5e-324],
      [1e-320, 1.5e-320],
      [-1e-310, 1e-310],
    ] as const) {
      for (const integer of [true, false]) {
        const { lo, hi, ticks } = linearAxis(a, b, 8, integer);
        expect(Number.isFinite(lo) && Number.isFinite(hi), `${a}..${b}`).toBe(true);
        // Covering the range, clamped to ±1e300.
        expect(lo).toBeLessThanOrEqual(Math.max(a, -1e300));
        expect(hi).toBeGreaterThanOrEqual(Math.min(b, 1e300));
        expect(ticks.length).toBeGreaterThanOrEqual(2);
        expect(ticks.length).toBeLessThanOrEqual(12);
        for (let i = 1; i < ticks.length; i++) expect(ticks[i]!).toBeGreaterThan(ticks[i - 1]!);
      }
    }
  });

  it("gives a few finite ascending ticks for any two finite numbers", () => {
    // The loss curve's property draws any doubles, subnormals and ±1e308 included; a bad axis there killed the test process.
    const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(finite, finite, fc.integer({ min: 2, max: 10 }), fc.boolean(), (x, y, count, integer) => {
        const { lo, hi, ticks } = linearAxis(Math.min(x, y), Math.max(x, y), count, integer);
        expect(Number.isFinite(lo) && Number.isFinite(hi)).toBe(true);
        expect(ticks.length).toBeGreaterThanOrEqual(2);
        expect(ticks.length).toBeLessThanOrEqual(2 * count + 2);
        for (let i = 1; i < ticks.length; i++) expect(ticks[i]!).toBeGreaterThan(ticks[i - 1]!);
      }),
      { numRuns: 2000 },
    );
  });

  it("covers any range with a handful of ascending ticks", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-6, max: 1e6, noNaN: true }), (a, span) => {
        const { lo, hi, ticks } = linearAxis(a, a + span);
        // Within a rounding slack far below a pixel.
        expect(lo).toBeLessThanOrEqual(a + span * 1e-6);
        expect(hi).toBeGreaterThanOrEqual(a + span * (1 - 1e-6));
        expect(ticks.length).toBeGreaterThanOrEqual(2);
        expect(ticks.length).toBeLessThanOrEqual(12);
        for (let i = 1; i < ticks.length; i++) expect(ticks[i]!).toBeGreaterThan(ticks[i - 1]!);
      }),
    );
  });
});

describe("logAxis", () => {
  it("ticks each decade of a wide range", () => {
    expect(logAxis(0.0015, 8)).toEqual({ lo: -3, hi: 1, ticks: [-3, -2, -1, 0, 1] });
  });

  it("adds 2x and 5x ticks when the range is narrow", () => {
    const axis = logAxis(0.03, 0.8);
    expect([axis.lo, axis.hi]).toEqual([-2, 0]);
    expect(axis.ticks.map((t) => Number((10 ** t).toPrecision(6)))).toEqual([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]);
  });

  it("ticks every few decades over a very wide range", () => {
    const axis = logAxis(1e-30, 1e30);
    expect(axis.ticks).toEqual([-30, -24, -18, -12, -6, 0, 6, 12, 18, 24, 30]);
  });

  it("spans at least one decade", () => {
    expect(logAxis(1, 1)).toEqual({ lo: 0, hi: 1, ticks: [0, Math.log10(2), Math.log10(5), 1] });
  });
});

describe("tickLabel", () => {
  it.each([
    [0, undefined, "0"],
    [0.30000000000000004, 0.1, "0.3"],
    [1200, 200, "1200"],
    [0.25, 0.05, "0.25"],
    [0.5, 0.25, "0.50"],
    [0.0001, undefined, "1e-4"],
    [0.00025, undefined, "2.5e-4"],
    [2500000, undefined, "2.5e+6"],
    [0.02, undefined, "0.02"],
  ])("labels %s (step %s) as %s", (value, step, text) => {
    expect(tickLabel(value, step)).toBe(text);
  });
});
