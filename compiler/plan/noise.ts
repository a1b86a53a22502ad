/**
 * The noise distribution of each `skipgram` loss (spec/objectives.md,
 * `skipgram`): P(w) ∝ count(w)^¾, where count(w) is how often `w` occurs as a
 * **context** id in the data a step reads, over the ids of the loss's `table`
 * part. This file decides, for `repr train` (cli/train/negatives.ts) and for
 * a compiled model's training steps alike, which model inputs are counted:
 * the inputs the `context` argument is made from.
 *
 * Why context ids only. word2vec's unigram table counts every word occurrence
 * of the corpus once, and a negative stands in for a context word. Skip-gram
 * pairs made with a symmetric window (spec/data.md, "Text corpora") hold each
 * occurrence as a context once per neighbour, so the context counts are the
 * corpus counts times the window (up to the few words at either end): the same
 * distribution. Counting centers too counted every pair twice; on symmetric
 * pairs that changed nothing, but on pairs whose centers and contexts differ
 * (a CSV of (word, next word), token windows) it mixed the centers'
 * distribution into the noise.
 */
import type { PlanInput, PlanNoiseTable } from "../../runtime/api/plan.js";
import type { NamedValue } from "../../runtime/kernel/graph.js";
import { tableSize } from "../../runtime/sampling/negative-table.js";
import { ancestors } from "../check/graph.js";
import type { CheckedModel } from "../check/program.js";
import { negativeInputs, skipgramCalls } from "../lower/skipgram.js";
import { nodeArg } from "../lower/rule.js";

/** What one `skipgram` counts: the inputs of its context ids, over the vocabulary of its table. */
export interface SkipgramNoise {
  /** The name its inputs carry: `negatives.<name>.prob` and `.alias` (`l`, or `l#2` for a loss's second). */
  readonly name: string;
  /** The model inputs (the data fields of the same names) whose ids are its context. */
  readonly fields: readonly string[];
  /** The rows of its table part: the ids a negative can be. */
  readonly vocab: number;
}

/** Every `skipgram` of the model's losses and what its noise counts. */
export function skipgramNoise(model: CheckedModel): SkipgramNoise[] {
  const graph = { node: (id: number) => model.graph.nodes[id]! };
  return model.losses.flatMap((loss) =>
    skipgramCalls(model.graph, loss).map(({ name, call }) => {
      const context = nodeArg(call, "context");
      const fields =
        context === null
          ? []
          : [...ancestors(graph, context)]
              .sort((a, b) => a - b)
              .map((id) => model.graph.nodes[id]!)
              .flatMap((n) => (n.op === "input" && n.type.dtype === "i32" ? [n.name] : []));
      const table = model.parts.find((p) => p.name === (call.args["table"] as { part: string }).part)?.layer;
      const vocab = table?.kind === "builtin" && typeof table.args["vocab"] === "number" ? table.args["vocab"] : 0;
      return { name, fields: [...new Set(fields)], vocab };
    }),
  );
}

/** The names of a graph's noise tables: `<name>` of every `negatives.<name>.prob` input. */
export function drawnNoise(graphInputs: readonly NamedValue[]): string[] {
  const prefix = "negatives.";
  const suffix = ".prob";
  return graphInputs.filter((g) => g.name.startsWith(prefix) && g.name.endsWith(suffix)).map((g) => g.name.slice(prefix.length, -suffix.length));
}

/**
 * The noise tables of a step of `model` with graph inputs `graphInputs` and
 * data inputs `inputs`, one per `skipgram` of its losses; null when the
 * runtime could not make one from the data it is given (a context that is
 * not made from the step's inputs, or a table whose length is not the
 * graph's).
 */
export function noiseTables(model: CheckedModel, inputs: readonly PlanInput[], graphInputs: readonly NamedValue[]): PlanNoiseTable[] | null {
  const drawn = drawnNoise(graphInputs);
  if (drawn.length === 0) return [];
  const noise = skipgramNoise(model);
  const tables: PlanNoiseTable[] = [];
  for (const name of drawn) {
    const n = noise.find((x) => x.name === name);
    if (!n || n.fields.length === 0 || !n.fields.every((f) => inputs.some((i) => i.name === f))) return null;
    const names = negativeInputs(name);
    const size = String(tableSize(n.vocab));
    if (![names.prob, names.alias].every((input) => graphInputs.find((g) => g.name === input)?.shape.join() === size)) return null;
    tables.push({ prob: names.prob, alias: names.alias, fields: [...n.fields], vocab: n.vocab });
  }
  return tables;
}
