/**
 * The noise tables of a planned training or test step: for each `skipgram`
 * loss, the inputs its alias table is fed through and what the runtime
 * counts to make it (runtime/api/step-feeds.ts): the ids of every token
 * field of the step's data declaration, over the largest vocabulary among
 * them — the engine has the whole split, read by the step or not. For the
 * model's own step (no data declaration), the token inputs of the model,
 * which `fit` is given, stand for it.
 */
import type { PlanInput, PlanNoiseTable } from "../../runtime/api/plan.js";
import type { NamedValue } from "../../runtime/kernel/graph.js";
import { tableSize } from "../../runtime/sampling/negative-table.js";
import type { CheckedProgram, CheckedStep } from "../check/program.js";
import { negativeInputs } from "../lower/skipgram.js";

/** How the inputs of a loss's table are named (`negativeInputs`): `negatives.<loss>.prob` and `.alias`. */
const PREFIX = "negatives.";
const PROB_SUFFIX = ".prob";

/** The token fields a noise table counts, and the number of ids it is over. */
interface Counted {
  readonly fields: readonly string[];
  readonly vocab: number;
}

/**
 * The noise tables of a step with graph inputs `graphInputs` and data inputs
 * `inputs`, one per `skipgram` of its losses; null when the runtime could not
 * make them from the data it is given (a token field of the data declaration
 * that the step does not read, no token field at all, or a vocabulary whose
 * table is not as long as the graph's).
 */
export function noiseTables(program: CheckedProgram, step: CheckedStep | null, inputs: readonly PlanInput[], graphInputs: readonly NamedValue[]): PlanNoiseTable[] | null {
  // `negatives.<loss>.prob`, where <loss> is a loss's name (`l`, or `l#2` for its second skipgram).
  const drawing = graphInputs
    .filter((g) => g.name.startsWith(PREFIX) && g.name.endsWith(PROB_SUFFIX))
    .map((g) => negativeInputs(g.name.slice(PREFIX.length, -PROB_SUFFIX.length)));
  if (drawing.length === 0) return [];
  const counted = countedFields(program, step, inputs);
  if (counted === null) return null;
  const size = tableSize(counted.vocab);
  // The table's length is the graph's; a vocabulary whose table has another length has no table to feed.
  const fits = drawing.every((names) => [names.prob, names.alias].every((name) => graphInputs.find((g) => g.name === name)?.shape.join() === String(size)));
  if (!fits) return null;
  return drawing.map((names) => ({ prob: names.prob, alias: names.alias, fields: [...counted.fields], vocab: counted.vocab }));
}

/** What the runtime counts: the token fields of the step's data, or the model's token inputs. */
function countedFields(program: CheckedProgram, step: CheckedStep | null, inputs: readonly PlanInput[]): Counted | null {
  const declaration = step !== null && "data" in step ? program.data.find((d) => d.name === step.data.data) : undefined;
  const tokens = declaration
    ? declaration.fields.filter((f) => f.type.vocab !== undefined).map((f) => ({ name: f.name, vocab: f.type.vocab! }))
    : inputs.filter((i) => i.vocab !== undefined).map((i) => ({ name: i.name, vocab: i.vocab! }));
  if (tokens.length === 0) return null;
  return { fields: tokens.map((t) => t.name), vocab: Math.max(...tokens.map((t) => t.vocab)) };
}
