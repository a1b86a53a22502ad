/**
 * `repr train FILE`: runs a pipeline (or a model's objective with `--model`)
 * on real data, with a progress bar, a checkpoint after each training step,
 * a metrics report, a loss curve and, for image models, pictures of what the
 * model reconstructs. Ctrl-C (SIGINT) or SIGTERM stops at the next update and
 * writes a resume checkpoint; `--resume` continues it exactly.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { messages } from "../../language/diagnostics/messages.js";
import { CheckpointError, readCheckpoint, type Tensor } from "../../runtime/checkpoint/index.js";
import { ExitCode, UserError } from "../errors.js";
import { DataSets, parseDataOptions } from "../train/data-sources.js";
import { emptyHistory } from "../train/history.js";
import { checkTrainOptions, type RawTrainOptions, type TrainOptions } from "../train/options.js";
import { openOutFolder } from "../train/out-folder.js";
import { CLOSED_OUTPUT_EXIT, whileOutputCloses } from "../streams.js";
import type { Backend } from "../../runtime/backends/backend.js";
import type { CheckedPipeline, CheckedProgram } from "../../compiler/check/program.js";
import { PipelineRun } from "../train/pipeline-run.js";
import { backendNamed } from "../train/programs.js";
import { reportTable, writeReport } from "../train/report.js";
import { fingerprint, readResume } from "../train/resume.js";
import { chooseTarget, fitsMemory, loadProgram } from "../train/target.js";

/** Exit codes of a run stopped by a signal, as shells report them (128 + the signal's number). */
const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143, SIGPIPE: CLOSED_OUTPUT_EXIT };

/** `repr train FILE [options]`. */
export async function trainCommand(file: string, raw: RawTrainOptions): Promise<number> {
  const options = checkTrainOptions(raw);
  const backend = backendNamed(options.backend);
  const loaded = loadProgram(file, { allowImportOutside: raw.allowImportOutside ?? false, maxMemory: options.maxMemory });
  if (!loaded) return ExitCode.userError;
  const { program, pipeline } = chooseTarget(loaded.program, file, options);
  // Before any tensor is allocated: the run's batch may be larger than the program's.
  if (!fitsMemory(program, pipeline, options.batch, options.maxMemory)) return ExitCode.userError;
  if (options.startAt >= pipeline.steps.length) throw new UserError(`--start-at ${options.startAt + 1}: pipeline '${pipeline.name}' has ${pipeline.steps.length} steps`);
  const bindings = parseDataOptions(options.data, program);
  const datasets = new DataSets(program, bindings, process.cwd());
  const print = (line: string) => process.stderr.write(line + "\n");
  // Before anything in --out is read or written: no other run may be writing there.
  const folder = openOutFolder(options.out, file, print);
  try {
    return await trainIn(file, options, { texts: loaded.texts, program, pipeline, datasets, backend }, print);
  } finally {
    folder.release();
  }
}

/** What a run trains, on what, with what. */
interface RunTarget {
  /** The text of every file of the program (the run's fingerprint covers them). */
  readonly texts: readonly string[];
  readonly program: CheckedProgram;
  readonly pipeline: CheckedPipeline;
  readonly datasets: DataSets;
  readonly backend: Backend;
}

/** The run itself, with the --out folder held. */
async function trainIn(file: string, options: TrainOptions, target: RunTarget, print: (line: string) => void): Promise<number> {
  const { texts, program, pipeline, datasets, backend } = target;
  const init = options.init === null ? null : await readInit(options.init);
  const key = fingerprint([
    ...texts,
    pipeline.name,
    JSON.stringify([options.data, options.seed, options.steps, options.epochs, options.batch, options.limit, options.backend, options.startAt]),
    init === null ? "" : JSON.stringify([...init].map(([n, t]) => [n, t.dtype, t.shape, Array.from(t.data.subarray(0, 16), Number)])),
  ]);
  let history = emptyHistory();
  let start: { stepIndex: number; next: number; store: Awaited<ReturnType<typeof readResume>>["store"] | null } = { stepIndex: 0, next: 0, store: null };
  const resumeFile = join(options.out, "resume.safetensors");
  if (options.resume) {
    if (!existsSync(resumeFile)) {
      throw UserError.from(messages.cannotResume, { path: resumeFile, reason: "there is no such file (the run finished, or never started in this --out folder)" });
    }
    const { store, point } = await readResume(resumeFile, { fingerprint: key, pipeline: pipeline.name });
    history = point.history;
    start = { stepIndex: point.stepIndex, next: point.next, store };
    print(`resuming pipeline ${pipeline.name} at step ${point.stepIndex + 1}, update ${point.next + 1}`);
  } else if (existsSync(resumeFile)) {
    print(`note: ${resumeFile} holds an unfinished run; it is replaced by this one (use --resume to continue it instead)`);
  }

  const run = new PipelineRun(program, pipeline, options, datasets, backend, key, history);
  run.initTensors = init === null ? null : { file: options.init!, tensors: init };
  const info = { file, pipeline: pipeline.name, model: pipeline.model!, backend: backend.name, out: options.out };
  run.onStepDone = async (h) => writeReport(info, h, run.pictures && run.picturesFile ? { rows: run.pictures, file: run.picturesFile } : null);
  print(`training ${pipeline.name} from ${file} on ${backend.name}; writing to ${resolve(options.out)}`);

  const onSignal = (signal: string) => () => {
    print(`\n${signal}: stopping after this update and writing a checkpoint...`);
    run.interrupt(signal);
  };
  const handlers = { SIGINT: onSignal("SIGINT"), SIGTERM: onSignal("SIGTERM") };
  process.on("SIGINT", handlers.SIGINT);
  process.on("SIGTERM", handlers.SIGTERM);
  // A closed terminal or pipe stops the run as a signal does: its updates are saved, not lost.
  const restoreOutput = whileOutputCloses(() => run.interrupt("SIGPIPE"));
  try {
    const outcome = await run.run(start);
    await run.onStepDone(run.history);
    if (outcome.kind === "interrupted") {
      print(`stopped by ${outcome.signal}; the run is saved in ${outcome.resumeFile}`);
      print("continue it with the same command and --resume");
      return SIGNAL_EXIT[outcome.signal] ?? ExitCode.userError;
    }
  } finally {
    restoreOutput();
    process.off("SIGINT", handlers.SIGINT);
    process.off("SIGTERM", handlers.SIGTERM);
  }
  process.stdout.write(reportTable(run.history) + "\n");
  process.stdout.write(`\nwrote ${join(options.out, "metrics.json")}, ${join(options.out, "loss-curve.png")}`);
  if (run.picturesFile) process.stdout.write(`, ${join(options.out, run.picturesFile)}`);
  const last = [...run.history.steps].reverse().find((s) => "checkpoint" in s);
  if (last && "checkpoint" in last) process.stdout.write(` and the weights ${join(options.out, last.checkpoint)}`);
  process.stdout.write("\n");
  return ExitCode.ok;
}

/** The tensors of an `--init` checkpoint, as the file holds them: they are checked against the model where they go in. */
async function readInit(path: string): Promise<ReadonlyMap<string, Tensor>> {
  try {
    return (await readCheckpoint(path)).tensors;
  } catch (err) {
    if (err instanceof CheckpointError) throw UserError.from(messages.badCheckpoint, { problem: err.message });
    throw err;
  }
}
