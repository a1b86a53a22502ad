/**
 * `repr test FILE --weights ckpt.safetensors`: evaluates trained weights —
 * every test step of a pipeline, with the model as it is at that step, or a
 * model's losses (and accuracy, mse) on its data's test split — and prints
 * the losses and the metrics the file declares.
 */
import { messages } from "../../language/diagnostics/messages.js";
import { CheckpointError, readCheckpoint } from "../../runtime/checkpoint/index.js";
import { TensorStore } from "../../runtime/train/store.js";
import { ExitCode, UserError } from "../errors.js";
import { DataSets, parseDataOptions } from "../train/data-sources.js";
import { emptyHistory } from "../train/history.js";
import { checkTrainOptions, type RawTrainOptions } from "../train/options.js";
import { fromCheckpointTensor } from "../train/params.js";
import { PipelineRun } from "../train/pipeline-run.js";
import { backendNamed } from "../train/programs.js";
import { reportTable } from "../train/report.js";
import { chooseTarget, fitsMemory, loadProgram } from "../train/target.js";

/** `repr test FILE --weights W [options]`. */
export async function testCommand(file: string, raw: RawTrainOptions & { weights: string; json?: boolean }): Promise<number> {
  const options = checkTrainOptions({ ...raw, out: "." });
  const backend = backendNamed(options.backend);
  const loaded = loadProgram(file, { allowImportOutside: raw.allowImportOutside ?? false, maxMemory: options.maxMemory });
  if (!loaded) return ExitCode.userError;
  const { program, pipeline } = chooseTarget(loaded.program, file, options);
  if (!fitsMemory(program, pipeline, options.batch, options.maxMemory)) return ExitCode.userError;
  const tests = pipeline.steps.flatMap((s, i) => (s.kind === "test" ? [i] : []));
  if (tests.length === 0) throw new UserError(`pipeline '${pipeline.name}' has no test step; add one (test on DATA.test { metrics: [...] }) or use --model`);
  const datasets = new DataSets(program, parseDataOptions(options.data, program), process.cwd());
  let decoded;
  try {
    decoded = await readCheckpoint(raw.weights);
  } catch (err) {
    if (err instanceof CheckpointError) throw UserError.from(messages.badCheckpoint, { problem: err.message });
    throw err;
  }
  const run = new PipelineRun(program, pipeline, options, datasets, backend, "", emptyHistory());
  for (const i of tests) {
    await run.testWith(i, storeFor(run.paramsAt(i), decoded.tensors, raw.weights, i + 1));
  }
  if (raw.json) process.stdout.write(JSON.stringify({ file, pipeline: pipeline.name, weights: raw.weights, steps: run.history.steps }, null, 2) + "\n");
  else process.stdout.write(reportTable(run.history) + "\n");
  return ExitCode.ok;
}

/** The checkpoint's tensors as the model at a step expects them: every tensor present, with its shape. */
function storeFor(
  expected: readonly { name: string; shape: readonly number[]; dtype: "f32" | "i32" }[],
  tensors: ReadonlyMap<string, import("../../runtime/checkpoint/index.js").Tensor>,
  file: string,
  step: number,
): TensorStore {
  const store = new TensorStore();
  const problems: string[] = [];
  for (const p of expected) {
    const t = tensors.get(p.name);
    if (!t) {
      problems.push(`it has no tensor '${p.name}' [${p.shape.join(", ")}]`);
      continue;
    }
    const converted = fromCheckpointTensor(t, p);
    if (typeof converted === "string") problems.push(`tensor '${p.name}' ${converted}`);
    else store.set(p.name, converted);
  }
  const known = new Set(expected.map((p) => p.name));
  const extra = [...tensors.keys()].filter((n) => !known.has(n) && !n.includes(".adam.") && !n.includes(".momentum."));
  if (extra.length > 0) problems.push(`tensors the model does not have at step ${step}: ${extra.slice(0, 5).map((n) => `'${n}'`).join(", ")}${extra.length > 5 ? ", ..." : ""}`);
  if (problems.length > 0) {
    throw UserError.from(messages.badCheckpoint, { problem: `${file} does not fit the model at step ${step}: ${problems.slice(0, 6).join("; ")}${problems.length > 6 ? `; and ${problems.length - 6} more` : ""}` });
  }
  return store;
}
