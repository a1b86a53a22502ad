/**
 * Brute-force oracles for the metric and search tests: each sorts everything
 * and reads the answer off the sorted list, the plainest reading of the spec.
 */

/** Row `r` of a row-major matrix of `width` columns. */
export function row(data: ArrayLike<number>, r: number, width: number): number[] {
  return Array.from({ length: width }, (_, c) => data[r * width + c]!);
}

/**
 * Indices 0 … n−1 sorted by decreasing `key`, ties to the lower index; NaN
 * keys rank below every number (and tie with each other).
 */
export function rankDescending(keys: readonly number[]): number[] {
  const rank = (v: number): number => (Number.isNaN(v) ? -Infinity : v);
  return keys
    .map((key, index) => ({ key: rank(key), index }))
    .sort((a, b) => (a.key !== b.key ? (b.key > a.key ? 1 : -1) : a.index - b.index))
    .map((e) => e.index);
}

/** Whether `label` is among the `k` largest of `scores` (ties: lower class first; a NaN label score never counts). */
export function inTopK(scores: readonly number[], label: number, k: number): boolean {
  if (Number.isNaN(scores[label])) return false;
  return rankDescending(scores).slice(0, k).includes(label);
}

/** The similarity of two vectors as spec'd: dot, or cosine with an all-zero vector's norm taken as 1. */
export function similarity(a: readonly number[], b: readonly number[], kind: "dot" | "cosine"): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  if (kind === "dot") return dot;
  const norm = (v: readonly number[]): number => {
    let s = 0;
    for (const x of v) s += x * x;
    return s > 0 ? Math.sqrt(s) : 1;
  };
  return dot / (norm(a) * norm(b));
}

/** The `k` most similar reference rows to `query` (skipping `skip`), by sorting all of them. */
export function bruteNearest(query: readonly number[], reference: readonly (readonly number[])[], k: number, kind: "dot" | "cosine", skip = -1): { index: number; score: number }[] {
  const candidates = reference.map((r, index) => ({ index, score: similarity(query, r, kind) })).filter((c) => c.index !== skip);
  const order = rankDescending(candidates.map((c) => c.score));
  return order.slice(0, k).map((i) => candidates[i]!);
}

/** The k-NN vote: the most frequent label among the neighbours; a tie goes to the label whose first neighbour is nearest. */
export function vote(neighbourLabels: readonly number[]): number {
  const counts = new Map<number, { n: number; first: number }>();
  neighbourLabels.forEach((label, rank) => {
    const c = counts.get(label);
    if (c) c.n++;
    else counts.set(label, { n: 1, first: rank });
  });
  const sorted = [...counts.entries()].sort((a, b) => b[1].n - a[1].n || a[1].first - b[1].first);
  return sorted[0]![0];
}
