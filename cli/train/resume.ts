/**
 * The resume checkpoint (`<out>/resume.safetensors`): everything a stopped run
 * needs to continue exactly where it stopped — every tensor of the training
 * store (parameters, running statistics, the current step's optimizer state)
 * and, in the metadata, which step and update come next, the run's history
 * and a hash of the program it trained, so a changed `.repr` file is refused
 * rather than silently mixed with the old run.
 */
import { createHash } from "node:crypto";
import { checkpointMetadata, encodeSafetensors, readCheckpoint, writeCheckpointAtomic, CheckpointError } from "../../runtime/checkpoint/index.js";
import { messages } from "../../language/diagnostics/messages.js";
import type { ModelTensor } from "../../runtime/api/weights.js";
import type { RunState } from "../../runtime/train/pipeline-engine.js";
import { UserError } from "../errors.js";
import type { RunHistory } from "../../runtime/train/history.js";
import { fromCheckpointTensor, toCheckpointTensors } from "./params.js";

/** The metadata key holding the resume state as JSON. */
const RESUME_KEY = "repr.resume";

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
  const metadata = { ...checkpointMetadata(info), [RESUME_KEY]: JSON.stringify(point) };
  await writeCheckpointAtomic(path, encodeSafetensors(toCheckpointTensors(state.tensors), metadata));
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
  let point: ResumePoint;
  try {
    point = JSON.parse(raw) as ResumePoint;
  } catch {
    throw UserError.from(messages.cannotResume, { path, reason: "its 'repr.resume' metadata is not valid JSON" });
  }
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
    const dtype = tensor.dtype === "I64" || tensor.dtype === "I32" ? "i32" : "f32";
    const t = fromCheckpointTensor(tensor, { shape: tensor.shape, dtype });
    if (typeof t === "string") throw UserError.from(messages.cannotResume, { path, reason: `tensor '${name}' ${t}` });
    tensors.set(name, t);
  }
  return { pipeline: point.pipeline, stepIndex: point.stepIndex, next: point.next, history: point.history, tensors };
}
