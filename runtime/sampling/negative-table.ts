/**
 * The noise distribution a `skipgram` objective draws its negatives from
 * (spec/objectives.md, `skipgram`): P(w) ∝ count(w)^¾ over the vocabulary,
 * as an alias table (Walker, Vose) of two arrays, `prob` f32 [V'] and `alias`
 * i32 [V'], with V' the smallest power of two ≥ V (padding columns have
 * probability 0). A draw takes two uniforms: column c = floor(u₁·V') (exact
 * in float32, V' being a power of two) and the id c if u₂ < prob[c], else
 * alias[c]. Probabilities lie on the 2^−24 grid so that every backend decides
 * alike.
 *
 * The table depends on the data a step reads, not on the model, so the host
 * that feeds the data makes it: `repr train` from a split, the runtime's
 * `Model` from the data passed to `fit` (api/step-feeds.ts). Both call this.
 */
import { quantizeProbability } from "../rng/index.js";

/** The smallest power of two ≥ n (at least 1): the length of a vocabulary's table. */
export function tableSize(vocab: number): number {
  let n = 1;
  while (n < vocab) n *= 2;
  return n;
}

/**
 * How often each id 0 … vocab − 1 occurs in `columns` (flat arrays of ids);
 * ids outside that range are not counted.
 */
export function tokenCounts(columns: readonly ArrayLike<number>[], vocab: number): Float64Array {
  const counts = new Float64Array(vocab);
  for (const column of columns) {
    for (let i = 0; i < column.length; i++) {
      const id = column[i]!;
      if (id >= 0 && id < vocab) counts[id]! += 1;
    }
  }
  return counts;
}

/**
 * The alias table of P(w) ∝ count(w)^¾ over `counts.length` ids, padded to a
 * power of two. With no counts at all, every id is equally likely.
 */
export function negativeTable(counts: ArrayLike<number>): { prob: Float64Array; alias: Int32Array } {
  const vocab = counts.length;
  const size = tableSize(vocab);
  const weights = Array.from({ length: size }, (_, i) => (i < vocab ? Math.pow(Math.max(counts[i]!, 0), 0.75) : 0));
  let total = weights.reduce((s, w) => s + w, 0);
  if (total === 0) {
    for (let i = 0; i < vocab; i++) weights[i] = 1;
    total = vocab;
  }
  const scaled = weights.map((w) => (w * size) / total);
  const prob = new Float64Array(size);
  const alias = new Int32Array(size);
  const heaviest = firstLargest(weights);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
  while (small.length > 0 && large.length > 0) {
    const l = small.pop()!;
    const g = large.pop()!;
    prob[l] = scaled[l]!;
    alias[l] = g;
    scaled[g] = scaled[g]! + scaled[l]! - 1;
    (scaled[g]! < 1 ? small : large).push(g);
  }
  // What rounding leaves over is (up to rounding) a full column: its own id, unless it has no weight.
  for (const i of [...small, ...large]) {
    prob[i] = weights[i]! > 0 ? 1 : 0;
    alias[i] = weights[i]! > 0 ? i : heaviest;
  }
  for (let i = 0; i < size; i++) prob[i] = quantizeProbability(Math.min(Math.max(prob[i]!, 0), 1));
  return { prob, alias };
}

/** The index of the first largest weight (a loop: spreading a large vocabulary into `Math.max` overflows the stack). */
function firstLargest(weights: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < weights.length; i++) if (weights[i]! > weights[best]!) best = i;
  return best;
}
