/**
 * What the text experiments report beside repr's own numbers: unigram and
 * bigram baselines for a character model, counted on the same split as
 * `repr train` (spec/data.md, Text corpora), and the nearest neighbours of
 * words by the cosine similarity of their vectors.
 */
import { nearest } from "../../runtime/search/nearest.js";

/** A character's id in the fixed 96-character vocabulary: printable ASCII 0-94, newline 95, anything else a space (0). */
export function charId(code: number): number {
  if (code >= 0x20 && code <= 0x7e) return code - 0x20;
  return code === 10 ? 95 : 0;
}

/** Held-out nats per character of add-one unigram and bigram models counted on the first 80% of the text. */
export function characterBaselines(text: string): { unigram: number; bigram: number; trainChars: number; testChars: number } {
  const ids = Array.from(text, (c) => charId(c.codePointAt(0)!));
  const cut = Math.floor((ids.length * 4) / 5);
  const V = 96;
  const uni = new Float64Array(V);
  const bi = new Float64Array(V * V);
  const row = new Float64Array(V);
  for (let i = 0; i < cut; i++) {
    uni[ids[i]!]!++;
    if (i > 0) {
      bi[ids[i - 1]! * V + ids[i]!]!++;
      row[ids[i - 1]!]!++;
    }
  }
  let u = 0;
  let b = 0;
  for (let i = cut; i < ids.length; i++) {
    const c = ids[i]!;
    u -= Math.log((uni[c]! + 1) / (cut + V));
    const p = ids[i - 1]!;
    b -= Math.log((bi[p * V + c]! + 1) / (row[p]! + V));
  }
  const n = ids.length - cut;
  return { unigram: u / n, bigram: b / n, trainChars: cut, testChars: n };
}

/** The `k` nearest words of each query word by cosine similarity, skipping the word itself. */
export function wordNeighbours(table: Float32Array, width: number, tokens: readonly string[], queries: readonly string[], k: number): { word: string; neighbours: { word: string; score: number }[] }[] {
  const rows = table.length / width;
  const out: { word: string; neighbours: { word: string; score: number }[] }[] = [];
  for (const word of queries) {
    const id = tokens.indexOf(word);
    if (id < 0 || id >= rows) continue;
    const query = table.subarray(id * width, (id + 1) * width);
    // Only ids that are real words are candidates (not <other> or empty ids).
    const result = nearest({ rows: 1, width, data: query }, { rows, width, data: table }, Math.min(rows, k + 3), "cosine");
    const neighbours: { word: string; score: number }[] = [];
    for (let j = 0; j < result.k && neighbours.length < k; j++) {
      const n = result.indices[j]!;
      if (n === id || !tokens[n] || tokens[n] === "<other>") continue;
      neighbours.push({ word: tokens[n]!, score: result.scores[j]! });
    }
    out.push({ word, neighbours });
  }
  return out;
}

/** Words as the corpus loader cuts them: lowercased runs of letters, digits and apostrophes. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
}

/**
 * Retrieval with word vectors: each document is the mean of the unit vectors of
 * its known words, and the documents nearest the query's mean, by cosine, come back.
 */
export function retrieve(table: Float32Array, width: number, tokens: readonly string[], documents: readonly string[], query: string, k: number): { text: string; score: number }[] {
  const index = new Map(tokens.map((t, i) => [t, i] as const));
  const embed = (text: string): Float32Array | null => {
    const v = new Float32Array(width);
    let n = 0;
    for (const w of words(text)) {
      const id = index.get(w);
      if (id === undefined || w === "<other>") continue;
      const row = table.subarray(id * width, (id + 1) * width);
      let norm = 0;
      for (const x of row) norm += x * x;
      norm = Math.sqrt(norm) || 1;
      for (let j = 0; j < width; j++) v[j]! += row[j]! / norm;
      n++;
    }
    return n === 0 ? null : v;
  };
  const q = embed(query);
  if (!q) return [];
  const kept: string[] = [];
  const vectors: number[] = [];
  for (const d of documents) {
    const v = embed(d);
    if (v) {
      kept.push(d);
      vectors.push(...v);
    }
  }
  if (kept.length === 0) return [];
  const result = nearest({ rows: 1, width, data: q }, { rows: kept.length, width, data: vectors }, Math.min(k, kept.length), "cosine");
  return Array.from(result.indices, (i, j) => ({ text: kept[i]!, score: result.scores[j]! }));
}
