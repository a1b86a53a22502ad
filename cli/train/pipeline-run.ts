/**
 * `repr train`'s side of a run: the training engine (runtime/train/) runs the
 * pipeline; this file binds it to files and the terminal — the plan built
 * from the checked program, data loaded from `--data` sources, a progress
 * bar, a checkpoint after each training step, the report after every step,
 * the resume checkpoint (periodic, at step boundaries, and when a signal
 * stops the run), and errors in the CLI's terms.
 */
import { vocabularyToJson } from "../../runtime/data/vocabulary.js";
import { writeFileAtomic } from "../files.js";
import { VOCABULARY_FILE } from "./vocabulary-file.js";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { buildModelPlan } from "../../compiler/plan/index.js";
import type { CheckedPipeline, CheckedProgram } from "../../compiler/check/program.js";
import { messages } from "../../language/diagnostics/messages.js";
import { Pipeline } from "../../runtime/api/pipeline.js";
import { ReprError } from "../../runtime/api/errors.js";
import type { ModelPlan } from "../../runtime/api/plan.js";
import type { ModelTensor } from "../../runtime/api/weights.js";
import { checkpointMetadata, encodeSafetensors } from "../../runtime/checkpoint/index.js";
import { DataError } from "../../runtime/data/errors.js";
import { globalUpdates, type RunHistory, type StepRecord } from "../../runtime/train/history.js";
import { TrainingDiverged, type ProgressEvent, type RunState } from "../../runtime/train/pipeline-engine.js";
import { UserError } from "../errors.js";
import { createProgress, type Progress } from "../report/progress.js";
import { dataUserError, type DataSets } from "./data-sources.js";
import { saveCheckpoint } from "./out-folder.js";
import type { TrainOptions } from "./options.js";
import { toCheckpointTensors } from "./params.js";
import { outputPictureNames, outputPictureRows, pictureRows, type PictureRow } from "./pictures.js";
import { writeResume } from "./resume.js";
import { testPause } from "./test-pause.js";
import { VERSION } from "../version.js";

/** How a run ended. */
export type RunOutcome = { readonly kind: "done"; readonly history: RunHistory } | { readonly kind: "interrupted"; readonly signal: string; readonly resumeFile: string; readonly history: RunHistory };

/** The plan of the model a pipeline trains, with that pipeline (the one `repr train` runs). */
export function planOf(program: CheckedProgram, pipeline: CheckedPipeline): ModelPlan {
  return buildModelPlan(program, pipeline.model!, { pipelines: [pipeline] });
}

/** What the report needs besides the history: the pictures of the last test step that had any. */
export interface Pictures {
  rows: PictureRow[] | null;
  file: string | null;
  /** The named outputs' pictures of the last test step (`<step>-test-<name>.png`). */
  outputs: { readonly rows: PictureRow[]; readonly file: string }[];
}

/** Everything a `repr train` run is given. */
export interface TrainRun {
  readonly plan: ModelPlan;
  readonly pipeline: Pipeline;
  readonly options: TrainOptions;
  readonly datasets: DataSets;
  /** The run's fingerprint (resume.ts): what decides its results. */
  readonly fingerprint: string;
  readonly init: ReadonlyMap<string, ModelTensor> | null;
  readonly resume: RunState | null;
  /** Asks the run to stop (a signal's name) at the next update boundary. */
  readonly stop: AbortSignal;
  /** The signal that stopped it, once one did. */
  readonly stoppedBy: () => string | null;
  /** Writes the report after every step. */
  readonly onReport: (history: RunHistory, pictures: Pictures) => Promise<void>;
}

/** The pretrain step's seed: it fixed the initial weights and seeds fresh heads (checkpoints record it). */
function pretrainSeed(run: TrainRun): number {
  const first = run.pipeline.pipeline.steps[0];
  return run.options.seed ?? (first?.kind === "pretrain" ? (first.seed ?? 0) : 0);
}

