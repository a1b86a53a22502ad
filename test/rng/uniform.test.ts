import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { MAX_INDEX } from "../../runtime/rng/block.js";
import { philox4x32 } from "../../runtime/rng/philox.js";
import {
  bernoulliAt,
  bitsAt,
  fillUniform,
  quantizeProbability,
  uniformAt,
  uniformFromBits,
  UNIFORM_STEP,
} from "../../runtime/rng/uniform.js";
import { chiSquareUniform, CHI2_15_P999, correlation, mean, variance } from "./stats.js";

const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** Indices anywhere up to 2^53 − 1, with weight on the block edges and the 2^32-block carry. */
const index = fc.oneof(
  fc.integer({ min: 0, max: 1000 }),
  fc.integer({ min: 0, max: MAX_INDEX - 64 }),
  fc.integer({ min: 4 * 0xffffffff - 40, max: 4 * 0xffffffff + 40 }),
);

describe("the scheme", () => {
  it("makes element i word i mod 4 of Philox at counter [block lo, block hi, step, 0], key [seed, stream]", () => {
    fc.assert(
      fc.property(u32, u32, u32, index, (seed, stream, step, i) => {
        const block = Math.floor(i / 4);
        const words = philox4x32([block % 2 ** 32, Math.floor(block / 2 ** 32), step, 0], [seed, stream]);
        expect(bitsAt(seed, stream, i, step)).toBe(words[i % 4]);
      }),
      { numRuns: 300 },
    );
  });

  it("takes step 0 by default", () => {
    expect(bitsAt(3, 4, 5)).toBe(bitsAt(3, 4, 5, 0));
    expect(uniformAt(3, 4, 5)).toBe(uniformAt(3, 4, 5, 0));
  });

  it("turns the top 24 bits of a word into the uniform", () => {
    fc.assert(
      fc.property(u32, u32, index, (seed, stream, i) => {
        expect(uniformAt(seed, stream, i)).toBe(Math.floor(bitsAt(seed, stream, i) / 256) / 2 ** 24);
      }),
    );
    expect(uniformFromBits(0)).toBe(0);
    expect(uniformFromBits(0xff)).toBe(0);
    expect(uniformFromBits(0xffffffff)).toBe(1 - 2 ** -24);
  });
});

describe("uniformAt", () => {
  it("is in [0, 1), on the 2^-24 grid, and exact in float32", () => {
    fc.assert(
      fc.property(u32, u32, u32, index, (seed, stream, step, i) => {
        const u = uniformAt(seed, stream, i, step);
        expect(u >= 0 && u < 1).toBe(true);
        expect(Number.isInteger(u / UNIFORM_STEP)).toBe(true);
        expect(Math.fround(u)).toBe(u);
      }),
      { numRuns: 500 },
    );
  });

  it("is deterministic", () => {
    const first = Array.from({ length: 64 }, (_, i) => uniformAt(42, 7, i, 3));
    const again = Array.from({ length: 64 }, (_, i) => uniformAt(42, 7, i, 3));
    expect(again).toEqual(first);
  });

  it("differs between seeds, streams, steps and indices", () => {
    const draws = (seed: number, stream: number, step: number) =>
      Array.from({ length: 16 }, (_, i) => uniformAt(seed, stream, i, step));
    const base = draws(1, 1, 1);
    expect(draws(2, 1, 1)).not.toEqual(base);
    expect(draws(1, 2, 1)).not.toEqual(base);
    expect(draws(1, 1, 2)).not.toEqual(base);
    expect(new Set(base).size).toBe(16);
  });

  it("rejects seeds, streams, steps and indices out of range", () => {
    expect(() => uniformAt(-1, 0, 0)).toThrow(/seed/);
    expect(() => uniformAt(0, 2 ** 32, 0)).toThrow(/stream/);
    expect(() => uniformAt(0, 0, 0, 1.5)).toThrow(/step/);
    expect(() => uniformAt(0, 0, -1)).toThrow(/index/);
    expect(() => uniformAt(0, 0, 2 ** 53)).toThrow(/index/);
    expect(() => uniformAt(0, 0, Number.NaN)).toThrow(/index/);
    expect(uniformAt(0, 0, MAX_INDEX)).toBeLessThan(1);
  });
});

