/**
 * The feeds a training step's plan asks the runtime to make from a run,
 * besides the batch, `step` and `seed` (trainer.ts): the alias tables of its
 * `skipgram` negatives (`PlanTraining.noise`), from the token counts of the
 * data, and the number of updates of the run (`PlanTraining.updatesInput`),
 * which a `cosine` schedule over `epochs` decays over. The compiler chose the
 * input names, the fields counted and the vocabulary
 * (compiler/plan/noise.ts); this only counts and copies, exactly as
 * `repr train` does for the same split (cli/train/negatives.ts).
 *
 * How the trainer uses it:
 *
 * - its graph check accepts `stepFeedNames(step)` besides the data inputs,
 *   `step` and `seed`;
 * - `fit(step, data, options)`, once per call, after the number of updates
 *   of the run is known and before the first update: `stepFeeds(step, data,
 *   updates)`, with all the data passed to `fit` (not a batch) and the total
 *   updates that `fit` call runs; every entry goes into the graph's feeds
 *   (replacing those of an earlier call) and stays for the whole run;
 * - `evaluate(step, data)`: `noiseFeeds(step, data)`, the noise of the data
 *   evaluated (as `repr train`'s `test` counts the split it tests), keeping
 *   the last `updatesFeed` (the loss does not depend on it);
 * - `trainStep(step, batch)` is no run of its own: it keeps the feeds of the
 *   last `fit`; before any, `stepFeeds(step, batch, Math.max(step.updates, 1))`.
 */
import type { TensorFeed } from "../backends/backend.js";
import { negativeTable, tableSize, tokenCounts } from "../sampling/negative-table.js";
import { ReprError } from "./errors.js";
import type { Inputs } from "./inputs.js";
import type { PlanNoiseTable, PlanTraining } from "./plan.js";

/** The graph inputs of `step` that `stepFeeds` feeds: each noise table's two, then the updates input. */
export function stepFeedNames(step: Pick<PlanTraining, "noise" | "updatesInput">): string[] {
  const names = step.noise.flatMap((t) => [t.prob, t.alias]);
  if (step.updatesInput !== null) names.push(step.updatesInput);
  return names;
}

/** Every feed `stepFeeds` makes: the noise tables of `data` and the run's number of `updates`. */
export function stepFeeds(step: PlanTraining, data: Inputs, updates: number): Map<string, TensorFeed> {
  return new Map([...noiseFeeds(`training step '${step.name}'`, step.noise, data), ...updatesFeed(step, updates)]);
}

/**
 * The alias table of each noise distribution, from the ids of its fields in
 * `data` (all the examples given, in any order: only the counts matter).
 * None when the step draws no negatives. `where` names the step in messages.
 */
export function noiseFeeds(where: string, noise: readonly PlanNoiseTable[], data: Inputs): Map<string, TensorFeed> {
  const feeds = new Map<string, TensorFeed>();
  for (const table of noise) {
    const columns = table.fields.map((field) => {
      const column = Object.prototype.hasOwnProperty.call(data, field) ? data[field] : undefined;
      if (column === undefined) throw new ReprError(`${where}: its negatives count the input '${field}', which was not given`);
      return column;
    });
    const counted = negativeTable(tokenCounts(columns, table.vocab));
    const shape = [tableSize(table.vocab)];
    // The probabilities lie on the 2^−24 grid, so float32 holds them exactly.
    feeds.set(table.prob, { shape, data: Float32Array.from(counted.prob) });
    feeds.set(table.alias, { shape, data: counted.alias });
  }
  return feeds;
}

/** The run's number of updates as the step's updates input; none when its graph has none. */
export function updatesFeed(step: PlanTraining, updates: number): Map<string, TensorFeed> {
  const feeds = new Map<string, TensorFeed>();
  if (step.updatesInput === null) return feeds;
  if (!Number.isSafeInteger(updates) || updates < 0 || updates >= 2 ** 31) {
    throw new ReprError(`training step '${step.name}': the number of updates must be a whole number in [0, 2^31), got ${updates}`);
  }
  feeds.set(step.updatesInput, { shape: [], data: Int32Array.of(updates) });
  return feeds;
}
