/**
 * `repr test FILE --weights ckpt.safetensors`: evaluates trained weights —
 * every test step of a pipeline, with the model as it is at that step, or a
 * model's losses (and accuracy, mse) on its data's test split — and prints
 * the losses and the metrics the file declares. A loss or metric that is
 */
import { readFileSync } from "node:fs";
import { messages } from "../../language/diagnostics/messages.js";
import { ReprError } from "../../runtime/api/errors.js";
import { Pipeline } from "../../runtime/api/pipeline.js";
import { DataError } from "../../runtime/data/errors.js";
import { emptyHistory } from "../../runtime/train/history.js";
import { ExitCode, UserError } from "../errors.js";
import { dataUserError, DataSets, parseDataOptions } from "../train/data-sources.js";
import { checkTrainOptions, type RawTrainOptions } from "../train/options.js";
import { checkFinite, planOf } from "../train/pipeline-run.js";
import { backendChoice } from "../train/programs.js";
import { reportTable } from "../train/report.js";
import { chooseTarget, fitsMemory, loadProgram } from "../train/target.js";

/** `repr test FILE --weights W [options]`. */
export async function testCommand(file: string, raw: RawTrainOptions & { weights: string; json?: boolean }): Promise<number> {
  const options = checkTrainOptions({ ...raw, out: "." });
  const choice = backendChoice(options.backend);
  const loaded = loadProgram(file, { allowImportOutside: raw.allowImportOutside ?? false, maxMemory: options.maxMemory });
  if (!loaded) return ExitCode.userError;
  const { program, pipeline } = chooseTarget(loaded.program, file, options);
  if (!fitsMemory(program, pipeline, options.batch, options.maxMemory)) return ExitCode.userError;
  const tests = pipeline.steps.flatMap((s, i) => (s.kind === "test" ? [i] : []));
  if (tests.length === 0) throw new UserError(`pipeline '${pipeline.name}' has no test step; add one (test on DATA.test { metrics: [...] }) or use --model`);
  const datasets = new DataSets(program, parseDataOptions(options.data, program), process.cwd());
  let weights: Uint8Array;
  try {
    weights = readFileSync(raw.weights);
  } catch (err) {
    throw UserError.from(messages.badCheckpoint, { problem: `cannot read ${raw.weights}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
  }
  const runner = await Pipeline.create(planOf(program, pipeline), pipeline.name, { backend: choice });
  const history = emptyHistory();
  for (const i of tests) {
    try {
      const { record } = await runner.test(i, weights, {
        data: (name) => datasets.splits(name),
        ...(options.seed !== null ? { seed: options.seed } : {}),
        ...(options.batch !== null ? { batch: options.batch } : {}),
        ...(options.limit !== null ? { limit: options.limit } : {}),
      });
      history.steps.push(record);
    } catch (err) {
      if (err instanceof ReprError && err.cause instanceof DataError) throw dataUserError(err.cause);
      if (err instanceof ReprError) throw UserError.from(messages.badCheckpoint, { problem: `${raw.weights} does not fit the model at step ${i + 1}: ${err.message}` });
      throw err;
    }
  }
  if (raw.json) process.stdout.write(JSON.stringify({ file, pipeline: pipeline.name, weights: raw.weights, steps: history.steps }, null, 2) + "\n");
  else process.stdout.write(reportTable(history) + "\n");
  // Printed, then refused: a test that measured NaN did not pass.
  for (const record of history.steps) if (record.kind === "test") checkFinite(record);
  return ExitCode.ok;
}
