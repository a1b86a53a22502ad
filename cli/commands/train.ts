/**
 * `repr train FILE`: runs a pipeline (or a model's objective with `--model`)
 * on real data, with a progress bar, a checkpoint after each training step,
 * a metrics report, a loss curve and, for image models, pictures of what the
 * model reconstructs. Ctrl-C (SIGINT) or SIGTERM stops at the next update and
 * writes a resume checkpoint; `--resume` continues it exactly. The training
 * itself is the runtime's engine (cli/train/pipeline-run.ts).
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { messages } from "../../language/diagnostics/messages.js";
import { ReprError } from "../../runtime/api/errors.js";
import { Pipeline } from "../../runtime/api/pipeline.js";
import type { ModelTensor } from "../../runtime/api/weights.js";
import { CheckpointError, readCheckpoint, type Tensor } from "../../runtime/checkpoint/index.js";
import type { RunHistory } from "../../runtime/train/history.js";
import type { RunState } from "../../runtime/train/pipeline-engine.js";
import type { CheckedPipeline, CheckedProgram } from "../../compiler/check/program.js";
import { ExitCode, UserError } from "../errors.js";
import { CLOSED_OUTPUT_EXIT, whileOutputCloses } from "../streams.js";
import { DataSets, parseDataOptions } from "../train/data-sources.js";
import { checkTrainOptions, type RawTrainOptions, type TrainOptions } from "../train/options.js";
import { openOutFolder } from "../train/out-folder.js";
import { fromCheckpointTensor } from "../train/params.js";
import { planOf, runTraining, type Pictures } from "../train/pipeline-run.js";
import { backendChoice } from "../train/programs.js";
import { reportTable, writeReport } from "../train/report.js";
import { fingerprint, readResume } from "../train/resume.js";
import { chooseTarget, fitsMemory, loadProgram } from "../train/target.js";

/** Exit codes of a run stopped by a signal, as shells report them (128 + the signal's number). */
const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143, SIGPIPE: CLOSED_OUTPUT_EXIT };

/** `repr train FILE [options]`. */
export async function trainCommand(file: string, raw: RawTrainOptions): Promise<number> {
  const options = checkTrainOptions(raw);
  const choice = backendChoice(options.backend);
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
    return await trainIn(file, options, { texts: loaded.texts, program, pipeline, datasets }, print);
  } finally {
    folder.release();
  }
}

/** What a run trains, and on what. */
interface RunTarget {
  /** The text of every file of the program (the run's fingerprint covers them). */
  readonly texts: readonly string[];
  readonly program: CheckedProgram;
  readonly pipeline: CheckedPipeline;
  readonly datasets: DataSets;
}

