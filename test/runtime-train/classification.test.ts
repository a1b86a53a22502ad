/**
 * The classification metrics (spec/pipelines.md, "Metrics") against
 * brute-force oracles: sort every row's scores, read off the answer.
 */
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { accuracy, countTopK, nearestNeighbourAccuracy, topKAccuracy } from "../../runtime/metrics/classification.js";
import { bruteNearest, inTopK, rankDescending, row, vote } from "./oracles.js";

/** Rows × classes scores with small integer values (so ties are common), and a label per row. */
const scored = fc.integer({ min: 1, max: 6 }).chain((classes) =>
  fc.integer({ min: 0, max: 12 }).chain((rows) =>
    fc.record({
      classes: fc.constant(classes),
      rows: fc.constant(rows),
      data: fc.array(fc.integer({ min: -2, max: 2 }), { minLength: rows * classes, maxLength: rows * classes }),
      labels: fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: rows, maxLength: rows }),
      k: fc.integer({ min: 1, max: classes }),
    }),
  ),
);

/** The first index of the largest score: the plain argmax. */
function argmax(scores: readonly number[]): number {
  let best = 0;
  for (let c = 1; c < scores.length; c++) if (scores[c]! > scores[best]!) best = c;
  return best;
}

describe("countTopK", () => {
  test("counts the rows whose label is among the k largest scores, ties to the lower class (property)", () => {
    fc.assert(
      fc.property(scored, ({ rows, classes, data, labels, k }) => {
        const expected = labels.filter((label, r) => inTopK(row(data, r, classes), label, k)).length;
        expect(countTopK({ rows, classes, data }, labels, k)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  test("k = 1 is the argmax, first on ties (property)", () => {
    fc.assert(
      fc.property(scored, ({ rows, classes, data, labels }) => {
        const expected = labels.filter((label, r) => argmax(row(data, r, classes)) === label).length;
        expect(countTopK({ rows, classes, data }, labels, 1)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  test("with continuous scores too (property)", () => {
    const continuous = fc.integer({ min: 1, max: 8 }).chain((classes) =>
      fc.integer({ min: 1, max: 8 }).chain((rows) =>
        fc.record({
          classes: fc.constant(classes),
          rows: fc.constant(rows),
          data: fc.float64Array({ minLength: rows * classes, maxLength: rows * classes, noNaN: true }),
          labels: fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: rows, maxLength: rows }),
          k: fc.integer({ min: 1, max: classes }),
        }),
      ),
    );
    fc.assert(
      fc.property(continuous, ({ rows, classes, data, labels, k }) => {
        const expected = labels.filter((label, r) => inTopK(row(data, r, classes), label, k)).length;
        expect(countTopK({ rows, classes, data }, labels, k)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  test("is monotone in k and counts every row at k = classes (property)", () => {
    fc.assert(
      fc.property(scored, ({ rows, classes, data, labels }) => {
        let previous = -1;
        for (let k = 1; k <= classes; k++) {
          const n = countTopK({ rows, classes, data }, labels, k);
          expect(n).toBeGreaterThanOrEqual(previous);
          previous = n;
        }
        expect(previous).toBe(rows);
      }),
      { numRuns: 200 },
    );
  });

  test("hand cases: ties go to the lower class", () => {
    const scores = { rows: 1, classes: 4, data: [1, 3, 3, 0] };
    // Ranked: class 1, class 2 (tied with 1, higher index), class 0, class 3.
    expect(countTopK(scores, [1], 1)).toBe(1);
    expect(countTopK(scores, [2], 1)).toBe(0);
    expect(countTopK(scores, [2], 2)).toBe(1);
    expect(countTopK(scores, [0], 2)).toBe(0);
    expect(countTopK(scores, [0], 3)).toBe(1);
    expect(countTopK(scores, [3], 3)).toBe(0);
    expect(countTopK(scores, [3], 4)).toBe(1);
    // All equal: the label's rank is its index.
    const flat = { rows: 4, classes: 4, data: new Float32Array(16).fill(0.5) };
    expect(countTopK(flat, [0, 1, 2, 3], 1)).toBe(1);
    expect(countTopK(flat, [0, 1, 2, 3], 2)).toBe(2);
    expect(countTopK(flat, [3, 3, 3, 3], 3)).toBe(0);
  });

  test("reads each row at its own offset", () => {
    const scores = { rows: 3, classes: 2, data: Float32Array.of(0, 1, 1, 0, 5, 5) };
    expect(countTopK(scores, [1, 0, 0], 1)).toBe(3);
    expect(countTopK(scores, [0, 1, 1], 1)).toBe(0);
  });

  test("a NaN score ranks below every number; a NaN label score never counts", () => {
    expect(countTopK({ rows: 1, classes: 3, data: [NaN, 0, -1] }, [1], 1)).toBe(1);
    expect(countTopK({ rows: 1, classes: 3, data: [NaN, 0, -1] }, [2], 2)).toBe(1);
    expect(countTopK({ rows: 1, classes: 3, data: [2, NaN, -1] }, [1], 2)).toBe(0);
    expect(countTopK({ rows: 1, classes: 3, data: [NaN, NaN, NaN] }, [0], 2)).toBe(0);
    expect(countTopK({ rows: 1, classes: 2, data: [-Infinity, NaN] }, [0], 1)).toBe(1);
    // Against the oracle, with NaNs sprinkled among small integers.
    fc.assert(
      fc.property(scored, fc.infiniteStream(fc.boolean()), ({ rows, classes, data, labels, k }, nans) => {
        const withNaN = data.map((v) => (nans.next().value ? NaN : v));
        const expected = labels.filter((label, r) => inTopK(row(withNaN, r, classes), label, k)).length;
        expect(countTopK({ rows, classes, data: withNaN }, labels, k)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe("accuracy and topKAccuracy", () => {
  test("are the hit counts over the rows (property)", () => {
    fc.assert(
      fc.property(scored, ({ rows, classes, data, labels, k }) => {
        const scores = { rows, classes, data };
        const top1 = labels.filter((label, r) => argmax(row(data, r, classes)) === label).length;
        const topk = labels.filter((label, r) => inTopK(row(data, r, classes), label, k)).length;
        if (rows === 0) {
          expect(accuracy(scores, labels)).toBeNaN();
          expect(topKAccuracy(scores, labels, k)).toBeNaN();
        } else {
          expect(accuracy(scores, labels)).toBe(top1 / rows);
          expect(topKAccuracy(scores, labels, k)).toBe(topk / rows);
          expect(topKAccuracy(scores, labels, 1)).toBe(accuracy(scores, labels));
        }
      }),
      { numRuns: 300 },
    );
  });

  test("hand case", () => {
    const scores = { rows: 4, classes: 3, data: [0.1, 0.7, 0.2, 0.9, 0.05, 0.05, 0.3, 0.3, 0.4, 0.5, 0.5, 0] };
    // Argmaxes: 1, 0, 2, 0 (tie → first).
    expect(accuracy(scores, [1, 0, 0, 1])).toBe(0.5);
    expect(accuracy(scores, [1, 0, 2, 0])).toBe(1);
    // Second places: 2, 1 (tie with 2 → lower class), 0 (tie with 1 → lower class), 1.
    expect(topKAccuracy(scores, [2, 1, 0, 1], 2)).toBe(1);
    expect(topKAccuracy(scores, [0, 2, 1, 2], 2)).toBe(0);
  });
});

/** Small-integer row vectors: many exact ties, some all-zero rows. */
const vectors = (rows: number, width: number): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: -2, max: 2 }), { minLength: rows * width, maxLength: rows * width });

describe("nearestNeighbourAccuracy", () => {
  const problem = fc
    .record({ width: fc.integer({ min: 1, max: 4 }), queries: fc.integer({ min: 1, max: 8 }), references: fc.integer({ min: 1, max: 10 }), labels: fc.integer({ min: 1, max: 4 }) })
    .chain(({ width, queries, references, labels }) =>
      fc.record({
        width: fc.constant(width),
        q: vectors(queries, width),
        qLabels: fc.array(fc.integer({ min: 0, max: labels - 1 }), { minLength: queries, maxLength: queries }),
        r: vectors(references, width),
        rLabels: fc.array(fc.integer({ min: 0, max: labels - 1 }), { minLength: references, maxLength: references }),
        k: fc.integer({ min: 1, max: references + 3 }),
      }),
    );

  test("is the fraction of queries whose k-NN vote is their label (property)", () => {
    fc.assert(
      fc.property(problem, ({ width, q, qLabels, r, rLabels, k }) => {
        const queries = { rows: qLabels.length, width, data: q };
        const reference = { rows: rLabels.length, width, data: r };
        const refRows = rLabels.map((_, i) => row(r, i, width));
        let hits = 0;
        qLabels.forEach((label, i) => {
          const found = bruteNearest(row(q, i, width), refRows, Math.min(k, refRows.length), "cosine");
          if (vote(found.map((f) => rLabels[f.index]!)) === label) hits++;
        });
        expect(nearestNeighbourAccuracy(queries, qLabels, reference, rLabels, k)).toBe(hits / qLabels.length);
      }),
      { numRuns: 400 },
    );
  });

  test("hand case: majority wins, a tied vote goes to the nearest", () => {
    // Reference along the x axis and the y axis; queries near each.
    const reference = { rows: 5, width: 2, data: [1, 0, 2, 0.1, 0, 1, 0.1, 2, 1, 1] };
    const refLabels = [7, 7, 3, 3, 9];
    const queries = { rows: 3, width: 2, data: [1, 0, 0, 1, 1, 1] };
    // (1,0): neighbours 0 (cos 1), 1 (cos .9988), 4 (.707) → votes 7,7,9 → 7.
    // (0,1): neighbours 2 (1), 3 (.9988), 4 → 3.
    // (1,1): neighbours 4 (cos 1), then rows 1 and 3 (exactly tied: same dot, same norm; lower index first)
    // → with k = 3: labels 9, 7, 3, one vote each → 9, the nearest.
    expect(nearestNeighbourAccuracy(queries, [7, 3, 9], reference, refLabels, 3)).toBe(1);
    expect(nearestNeighbourAccuracy(queries, [7, 3, 7], reference, refLabels, 3)).toBeCloseTo(2 / 3, 15);
    // k = 1: the nearest label alone.
    expect(nearestNeighbourAccuracy(queries, [7, 3, 9], reference, refLabels, 1)).toBe(1);
    // k = 5: all five vote: 7, 7, 3, 3, 9 → 7 and 3 tie at 2; the nearest of them decides.
    expect(nearestNeighbourAccuracy(queries, [7, 3, 7], reference, refLabels, 5)).toBe(1);
  });

  test("a k beyond the reference rows uses them all; no queries is NaN; k = 0 is an error", () => {
    const reference = { rows: 2, width: 1, data: [1, -1] };
    expect(nearestNeighbourAccuracy({ rows: 1, width: 1, data: [1] }, [4], reference, [4, 5], 99)).toBe(1);
    expect(nearestNeighbourAccuracy({ rows: 0, width: 1, data: [] }, [], reference, [4, 5], 3)).toBeNaN();
    expect(() => nearestNeighbourAccuracy({ rows: 1, width: 1, data: [1] }, [4], reference, [4, 5], 0)).toThrow(RangeError);
  });

  test("uses cosine, not dot: a long vector in another direction is not nearer", () => {
    const reference = { rows: 2, width: 2, data: [100, 100, 1, 0] };
    expect(nearestNeighbourAccuracy({ rows: 1, width: 2, data: [1, 0.01] }, [1], reference, [0, 1], 1)).toBe(1);
  });

  test("rankDescending, the oracle's sort, is stable and ranks NaN with −∞", () => {
    expect(rankDescending([1, 3, NaN, 3, -Infinity, 2])).toEqual([1, 3, 5, 0, 2, 4]);
  });
});
