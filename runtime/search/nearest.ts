/**
 * Similarity search over row vectors: the `k` rows of a reference matrix most
 * similar to each query row, by dot product or by cosine. Plain typed arrays
 * in and out; ties go to the lower reference index, so results are
 * deterministic.
 */

/** How two vectors are compared: larger is more similar. */
export type Similarity = "dot" | "cosine";

/** The neighbours of each query: `indices[q·k + j]` is the j-th most similar reference row. */
export interface Neighbours {
  readonly k: number;
  readonly indices: Int32Array;
  readonly scores: Float32Array;
}

/** Row vectors: `rows × width` numbers, row-major. */
export interface Rows {
  readonly rows: number;
  readonly width: number;
  readonly data: ArrayLike<number>;
}

/** The Euclidean norm of each row (1 for an all-zero row, so cosine is 0 rather than NaN). */
function rowNorms(m: Rows): Float64Array {
  const norms = new Float64Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    for (let c = 0, o = r * m.width; c < m.width; c++) s += m.data[o + c]! * m.data[o + c]!;
    norms[r] = s > 0 ? Math.sqrt(s) : 1;
  }
  return norms;
}

/**
 * The `k` most similar reference rows for every query row. With `exclude`,
 * reference row `exclude(q)` is skipped for query `q` (a set searched against
 * itself). Throws a RangeError on mismatched widths or a `k` larger than the
 * rows available. A NaN similarity (from non-finite numbers) counts as −∞.
 */
export function nearest(queries: Rows, reference: Rows, k: number, similarity: Similarity = "cosine", exclude?: (query: number) => number): Neighbours {
  if (queries.width !== reference.width) throw new RangeError(`queries have ${queries.width} numbers per row, the reference ${reference.width}`);
  const available = reference.rows - (exclude ? 1 : 0);
  if (!Number.isInteger(k) || k < 1 || k > available) throw new RangeError(`k must be a whole number from 1 to ${available}, got ${k}`);
  const qn = similarity === "cosine" ? rowNorms(queries) : null;
  const rn = similarity === "cosine" ? rowNorms(reference) : null;
  const indices = new Int32Array(queries.rows * k);
  const scores = new Float32Array(queries.rows * k);
  const best = new Float64Array(k);
  const bestAt = new Int32Array(k);
  const w = queries.width;
  for (let q = 0; q < queries.rows; q++) {
    best.fill(-Infinity);
    bestAt.fill(-1);
    const skip = exclude ? exclude(q) : -1;
    for (let r = 0; r < reference.rows; r++) {
      if (r === skip) continue;
      let s = 0;
      for (let c = 0, a = q * w, b = r * w; c < w; c++) s += queries.data[a + c]! * reference.data[b + c]!;
      if (qn && rn) s /= qn[q]! * rn[r]!;
      // An undefined similarity (non-finite features) ranks last; left NaN, it would fail every `>` and stick in the top k.
      if (Number.isNaN(s)) s = -Infinity;
      // Insertion into the sorted top-k; strict `>` keeps the lower index first on ties.
      if (!(s > best[k - 1]!) && bestAt[k - 1] !== -1) continue;
      let j = k - 1;
      while (j > 0 && (s > best[j - 1]! || bestAt[j - 1] === -1)) {
        best[j] = best[j - 1]!;
        bestAt[j] = bestAt[j - 1]!;
        j--;
      }
      best[j] = s;
      bestAt[j] = r;
    }
    for (let j = 0; j < k; j++) {
      indices[q * k + j] = bestAt[j]!;
      scores[q * k + j] = best[j]!;
    }
  }
  return { k, indices, scores };
}
