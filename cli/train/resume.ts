/**
 * The resume checkpoint (`<out>/resume.safetensors`): everything a stopped run
 * needs to continue exactly where it stopped — every tensor of the training
 * store (parameters, running statistics, the current step's optimizer state),
 * the loss at every update so far, and, in the metadata, which step and update
 * come next, the steps done so far and a hash of the program it trained, so a
 * changed `.repr` file is refused rather than silently mixed with the old run.
 *
 * The losses are one F64 tensor in the file's body (`LOSSES_TENSOR`: every
 * series, one after another, each series' length in the metadata), not JSON in
 * the header: a header holding them grew by about 20 bytes per update (28 MB
 * after a long run, where the safetensors header limit is 100 MB); F64 keeps
 * every loss bit for bit, whatever backend computed it, NaN included.
 */
import { createHash } from "node:crypto";
import { checkpointMetadata, encodeSafetensors, readCheckpoint, CheckpointError, type Tensor } from "../../runtime/checkpoint/index.js";
import type { ModelTensor } from "../../runtime/api/weights.js";
import type { RunState } from "../../runtime/train/pipeline-engine.js";
import { messages } from "../../language/diagnostics/messages.js";
import { UserError } from "../errors.js";
import type { LossSeries, RunHistory } from "../../runtime/train/history.js";
import { saveCheckpoint } from "./out-folder.js";
import { fromCheckpointTensor, toCheckpointTensors } from "./params.js";

/** The metadata key holding the resume state as JSON. */
const RESUME_KEY = "repr.resume";

/** The tensor holding the loss history; `#` is in no parameter's name, so it cannot meet one. */
export const LOSSES_TENSOR = "#resume.losses";

/** A loss series as the metadata records it: its losses are `updates` values of `LOSSES_TENSOR`. */
type StoredSeries = Omit<LossSeries, "losses"> & { readonly updates: number };

/** Where a run stands. */
export interface ResumePoint {
  /** A hash of the `.repr` sources and the options that change results. */
  readonly fingerprint: string;
  readonly pipeline: string;
  /** The pipeline step (0-based) to continue, and its next update. */
  readonly stepIndex: number;
  readonly next: number;
  readonly history: RunHistory;
}

/** A fingerprint of what determines a run's results. */
export function fingerprint(parts: readonly string[]): string {
  const hash = createHash("sha256");
  for (const p of parts) hash.update(`${p.length}:${p}`);
  return hash.digest("hex").slice(0, 32);
}

/** Writes the resume checkpoint of a run's state atomically. */
export async function writeResume(path: string, state: RunState, fingerprintValue: string, info: { version: string; model: string; step: number; phase: string; seed: number }): Promise<void> {
  const point: ResumePoint = { fingerprint: fingerprintValue, pipeline: state.pipeline, stepIndex: state.stepIndex, next: state.next, history: state.history };
  const { series } = point.history;
  const losses = new Float64Array(series.reduce((n, s) => n + s.losses.length, 0));
  let at = 0;
  for (const s of series) {
    losses.set(s.losses, at);
    at += s.losses.length;
  }
  const stored: StoredSeries[] = series.map(({ losses: values, ...rest }) => ({ ...rest, updates: values.length }));
  const header = { ...point, history: { steps: point.history.steps, series: stored } };
  const metadata = { ...checkpointMetadata(info), [RESUME_KEY]: JSON.stringify(header) };
  const tensors = toCheckpointTensors(state.tensors);
  tensors.set(LOSSES_TENSOR, { dtype: "F64", shape: [losses.length], data: losses });
  await saveCheckpoint(path, encodeSafetensors(tensors, metadata));
}

/** The loss series of a resume header, their values taken from the losses tensor in order. */
function restoreSeries(stored: readonly (StoredSeries | LossSeries)[], tensor: Tensor | undefined, path: string): LossSeries[] {
  const fail = (reason: string): never => {
    throw UserError.from(messages.cannotResume, { path, reason });
  };
  // A resume file of an earlier version keeps each series' losses in the header.
  if (stored.every((s) => "losses" in s)) return stored.map((s) => ({ ...(s as LossSeries), losses: [...(s as LossSeries).losses] }));
  if (tensor === undefined || tensor.dtype !== "F64" || tensor.shape.length !== 1) fail(`it has no F64 tensor '${LOSSES_TENSOR}' of the losses`);
  const values = tensor!.data as Float64Array;
  const total = stored.reduce((n, s) => n + ("updates" in s ? s.updates : 0), 0);
  if (total !== values.length) fail(`its '${LOSSES_TENSOR}' holds ${values.length} losses, but its series add up to ${total}`);
  let at = 0;
  return stored.map((s) => {
    const { updates, ...rest } = s as StoredSeries;
    const losses = Array.from(values.subarray(at, at + updates));
    at += updates;
    return { ...rest, losses };
  });
}

/** Reads a resume checkpoint back: the run's state. */
export async function readResume(path: string, expected: { fingerprint: string; pipeline: string }): Promise<RunState> {
  let decoded;
  try {
    decoded = await readCheckpoint(path);
  } catch (err) {
    if (err instanceof CheckpointError) throw UserError.from(messages.cannotResume, { path, reason: err.problem });
    throw err;
  }
  const raw = decoded.metadata[RESUME_KEY];
  if (raw === undefined) throw UserError.from(messages.cannotResume, { path, reason: "it is not a resume checkpoint (it has no 'repr.resume' metadata)" });
  let header: Omit<ResumePoint, "history"> & { history: { steps: RunHistory["steps"]; series: (StoredSeries | LossSeries)[] } };
  try {
    header = JSON.parse(raw) as typeof header;
  } catch {
    throw UserError.from(messages.cannotResume, { path, reason: "its 'repr.resume' metadata is not valid JSON" });
  }
  const point: ResumePoint = { ...header, history: { steps: header.history.steps, series: restoreSeries(header.history.series, decoded.tensors.get(LOSSES_TENSOR), path) } };
  if (point.pipeline !== expected.pipeline) {
    throw UserError.from(messages.cannotResume, { path, reason: `it is a run of pipeline '${point.pipeline}', not '${expected.pipeline}'` });
  }
  if (point.fingerprint !== expected.fingerprint) {
    throw UserError.from(messages.cannotResume, {
      path,
      reason: "the .repr file or the options that decide the result (--data, --seed, --steps, --epochs, --batch, --limit, --init, --backend) changed since the run started; start again without --resume, or restore them",
    });
  }
  const tensors = new Map<string, ModelTensor>();
  for (const [name, tensor] of decoded.tensors) {
    if (name === LOSSES_TENSOR) continue;
    const dtype = tensor.dtype === "I64" || tensor.dtype === "I32" ? "i32" : "f32";
    const t = fromCheckpointTensor(tensor, { shape: tensor.shape, dtype });
    if (typeof t === "string") throw UserError.from(messages.cannotResume, { path, reason: `tensor '${name}' ${t}` });
    tensors.set(name, t);
  }
  return { pipeline: point.pipeline, stepIndex: point.stepIndex, next: point.next, history: point.history, tensors };
}