/** Runs the pipeline to its end, or until a signal stops it; errors reach the user in the CLI's terms. */
export async function runTraining(run: TrainRun): Promise<RunOutcome> {
  const { options } = run;
  const resumeFile = join(options.out, "resume.safetensors");
  const pictures: Pictures = { rows: null, file: null, outputs: [] };
  const info = (step: number, phase: string) => ({ version: VERSION, model: run.plan.model, step, phase, seed: pretrainSeed(run) });
  let progress = null as Progress | null;
  let seen = 0;
  const onProgress = (e: ProgressEvent): Promise<void> | undefined => {
    if (e.kind === "step-start" && (e.phase === "pretrain" || e.phase === "adapt")) {
      progress?.stop();
      seen = 0;
      progress = createProgress({ total: e.updates, phase: `${e.step} ${e.phase}`, plain: options.plain, stream: process.stderr, startStep: e.next });
    } else if (e.kind === "update") {
      seen += e.examples;
      progress?.update(e.update + 1, { loss: e.loss, examples: seen });
      return testPause(`update:${e.step}:${e.update + 1}`);
    } else if (e.kind === "step-end") {
      progress?.stop();
      progress = null;
      return testPause(`step:${e.step}`);
    }
    return undefined;
  };
  try {
    const result = await run.pipeline.run({
      data: (name) => run.datasets.splits(name),
      ...(options.seed !== null ? { seed: options.seed } : {}),
      ...(options.steps !== null ? { steps: options.steps } : {}),
      ...(options.epochs !== null ? { epochs: options.epochs } : {}),
      ...(options.batch !== null ? { batch: options.batch } : {}),
      ...(options.limit !== null ? { limit: options.limit } : {}),
      ...(run.resume !== null ? { resume: run.resume } : {}),
      ...(options.startAt > 0 ? { startAt: options.startAt } : {}),
      ...(run.init !== null ? { init: run.init } : {}),
      signal: run.stop,
      onProgress,
      onStepEnd: async (end) => {
        if (end.record.kind === "pretrain" || end.record.kind === "adapt") {
          const path = join(options.out, end.record.checkpoint);
          const weights = await end.weights();
          await saveCheckpoint(path, encodeSafetensors(toCheckpointTensors(weights), checkpointMetadata(info(globalUpdates(end.history), end.record.kind))));
          await saveVocabulary(options.out, run, end.step);
        }
        if (end.record.kind === "test" && end.pictures !== null && end.record.pictures !== undefined) {
          pictures.rows = pictureRows(end.pictures, end.record.pictures);
          pictures.file = picturesFile(end.record);
        }
        if (end.record.kind === "test" && end.pictures !== null) {
          const step = end.record.step;
          const drawn = outputPictureNames(end.pictures).flatMap((name) => {
            const rows = outputPictureRows(end.pictures!, name);
            return rows ? [{ rows, file: `${step}-test-${name}.png` }] : [];
          });
          if (drawn.length > 0) pictures.outputs = drawn;
        }
        await run.onReport(end.history, pictures);
        // Reported (metrics.json has it) and then refused: a test that measured NaN did not pass.
        if (end.record.kind === "test") checkFinite(end.record);
      },
      checkpoint: {
        everyMs: options.checkpointEverySeconds * 1000,
        save: (state) => writeResume(resumeFile, state, run.fingerprint, info(globalUpdates(state.history), run.pipeline.pipeline.steps[state.stepIndex]?.kind ?? "done")),
      },
    });
    progress?.stop();
    if (result.kind === "stopped") {
      const state = result.state;
      await writeResume(resumeFile, state, run.fingerprint, info(globalUpdates(state.history), run.pipeline.pipeline.steps[state.stepIndex]?.kind ?? "done"));
      await run.onReport(result.history, pictures);
      return { kind: "interrupted", signal: run.stoppedBy() ?? "stop", resumeFile, history: result.history };
    }
    result.model.dispose();
    rmSync(resumeFile, { force: true });
    return { kind: "done", history: result.history };
  } catch (err) {
    progress?.stop();
    throw asUserError(err, options.out);
  }
}

/** A test step whose losses or metrics are NaN or infinite is an error (RC811), naming the first such value. */
export function checkFinite(record: Extract<StepRecord, { kind: "test" }>): void {
  const values = [
    ...Object.entries(record.losses).map(([name, value]) => ({ what: "the loss", name, value })),
    ...Object.entries(record.metrics).map(([name, value]) => ({ what: "the metric", name, value })),
  ];
  const bad = values.find((v) => !Number.isFinite(v.value));
  if (bad) throw UserError.from(messages.nonFiniteResult, { step: record.step, data: record.data, what: bad.what, name: bad.name, value: String(bad.value) });
}

/** The file a test step's pictures go to. */
export function picturesFile(record: Extract<StepRecord, { kind: "test" }>): string {
  return `${record.step}-test-${record.pictures}.png`;
}

/** An engine error as the CLI reports it: a diverged loss (RC806), bad data (RC804), another caller mistake; bugs stay as they are. */
function asUserError(err: unknown, out: string): unknown {
  if (err instanceof TrainingDiverged) return divergedError(err, out);
  if (err instanceof ReprError) {
    if (err.cause instanceof DataError) return dataUserError(err.cause);
    return new UserError(err.message);
  }
  if (err instanceof DataError) return dataUserError(err);
  return err;
}

/** RC806: where the loss stopped being finite, and which checkpoint holds the last good weights. */
function divergedError(err: TrainingDiverged, out: string): UserError {
  return UserError.from(messages.diverged, { value: String(err.loss), update: err.update, step: err.step, phase: err.phase, kept: keptNote(err.step, out, err.history) });
}

function keptNote(step: number, out: string, history: RunHistory | null): string {
  const done = (history?.steps ?? []).filter((s): s is Extract<StepRecord, { kind: "pretrain" | "adapt" }> => (s.kind === "pretrain" || s.kind === "adapt") && s.step < step);
  const last = done[done.length - 1];
  return last ? `the last good weights are in ${join(out, last.checkpoint)}; no checkpoint was written for this step` : "no checkpoint was written; try a smaller learning rate or `clip`";
}

export { toCheckpointTensors };

/**
 * Beside a training step's checkpoint, the vocabulary of a text corpus it
 * trained on (`vocabulary.json`, spec/checkpoints.md): what `repr sample`
 * reads to write a prompt as ids and print text. Data without one writes none.
 */
async function saveVocabulary(out: string, run: TrainRun, step: number): Promise<void> {
  const planned = run.pipeline.pipeline.steps[step - 1];
  if (!planned || !("data" in planned)) return;
  const dataset = await run.datasets.dataset(planned.data.data);
  if (dataset.vocabulary) writeFileAtomic(join(out, VOCABULARY_FILE), vocabularyToJson(dataset.vocabulary, planned.data.data));
}