/** The run itself, with the --out folder held. */
async function trainIn(file: string, options: TrainOptions, target: RunTarget, print: (line: string) => void): Promise<number> {
  const { texts, program, pipeline, datasets } = target;
  const rawInit = options.init === null ? null : await readInit(options.init);
  const plan = planOf(program, pipeline);
  let runner: Pipeline;
  try {
    runner = await Pipeline.create(plan, pipeline.name, { backend: backendChoice(options.backend) });
  } catch (err) {
    if (err instanceof ReprError) throw new UserError(`--backend ${options.backend}: ${err.message}`);
    throw err;
  }
  const init = rawInit === null ? null : initTensors(rawInit, options.init!, runner.tensorsAt(options.startAt), options.startAt);
  // The backend that runs decides the bits: a run resumes only on the backend it started on.
  const key = fingerprint([
    ...texts,
    pipeline.name,
    JSON.stringify([options.data, options.seed, options.steps, options.epochs, options.batch, options.limit, runner.backend, options.startAt]),
    rawInit === null ? "" : JSON.stringify([...rawInit].map(([n, t]) => [n, t.dtype, t.shape, Array.from(t.data.subarray(0, 16), Number)])),
  ]);
  let resume: RunState | null = null;
  const resumeFile = join(options.out, "resume.safetensors");
  if (options.resume) {
    if (!existsSync(resumeFile)) {
      throw UserError.from(messages.cannotResume, { path: resumeFile, reason: "there is no such file (the run finished, or never started in this --out folder)" });
    }
    resume = await readResume(resumeFile, { fingerprint: key, pipeline: pipeline.name });
    print(`resuming pipeline ${pipeline.name} at step ${resume.stepIndex + 1}, update ${resume.next + 1}`);
  } else if (existsSync(resumeFile)) {
    print(`note: ${resumeFile} holds an unfinished run; it is replaced by this one (use --resume to continue it instead)`);
  }

  const where = runner.adapter === null ? runner.backend : `${runner.backend} (${runner.adapter})`;
  const info = { file, pipeline: pipeline.name, model: pipeline.model!, backend: runner.backend, adapter: runner.adapter, out: options.out };
  const report = async (history: RunHistory, pictures: Pictures) => writeReport(info, history, pictures.rows && pictures.file ? { rows: pictures.rows, file: pictures.file } : null, pictures.outputs);
  print(`training ${pipeline.name} from ${file} on ${where}; writing to ${resolve(options.out)}`);

  const controller = new AbortController();
  let stoppedBy: string | null = null;
  const stop = (signal: string) => {
    stoppedBy ??= signal;
    controller.abort();
  };
  const onSignal = (signal: string) => () => {
    print(`\n${signal}: stopping after this update and writing a checkpoint...`);
    stop(signal);
  };
  const handlers = { SIGINT: onSignal("SIGINT"), SIGTERM: onSignal("SIGTERM") };
  process.on("SIGINT", handlers.SIGINT);
  process.on("SIGTERM", handlers.SIGTERM);
  // A closed terminal or pipe stops the run as a signal does: its updates are saved, not lost.
  const restoreOutput = whileOutputCloses(() => stop("SIGPIPE"));
  let outcome;
  try {
    outcome = await runTraining({ plan, pipeline: runner, options, datasets, fingerprint: key, init, resume, stop: controller.signal, stoppedBy: () => stoppedBy, onReport: report });
  } finally {
    restoreOutput();
    process.off("SIGINT", handlers.SIGINT);
    process.off("SIGTERM", handlers.SIGTERM);
  }
  if (outcome.kind === "interrupted") {
    print(`stopped by ${outcome.signal}; the run is saved in ${outcome.resumeFile}`);
    print("continue it with the same command and --resume");
    return SIGNAL_EXIT[outcome.signal] ?? ExitCode.userError;
  }
  const history = outcome.history;
  process.stdout.write(reportTable(history) + "\n");
  process.stdout.write(`\nwrote ${join(options.out, "metrics.json")}, ${join(options.out, "loss-curve.png")}`);
  const lastTest = [...history.steps].reverse().find((s) => s.kind === "test" && s.pictures !== undefined);
  if (lastTest && lastTest.kind === "test") process.stdout.write(`, ${join(options.out, `${lastTest.step}-test-${lastTest.pictures}.png`)}`);
  const last = [...history.steps].reverse().find((s) => "checkpoint" in s);
  if (last && "checkpoint" in last) process.stdout.write(` and the weights ${join(options.out, last.checkpoint)}`);
  process.stdout.write("\n");
  return ExitCode.ok;
}

/**
 * `--init`'s tensors as the model at step `startAt` takes them: each must be
 * one of its tensors, with its shape and dtype (an integer tensor never fills
 * a float one) and finite values; RC805 names the file, the tensor and why.
 */
function initTensors(tensors: ReadonlyMap<string, Tensor>, file: string, expected: readonly { name: string; shape: readonly number[]; dtype: string }[], startAt: number): Map<string, ModelTensor> {
  const byName = new Map(expected.map((p) => [p.name, p]));
  const out = new Map<string, ModelTensor>();
  for (const [name, t] of tensors) {
    const p = byName.get(name);
    if (p === undefined) throw new UserError(`--init: the model at step ${startAt + 1} has no tensor '${name}'`);
    const converted = fromCheckpointTensor(t, { shape: p.shape, dtype: p.dtype === "i32" ? "i32" : "f32" });
    if (typeof converted === "string") throw UserError.from(messages.badCheckpoint, { problem: `--init ${file}: tensor '${name}' ${converted}` });
    out.set(name, converted);
  }
  return out;
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
