import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { mulhi32, mulhilo32, philox4x32, philoxInto, type PhiloxCounter, type PhiloxKey } from "../../runtime/rng/philox.js";

/**
 * Philox-4x32 against the Random123 known-answer vectors (`tests/kat_vectors`,
 * lines "philox4x32 7" and "philox4x32 10": counter, key, expected output) and
 * against an independent BigInt implementation written from the paper.
 */
const kat: ReadonlyArray<{ rounds: number; counter: PhiloxCounter; key: PhiloxKey; expected: readonly number[] }> = [
  { rounds: 10, counter: [0, 0, 0, 0], key: [0, 0], expected: [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8] },
  {
    rounds: 10,
    counter: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    key: [0xffffffff, 0xffffffff],
    expected: [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  },
  {
    rounds: 10,
    counter: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    key: [0xa4093822, 0x299f31d0],
    expected: [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  },
  { rounds: 7, counter: [0, 0, 0, 0], key: [0, 0], expected: [0x5f6fb709, 0x0d893f64, 0x4f121f81, 0x4f730a48] },
  {
    rounds: 7,
    counter: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    key: [0xffffffff, 0xffffffff],
    expected: [0x5207ddc2, 0x45165e59, 0x4d8ee751, 0x8c52f662],
  },
  {
    rounds: 7,
    counter: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    key: [0xa4093822, 0x299f31d0],
    expected: [0x4dfccaba, 0x190a87f0, 0xc47362ba, 0xb6b5242a],
  },
];

const hex = (words: readonly number[]): string => words.map((w) => w.toString(16).padStart(8, "0")).join(" ");

/** Philox-4x32-R with BigInt arithmetic and a real 64-bit product: the oracle. */
function philoxBigInt(counter: readonly number[], key: readonly number[], rounds: number): number[] {
  const mask = 0xffffffffn;
  let [c0, c1, c2, c3] = counter.map(BigInt) as [bigint, bigint, bigint, bigint];
  let [k0, k1] = key.map(BigInt) as [bigint, bigint];
  for (let r = 0; r < rounds; r++) {
    const p0 = 0xd2511f53n * c0;
    const p1 = 0xcd9e8d57n * c2;
    [c0, c1, c2, c3] = [(p1 >> 32n) ^ c1 ^ k0, p1 & mask, (p0 >> 32n) ^ c3 ^ k1, p0 & mask];
    k0 = (k0 + 0x9e3779b9n) & mask;
    k1 = (k1 + 0xbb67ae85n) & mask;
  }
  return [c0, c1, c2, c3].map(Number);
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** u32 values biased toward the edges, where carries and sign bits go wrong. */
const edgyU32 = fc.oneof(u32, fc.constantFrom(0, 1, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff));

describe("philox4x32", () => {
  for (const { rounds, counter, key, expected } of kat) {
    it(`matches Random123 philox4x32 ${rounds} ${hex(counter)} ${hex(key)}`, () => {
      expect(hex(philox4x32(counter, key, rounds))).toBe(hex(expected));
    });
  }

  it("uses ten rounds by default", () => {
    expect(philox4x32(kat[0]!.counter, kat[0]!.key)).toEqual(kat[0]!.expected);
  });

  it("agrees with a BigInt implementation on random counters and keys", () => {
    fc.assert(
      fc.property(fc.tuple(edgyU32, edgyU32, edgyU32, edgyU32), fc.tuple(edgyU32, edgyU32), (counter, key) => {
        expect(philox4x32(counter, key)).toEqual(philoxBigInt(counter, key, 10));
      }),
      { numRuns: 500 },
    );
  });

  it("writes the same words through philoxInto", () => {
    fc.assert(
      fc.property(fc.tuple(u32, u32, u32, u32), fc.tuple(u32, u32), (c, k) => {
        const out = new Uint32Array(4);
        philoxInto(c[0], c[1], c[2], c[3], k[0], k[1], out);
        expect([...out]).toEqual(philox4x32(c, k));
      }),
      { numRuns: 200 },
    );
  });

  it("returns u32 words", () => {
    for (const word of philox4x32([1, 2, 3, 4], [5, 6])) {
      expect(Number.isInteger(word) && word >= 0 && word <= 0xffffffff).toBe(true);
    }
  });

  it("rejects words that are not u32", () => {
    expect(() => philox4x32([-1, 0, 0, 0], [0, 0])).toThrow(RangeError);
    expect(() => philox4x32([0, 0, 0, 2 ** 32], [0, 0])).toThrow(/counter\[3\]/);
    expect(() => philox4x32([0, 0, 0, 0], [0.5, 0])).toThrow(/key\[0\]/);
    expect(() => philox4x32([0, 0, 0, 0], [0, Number.NaN])).toThrow(RangeError);
  });
});

describe("mulhilo32", () => {
  it("is the 64-bit product split into high and low words", () => {
    fc.assert(
      fc.property(edgyU32, edgyU32, (a, b) => {
        const product = BigInt(a) * BigInt(b);
        expect(mulhilo32(a, b)).toEqual([Number(product >> 32n), Number(product & 0xffffffffn)]);
        expect(mulhi32(a, b)).toBe(Number(product >> 32n));
      }),
      { numRuns: 2000 },
    );
  });

  it("handles the largest product", () => {
    // (2^32 − 1)^2 = 2^64 − 2^33 + 1: high word 0xfffffffe, low word 1.
    expect(mulhilo32(0xffffffff, 0xffffffff)).toEqual([0xfffffffe, 1]);
  });
});