describe("fillUniform", () => {
  it("equals uniformAt at every element, for any offset and length, in float32 and float64", () => {
    fc.assert(
      fc.property(u32, u32, u32, index, fc.integer({ min: 0, max: 23 }), fc.boolean(), (seed, stream, step, offset, n, f32) => {
        const out = fillUniform(f32 ? new Float32Array(n) : new Float64Array(n), seed, stream, offset, step);
        for (let j = 0; j < n; j++) expect(out[j]).toBe(uniformAt(seed, stream, offset + j, step));
      }),
      { numRuns: 300 },
    );
  });

  it("gives float32 and float64 arrays the same values", () => {
    const a = fillUniform(new Float32Array(1001), 9, 8, 3, 7);
    const b = fillUniform(new Float64Array(1001), 9, 8, 3, 7);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it("carries the block number into counter word 1", () => {
    // Elements 4·2^32 − 2 .. 4·2^32 + 5 cross from block 2^32 − 1 (counter [ffffffff, 0, ...])
    // to block 2^32 (counter [0, 1, ...]).
    const out = fillUniform(new Float64Array(8), 5, 6, 4 * 2 ** 32 - 2, 9);
    const before = philox4x32([0xffffffff, 0, 9, 0], [5, 6]).map(uniformFromBits);
    const after = philox4x32([0, 1, 9, 0], [5, 6]).map(uniformFromBits);
    expect(Array.from(out.subarray(0, 6))).toEqual([...before.slice(2), ...after]);
  });

  it("fills the last indices and refuses to pass 2^53 − 1", () => {
    const out = fillUniform(new Float64Array(3), 1, 2, MAX_INDEX - 2);
    expect(out[2]).toBe(uniformAt(1, 2, MAX_INDEX));
    expect(() => fillUniform(new Float64Array(4), 1, 2, MAX_INDEX - 2)).toThrow(/2\^53/);
    expect(() => fillUniform(new Float64Array(1), 1, 2, 0.5)).toThrow(RangeError);
  });

  it("returns its argument, and leaves an empty array alone", () => {
    const out = new Float32Array(5);
    expect(fillUniform(out, 1, 1)).toBe(out);
    expect(fillUniform(new Float32Array(0), 1, 1, MAX_INDEX).length).toBe(0);
  });
});

describe("uniform statistics (1e5 draws)", () => {
  const n = 100_000;
  const us = fillUniform(new Float64Array(n), 2024, 1);

  it("has mean 1/2 and variance 1/12", () => {
    // Standard errors: sqrt(1/12/n) ≈ 9.1e-4 for the mean, ≈ 2.7e-4 for the variance.
    expect(Math.abs(mean(us) - 0.5)).toBeLessThan(0.004);
    expect(Math.abs(variance(us) - 1 / 12)).toBeLessThan(0.0012);
  });

  it("passes chi-square on 16 buckets", () => {
    expect(chiSquareUniform(us, 16)).toBeLessThan(CHI2_15_P999);
  });

  it("passes chi-square for other seeds, streams and steps", () => {
    for (const [seed, stream, step] of [
      [0, 0, 0],
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [0xffffffff, 0xffffffff, 0xffffffff],
    ] as const) {
      expect(chiSquareUniform(fillUniform(new Float64Array(n), seed, stream, 0, step), 16)).toBeLessThan(CHI2_15_P999);
    }
  });

  it("has no correlation between neighbours in a stream, or between adjacent streams, seeds and steps", () => {
    // |r| of independent samples has standard deviation 1/sqrt(n) ≈ 0.0032; allow 5 of them.
    const bound = 5 / Math.sqrt(n);
    const draw = (seed: number, stream: number, step: number) => fillUniform(new Float64Array(n), seed, stream, 0, step);
    expect(Math.abs(correlation(us.subarray(0, n - 1), us.subarray(1)))).toBeLessThan(bound);
    expect(Math.abs(correlation(us.subarray(0, n - 4), us.subarray(4)))).toBeLessThan(bound);
    expect(Math.abs(correlation(us, draw(2024, 2, 0)))).toBeLessThan(bound);
    expect(Math.abs(correlation(us, draw(2025, 1, 0)))).toBeLessThan(bound);
    expect(Math.abs(correlation(us, draw(2024, 1, 1)))).toBeLessThan(bound);
    expect(Math.abs(correlation(draw(0, 0, 0), draw(1, 0, 0)))).toBeLessThan(bound);
    expect(Math.abs(correlation(draw(0, 0, 0), draw(0, 1, 0)))).toBeLessThan(bound);
  });

  it("uses every lane alike", () => {
    for (let lane = 0; lane < 4; lane++) {
      const lanes = us.filter((_, i) => i % 4 === lane);
      expect(chiSquareUniform(lanes, 16)).toBeLessThan(CHI2_15_P999);
    }
  });
});

describe("bernoulliAt and quantizeProbability", () => {
  it("rounds a probability to the 2^-24 grid, exact in float32", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (p) => {
        const q = quantizeProbability(p);
        expect(Math.abs(q - p)).toBeLessThanOrEqual(2 ** -25);
        expect(Math.fround(q)).toBe(q);
      }),
    );
    expect(quantizeProbability(0)).toBe(0);
    expect(quantizeProbability(1)).toBe(1);
    expect(() => quantizeProbability(1.5)).toThrow(RangeError);
    expect(() => quantizeProbability(Number.NaN)).toThrow(RangeError);
  });

  it("decides the same with the probability held in float32 or float64", () => {
    // 0.7 lies between two grid points; float32(0.7) is one of them, so `u < p` would differ.
    fc.assert(
      fc.property(u32, index, fc.double({ min: 0, max: 1, noNaN: true }), (seed, i, p) => {
        expect(bernoulliAt(seed, 3, i, Math.fround(p))).toBe(bernoulliAt(seed, 3, i, p));
      }),
    );
  });

  it("never fires at 0, always at 1, and at the rate p", () => {
    const n = 20_000;
    let hits = 0;
    for (let i = 0; i < n; i++) {
      expect(bernoulliAt(1, 2, i, 0)).toBe(false);
      expect(bernoulliAt(1, 2, i, 1)).toBe(true);
      if (bernoulliAt(1, 2, i, 0.3)) hits++;
    }
    expect(Math.abs(hits / n - 0.3)).toBeLessThan(5 * Math.sqrt((0.3 * 0.7) / n));
  });
});
