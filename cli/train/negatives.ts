/**
 * The alias tables a `skipgram` objective draws its negatives from
 * (runtime/sampling/negative-table.ts): the noise distribution
 * P(w) ∝ count(w)^¾ over the ids of the loss's table, with the counts of
 * the **context** ids in the split the step reads. Which fields hold them is
 * decided once, for `repr train` and compiled models alike
 * (compiler/plan/noise.ts, which says why context ids only).
 */
import { skipgramNoise } from "../../compiler/plan/noise.js";
import type { CheckedModel } from "../../compiler/check/program.js";
import type { TensorFeed } from "../../runtime/backends/backend.js";
import type { Split } from "../../runtime/data/index.js";
import type { NamedValue } from "../../runtime/kernel/graph.js";
import { negativeTable, tokenCounts } from "../../runtime/sampling/negative-table.js";

/** Feeds for every `negatives.<loss>.prob` / `.alias` input of a graph of `model`, or none. */
export function negativeFeeds(inputs: readonly NamedValue[], split: Split, model: CheckedModel): Record<string, TensorFeed> {
  const feeds: Record<string, TensorFeed> = {};
  const probs = inputs.filter((x) => x.name.startsWith("negatives.") && x.name.endsWith(".prob"));
  if (probs.length === 0) return feeds;
  const noise = skipgramNoise(model);
  for (const input of probs) {
    const name = input.name.slice("negatives.".length, -".prob".length);
    const n = noise.find((x) => x.name === name);
    if (!n) throw new Error(`internal error: ${input.name} belongs to no skipgram of model '${model.name}'`);
    const columns = n.fields.map((f) => {
      const column = split.columns.get(f);
      if (!column) throw new Error(`internal error: the split has no field '${f}', the context of skipgram '${name}'`);
      return column.data;
    });
    const table = negativeTable(tokenCounts(columns, n.vocab));
    if (table.prob.length !== input.shape[0]) throw new Error(`internal error: ${input.name} has ${input.shape[0]} entries, the vocabulary's table ${table.prob.length}`);
    feeds[input.name] = { shape: input.shape, data: Float32Array.from(table.prob) };
    feeds[`${input.name.slice(0, -".prob".length)}.alias`] = { shape: input.shape, data: table.alias };
  }
  return feeds;
}
