/**
 * Where a text run's vocabulary lives: `vocabulary.json` in the run's `--out`
 * folder, beside its checkpoints (spec/checkpoints.md, "The vocabulary of a
 * text run"), and how `repr sample` finds it for a checkpoint.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** The vocabulary's file name in a run's folder. */
export const VOCABULARY_FILE = "vocabulary.json";

/** The vocabulary beside a checkpoint, if the run that wrote it saved one. */
export function vocabularyBeside(weights: string): string | null {
  const path = join(dirname(weights), VOCABULARY_FILE);
  return existsSync(path) ? path : null;
}
