/**
 * `nearest` against a brute-force sort of every similarity: ties go to the
 * lower reference index, zero rows have cosine 0, and the errors.
 */
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { nearest, type Similarity } from "../../runtime/search/nearest.js";
import { bruteNearest, row } from "./oracles.js";

const kinds: readonly Similarity[] = ["dot", "cosine"];

/** A search problem over small-integer vectors (many ties, some zero rows). */
const problem = fc
  .record({ width: fc.integer({ min: 1, max: 4 }), queries: fc.integer({ min: 0, max: 6 }), references: fc.integer({ min: 2, max: 9 }), exclude: fc.boolean() })
  .chain(({ width, queries, references, exclude }) =>
    fc.record({
      width: fc.constant(width),
      queries: fc.constant(queries),
      references: fc.constant(references),
      q: fc.array(fc.integer({ min: -2, max: 2 }), { minLength: queries * width, maxLength: queries * width }),
      r: fc.array(fc.integer({ min: -2, max: 2 }), { minLength: references * width, maxLength: references * width }),
      k: fc.integer({ min: 1, max: references - (exclude ? 1 : 0) }),
      // Which reference row each query skips, when excluding.
      skips: exclude ? fc.array(fc.integer({ min: 0, max: references - 1 }), { minLength: queries, maxLength: queries }).map((a) => a as number[] | null) : fc.constant(null),
    }),
  );

/** Expects `nearest` to agree with the brute-force oracle on every query. */
function expectAgrees(p: { width: number; queries: number; references: number; q: ArrayLike<number>; r: ArrayLike<number>; k: number; skips: number[] | null }, kind: Similarity): void {
  const found = nearest({ rows: p.queries, width: p.width, data: p.q }, { rows: p.references, width: p.width, data: p.r }, p.k, kind, p.skips ? (i) => p.skips![i]! : undefined);
  expect(found.k).toBe(p.k);
  expect(found.indices.length).toBe(p.queries * p.k);
  expect(found.scores.length).toBe(p.queries * p.k);
  const reference = Array.from({ length: p.references }, (_, i) => row(p.r, i, p.width));
  for (let i = 0; i < p.queries; i++) {
    const expected = bruteNearest(row(p.q, i, p.width), reference, p.k, kind, p.skips ? p.skips[i]! : -1);
    expect([...found.indices.subarray(i * p.k, (i + 1) * p.k)], `query ${i}`).toEqual(expected.map((e) => e.index));
    expect([...found.scores.subarray(i * p.k, (i + 1) * p.k)], `query ${i}`).toEqual(expected.map((e) => Math.fround(e.score)));
  }
}

