import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { MAX_INDEX } from "../../runtime/rng/block.js";
import { fillNormal, normalAngle, normalAt, normalRadius } from "../../runtime/rng/normal.js";
import { philox4x32 } from "../../runtime/rng/philox.js";
import { chiSquareUniform, CHI2_15_P999, correlation, mean, normalCdf, variance } from "./stats.js";

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const index = fc.oneof(
  fc.integer({ min: 0, max: 1000 }),
  fc.integer({ min: 0, max: MAX_INDEX - 64 }),
  fc.integer({ min: 4 * 0xffffffff - 40, max: 4 * 0xffffffff + 40 }),
);

describe("the Box–Muller scheme", () => {
  it("makes elements 4b .. 4b+3 cos, sin of words (0, 1) and cos, sin of words (2, 3) of block b", () => {
    fc.assert(
      fc.property(u32, u32, u32, fc.integer({ min: 0, max: 2 ** 40 }), (seed, stream, step, block) => {
        const w = philox4x32([block % 2 ** 32, Math.floor(block / 2 ** 32), step, 0], [seed, stream]);
        const u1 = (a: number) => (Math.floor(a / 256) + 1) / 2 ** 24;
        const u2 = (a: number) => Math.floor(a / 256) / 2 ** 24;
        const expected = [0, 2].flatMap((first) => {
          const r = Math.sqrt(0 - 2 * Math.log(u1(w[first]!)));
          const theta = Math.PI * (2 * u2(w[first + 1]!) - 1);
          return [r * Math.cos(theta), r * Math.sin(theta)];
        });
        const got = [0, 1, 2, 3].map((lane) => normalAt(seed, stream, 4 * block + lane, step));
        expect(got).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it("has a finite radius for every word, zero at the top and about 5.77 at the bottom", () => {
    expect(normalRadius(0xffffffff)).toBe(0);
    expect(normalRadius(0)).toBeCloseTo(Math.sqrt(48 * Math.LN2), 12);
    expect(normalAngle(0)).toBe(-Math.PI);
    expect(normalAngle(0xffffffff)).toBeLessThan(Math.PI);
  });
});

describe("normalAt", () => {
  it("is finite and within the Box–Muller bound", () => {
    fc.assert(
      fc.property(u32, u32, u32, index, (seed, stream, step, i) => {
        const z = normalAt(seed, stream, i, step);
        expect(Number.isFinite(z)).toBe(true);
        expect(Math.abs(z)).toBeLessThanOrEqual(Math.sqrt(48 * Math.LN2));
      }),
      { numRuns: 500 },
    );
  });

  it("is deterministic and takes step 0 by default", () => {
    expect(normalAt(5, 6, 7)).toBe(normalAt(5, 6, 7, 0));
    expect(Array.from({ length: 32 }, (_, i) => normalAt(1, 2, i, 3))).toEqual(
      Array.from({ length: 32 }, (_, i) => normalAt(1, 2, i, 3)),
    );
  });

  it("rejects arguments out of range", () => {
    expect(() => normalAt(0, 0, -1)).toThrow(/index/);
    expect(() => normalAt(0, -1, 0)).toThrow(/stream/);
    expect(() => normalAt(0, 0, 0, 2 ** 32)).toThrow(/step/);
  });
});

describe("fillNormal", () => {
  it("equals normalAt at every element, for any offset and length", () => {
    fc.assert(
      fc.property(u32, u32, u32, index, fc.integer({ min: 0, max: 23 }), (seed, stream, step, offset, n) => {
        const out = fillNormal(new Float64Array(n), seed, stream, offset, step);
        for (let j = 0; j < n; j++) expect(out[j]).toBe(normalAt(seed, stream, offset + j, step));
      }),
      { numRuns: 300 },
    );
  });

  it("gives a float32 array the float64 values rounded once", () => {
    fc.assert(
      fc.property(u32, u32, index, fc.integer({ min: 0, max: 23 }), (seed, stream, offset, n) => {
        const f32 = fillNormal(new Float32Array(n), seed, stream, offset);
        for (let j = 0; j < n; j++) expect(f32[j]).toBe(Math.fround(normalAt(seed, stream, offset + j)));
      }),
      { numRuns: 200 },
    );
  });

  it("refuses to pass index 2^53 − 1", () => {
    expect(fillNormal(new Float64Array(2), 1, 2, MAX_INDEX - 1)[1]).toBe(normalAt(1, 2, MAX_INDEX));
    expect(() => fillNormal(new Float64Array(3), 1, 2, MAX_INDEX - 1)).toThrow(/2\^53/);
  });
});

describe("normal statistics (1e5 draws)", () => {
  const n = 100_000;
  const zs = fillNormal(new Float64Array(n), 2024, 1);

  it("has mean 0 and variance 1", () => {
    // Standard errors: 1/sqrt(n) ≈ 0.0032 for the mean, sqrt(2/n) ≈ 0.0045 for the variance.
    expect(Math.abs(mean(zs))).toBeLessThan(0.015);
    expect(Math.abs(variance(zs) - 1)).toBeLessThan(0.02);
  });

  it("has the normal's shape: chi-square of Φ(z) on 16 buckets, and its tails", () => {
    expect(chiSquareUniform(zs.map(normalCdf), 16)).toBeLessThan(CHI2_15_P999);
    // P(|z| > 2) = 0.0455, P(|z| > 3) = 0.0027.
    const beyond = (t: number) => zs.filter((z) => Math.abs(z) > t).length / n;
    expect(Math.abs(beyond(2) - 0.0455)).toBeLessThan(0.004);
    expect(Math.abs(beyond(3) - 0.0027)).toBeLessThan(0.001);
  });

  it("has uncorrelated cos and sin partners, neighbours, streams and seeds", () => {
    const bound = 5 / Math.sqrt(n);
    const even = zs.filter((_, i) => i % 2 === 0);
    const odd = zs.filter((_, i) => i % 2 === 1);
    expect(Math.abs(correlation(even, odd))).toBeLessThan(2 * bound);
    // r² of a Box–Muller pair is χ²(2), independent of the angle: check the squares too.
    expect(Math.abs(correlation(even.map((z) => z * z), odd.map((z) => z * z)))).toBeLessThan(2 * bound);
    expect(Math.abs(correlation(zs.subarray(0, n - 1), zs.subarray(1)))).toBeLessThan(bound);
    expect(Math.abs(correlation(zs, fillNormal(new Float64Array(n), 2024, 2)))).toBeLessThan(bound);
    expect(Math.abs(correlation(zs, fillNormal(new Float64Array(n), 2025, 1)))).toBeLessThan(bound);
    expect(Math.abs(correlation(zs, fillNormal(new Float64Array(n), 2024, 1, 0, 1)))).toBeLessThan(bound);
  });
});
