/**
 * The classification metrics of spec/pipelines.md ("Metrics"), computed from
 * a prediction's scores and the labels: plain functions of typed arrays, so a
 * test step and a generated module compute them the same way.
 */
import { nearest, type Rows } from "../search/nearest.js";

/** Scores of `rows` examples over `classes` classes, row-major. */
export interface Scores {
  readonly rows: number;
  readonly classes: number;
  readonly data: ArrayLike<number>;
}

/** How many of `scores`' rows have their label among their `k` largest scores (ties: lower class first). */
export function countTopK(scores: Scores, labels: ArrayLike<number>, k: number): number {
  let hits = 0;
  const K = scores.classes;
  for (let r = 0; r < scores.rows; r++) {
    const o = r * K;
    const label = labels[r]!;
    const target = scores.data[o + label]!;
    // The label's rank: classes scoring higher, or equal with a lower index, come before it.
    let before = 0;
    for (let c = 0; c < K && before < k; c++) {
      const s = scores.data[o + c]!;
      if (s > target || (s === target && c < label) || Number.isNaN(target)) before++;
    }
    if (before < k) hits++;
  }
  return hits;
}

/** The fraction of rows whose largest score (the first, on ties) is at the label. */
export function accuracy(scores: Scores, labels: ArrayLike<number>): number {
  return scores.rows === 0 ? NaN : countTopK(scores, labels, 1) / scores.rows;
}

/** The fraction of rows whose label is among the `k` largest scores. */
export function topKAccuracy(scores: Scores, labels: ArrayLike<number>, k: number): number {
  return scores.rows === 0 ? NaN : countTopK(scores, labels, k) / scores.rows;
}

/**
 * k-nearest-neighbour accuracy of a representation: each query row gets the
 * most frequent label among its `k` most cosine-similar reference rows (on a
 * tie, the label of the nearest of the tied); the fraction that equal the
 * query's label.
 */
export function nearestNeighbourAccuracy(queries: Rows, queryLabels: ArrayLike<number>, reference: Rows, referenceLabels: ArrayLike<number>, k: number): number {
  if (queries.rows === 0) return NaN;
  const kk = Math.min(k, reference.rows);
  const found = nearest(queries, reference, kk, "cosine");
  let hits = 0;
  const votes = new Map<number, number>();
  for (let q = 0; q < queries.rows; q++) {
    votes.clear();
    let most = 0;
    for (let j = 0; j < kk; j++) {
      const label = referenceLabels[found.indices[q * kk + j]!]!;
      const n = (votes.get(label) ?? 0) + 1;
      votes.set(label, n);
      most = Math.max(most, n);
    }
    // The most frequent label; among tied labels, the one of the nearest neighbour (neighbours come nearest first).
    let winner = -1;
    for (let j = 0; j < kk && winner === -1; j++) {
      const label = referenceLabels[found.indices[q * kk + j]!]!;
      if (votes.get(label) === most) winner = label;
    }
    if (winner === queryLabels[q]) hits++;
  }
  return hits / queries.rows;
}
