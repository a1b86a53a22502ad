/**
 * The alias tables a `skipgram` objective draws its negatives from
 * (runtime/sampling/negative-table.ts): the noise distribution P(w) ∝ count(w)^¾
 * over the vocabulary, with the counts of every token id in the split's token
 * fields — the word frequencies of the corpus the step reads. A plan's
 * training step names the same fields (compiler/plan/noise.ts), so the
 * runtime's `Model` makes the same table from the same data.
 */
import type { CheckedData } from "../../compiler/check/program.js";
import type { TensorFeed } from "../../runtime/backends/backend.js";
import type { Split } from "../../runtime/data/index.js";
import type { NamedValue } from "../../runtime/kernel/graph.js";
import { negativeTable, tokenCounts } from "../../runtime/sampling/negative-table.js";

/** Feeds for every `negatives.<loss>.prob` / `.alias` input of a graph, or none. */
export function negativeFeeds(inputs: readonly NamedValue[], split: Split, data: CheckedData): Record<string, TensorFeed> {
  const feeds: Record<string, TensorFeed> = {};
  const probs = inputs.filter((x) => x.name.startsWith("negatives.") && x.name.endsWith(".prob"));
  if (probs.length === 0) return feeds;
  const tokenFields = data.fields.filter((f) => f.type.vocab !== undefined);
  const vocab = Math.max(...tokenFields.map((f) => f.type.vocab!));
  const columns = tokenFields.map((f) => split.columns.get(f.name)?.data).filter((c) => c !== undefined);
  const table = negativeTable(tokenCounts(columns, vocab));
  for (const input of probs) {
    if (table.prob.length !== input.shape[0]) throw new Error(`internal error: ${input.name} has ${input.shape[0]} entries, the vocabulary's table ${table.prob.length}`);
    feeds[input.name] = { shape: input.shape, data: Float32Array.from(table.prob) };
    feeds[`${input.name.slice(0, -".prob".length)}.alias`] = { shape: input.shape, data: table.alias };
  }
  return feeds;
}
