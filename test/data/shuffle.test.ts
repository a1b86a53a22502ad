import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { shuffledOrder } from "../../runtime/data/shuffle.js";
import { drawBlock, streamOf } from "../../runtime/rng/index.js";

const isPermutation = (order: Int32Array): boolean => {
  const seen = new Uint8Array(order.length);
  for (const i of order) {
    if (i < 0 || i >= order.length || seen[i]) return false;
    seen[i] = 1;
  }
  return true;
};
const same = (a: Int32Array, b: Int32Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

describe("shuffledOrder", () => {
  it("is a permutation, and the same for the same seed, epoch and name", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.nat({ max: 0xffffffff }), fc.nat({ max: 1000 }), (n, seed, epoch) => {
        const order = shuffledOrder(n, seed, epoch);
        expect(isPermutation(order)).toBe(true);
        expect(same(order, shuffledOrder(n, seed, epoch))).toBe(true);
      }),
    );
  });

  it("differs across epochs, seeds and split names", () => {
    fc.assert(
      fc.property(fc.integer({ min: 20, max: 300 }), fc.nat({ max: 0xfffffffe }), fc.nat({ max: 1000 }), (n, seed, epoch) => {
        const base = shuffledOrder(n, seed, epoch);
        // For n ≥ 20 two independent shuffles agree with probability 1/n! < 1e-18.
        expect(same(base, shuffledOrder(n, seed, epoch + 1))).toBe(false);
        expect(same(base, shuffledOrder(n, seed + 1, epoch))).toBe(false);
        expect(same(base, shuffledOrder(n, seed, epoch, "digits.train"))).toBe(false);
      }),
    );
  });

  it("draws from the stream shuffle/<name> with the epoch as the step: the first swap is pinned", () => {
    // Swap 0 exchanges position n − 1 with floor(u · n), u from words 0 and 1 of block 0.
    const n = 1000;
    const words = new Uint32Array(4);
    drawBlock(7, streamOf("shuffle", "digits.train"), 3, 0, words);
    const u = ((words[0]! >>> 6) * 0x8000000 + (words[1]! >>> 5)) / 2 ** 53;
    const j = Math.floor(u * n);
    const order = shuffledOrder(n, 7, 3, "digits.train");
    // Later swaps touch positions below n − 1 only, so position n − 1 keeps what swap 0 put there.
    expect(order[n - 1]).toBe(j);
  });

  it("moves every position about equally often", () => {
    const n = 8;
    const counts = Array.from({ length: n }, () => new Array(n).fill(0));
    const runs = 4000;
    for (let e = 0; e < runs; e++) shuffledOrder(n, 1, e).forEach((v, i) => counts[i]![v]++);
    for (const row of counts) for (const c of row) expect(Math.abs(c - runs / n)).toBeLessThan(6 * Math.sqrt(runs / n));
  });

  it("refuses a seed or epoch outside u32 and a bad length", () => {
    expect(() => shuffledOrder(3, -1, 0)).toThrow(RangeError);
    expect(() => shuffledOrder(3, 0, 2 ** 32)).toThrow(RangeError);
    expect(() => shuffledOrder(1.5, 0, 0)).toThrow(RangeError);
  });
});
