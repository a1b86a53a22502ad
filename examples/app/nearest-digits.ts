/**
 * What an app does with the autoencoder's representation, shared by the Node
 * and the browser versions: encode digits, then find each query's nearest
 * neighbours among the reference digits by cosine similarity of their codes.
 */
import { nearest } from "repr/runtime";
import type { Autoencoder } from "./autoencoder.js";

/** Digits: 28×28 images, pixels in [0, 1], row-major, and their labels. */
export interface Digits {
  readonly images: Float32Array;
  readonly labels: Int32Array;
}

/** The result of a search: each query's neighbours (reference indices) and how many share its label. */
export interface Search {
  readonly k: number;
  readonly neighbours: Int32Array;
  /** The fraction of all neighbours of all queries that have the query's label. */
  readonly sameLabel: number;
}

const PIXELS = 28 * 28;

/** Encodes both sets and finds the `k` nearest reference digits of every query digit. */
export async function searchNeighbours(model: Autoencoder, reference: Digits, queries: Digits, k: number): Promise<Search> {
  const width = 32;
  const refCodes = await model.encode(reference.images, reference.images.length / PIXELS);
  const queryCodes = await model.encode(queries.images, queries.images.length / PIXELS);
  const found = nearest(
    { rows: queries.labels.length, width, data: queryCodes },
    { rows: reference.labels.length, width, data: refCodes },
    k,
    "cosine",
  );
  let same = 0;
  for (let q = 0; q < queries.labels.length; q++) {
    for (let j = 0; j < k; j++) if (reference.labels[found.indices[q * k + j]!] === queries.labels[q]) same++;
  }
  return { k, neighbours: found.indices, sameLabel: same / (queries.labels.length * k) };
}

/** A few lines showing queries and their neighbours' labels. */
export function describeSearch(search: Search, queries: Digits, reference: Digits, shown: number): string[] {
  const lines: string[] = [];
  for (let q = 0; q < Math.min(shown, queries.labels.length); q++) {
    const labels = Array.from({ length: search.k }, (_, j) => reference.labels[search.neighbours[q * search.k + j]!]);
    lines.push(`test digit ${q} (a ${queries.labels[q]}): nearest training digits are ${labels.join(", ")}`);
  }
  lines.push(`${(100 * search.sameLabel).toFixed(1)}% of the ${search.k} nearest neighbours of ${queries.labels.length} test digits share their label`);
  return lines;
}