describe("nearest", () => {
  for (const kind of kinds) {
    test(`${kind}: the k most similar rows, ties to the lower index (property)`, () => {
      fc.assert(fc.property(problem, (p) => expectAgrees(p, kind)), { numRuns: 500 });
    });

    test(`${kind}: with continuous values (property)`, () => {
      const continuous = problem.chain((p) =>
        fc.record({
          q: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: p.q.length, maxLength: p.q.length }),
          r: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: p.r.length, maxLength: p.r.length }),
        }).map((v) => ({ ...p, ...v })),
      );
      fc.assert(fc.property(continuous, (p) => expectAgrees(p, kind)), { numRuns: 200 });
    });
  }

  test("hand case: dot prefers long vectors, cosine prefers direction", () => {
    const reference = { rows: 3, width: 2, data: [10, 10, 1, 0, 0.9, 0.1] };
    const query = { rows: 1, width: 2, data: [1, 0] };
    expect([...nearest(query, reference, 3, "dot").indices]).toEqual([0, 1, 2]);
    expect([...nearest(query, reference, 3, "cosine").indices]).toEqual([1, 2, 0]);
    expect([...nearest(query, reference, 1, "cosine").scores]).toEqual([1]);
    // The default is cosine.
    expect([...nearest(query, reference, 2).indices]).toEqual([1, 2]);
  });

  test("exact ties keep reference order, whatever k", () => {
    const reference = { rows: 5, width: 1, data: [3, 3, 3, 3, 3] };
    for (let k = 1; k <= 5; k++) {
      expect([...nearest({ rows: 1, width: 1, data: [1] }, reference, k, "dot").indices]).toEqual([0, 1, 2, 3, 4].slice(0, k));
    }
    // A better row late in the reference still goes first.
    const late = { rows: 4, width: 1, data: [1, 1, 1, 2] };
    expect([...nearest({ rows: 1, width: 1, data: [1] }, late, 2, "dot").indices]).toEqual([3, 0]);
  });

  test("zero rows: cosine 0 (not NaN) against anything", () => {
    const reference = { rows: 3, width: 2, data: [0, 0, 1, 0, -1, 0] };
    const found = nearest({ rows: 2, width: 2, data: [1, 0, 0, 0] }, reference, 3, "cosine");
    expect([...found.indices]).toEqual([1, 0, 2, 0, 1, 2]);
    expect([...found.scores]).toEqual([1, 0, -1, 0, 0, 0]);
  });

  test("exclude skips one reference row per query", () => {
    const set = { rows: 4, width: 1, data: [1, 2, 3, 4] };
    const found = nearest(set, set, 3, "dot", (q) => q);
    for (let q = 0; q < 4; q++) expect([...found.indices.subarray(q * 3, q * 3 + 3)]).not.toContain(q);
    expect([...found.indices.subarray(9, 12)]).toEqual([2, 1, 0]);
    // k may use every row but the excluded one.
    expect(() => nearest(set, set, 4, "dot", (q) => q)).toThrow(RangeError);
  });

  test("no queries: empty results", () => {
    const found = nearest({ rows: 0, width: 2, data: [] }, { rows: 2, width: 2, data: [1, 2, 3, 4] }, 2, "cosine");
    expect(found.indices.length).toBe(0);
    expect(found.scores.length).toBe(0);
  });

  test("errors: mismatched widths, k out of range or not whole", () => {
    const q = { rows: 1, width: 2, data: [1, 2] };
    const r = { rows: 3, width: 2, data: [1, 2, 3, 4, 5, 6] };
    expect(() => nearest(q, { rows: 2, width: 3, data: [1, 2, 3, 4, 5, 6] }, 1)).toThrow(/2 numbers per row, the reference 3/);
    for (const k of [0, -1, 4, 1.5, NaN, Infinity]) expect(() => nearest(q, r, k), `k = ${k}`).toThrow(RangeError);
    expect(() => nearest(q, { rows: 0, width: 2, data: [] }, 1)).toThrow(RangeError);
    expect(nearest(q, r, 3).indices.length).toBe(3);
  });

  test("a NaN similarity ranks below every number and does not hide later rows", () => {
    const reference = { rows: 3, width: 1, data: [NaN, -1, 2] };
    for (const kind of kinds) {
      expect([...nearest({ rows: 1, width: 1, data: [1] }, reference, 1, kind).indices], kind).toEqual([2]);
      const all = nearest({ rows: 1, width: 1, data: [1] }, reference, 3, kind);
      expect([...all.indices], kind).toEqual([2, 1, 0]);
      expect(all.scores[2], kind).toBe(-Infinity);
    }
    // Infinite features make cosine ∞/∞ = NaN: such a row comes last, not first.
    const inf = { rows: 3, width: 2, data: [Infinity, 1, 1, 0, 0, 1] };
    expect([...nearest({ rows: 1, width: 2, data: [1, 0] }, inf, 2, "cosine").indices]).toEqual([1, 2]);
    // Against the oracle (which ranks NaN with −∞), with NaNs sprinkled in.
    fc.assert(
      fc.property(problem, fc.infiniteStream(fc.integer({ min: 0, max: 9 })), (p, dice) => {
        const r = p.r.map((v) => (dice.next().value === 0 ? NaN : v));
        const q = p.q.map((v) => (dice.next().value === 0 ? NaN : v));
        for (const kind of kinds) {
          const found = nearest({ rows: p.queries, width: p.width, data: q }, { rows: p.references, width: p.width, data: r }, p.k, kind, p.skips ? (i) => p.skips![i]! : undefined);
          const reference = Array.from({ length: p.references }, (_, i) => row(r, i, p.width));
          for (let i = 0; i < p.queries; i++) {
            const expected = bruteNearest(row(q, i, p.width), reference, p.k, kind, p.skips ? p.skips[i]! : -1);
            expect([...found.indices.subarray(i * p.k, (i + 1) * p.k)]).toEqual(expected.map((e) => e.index));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
