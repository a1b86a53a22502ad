/**
 * The resume checkpoint (`<out>/resume.safetensors`): everything a stopped run
 * needs to continue exactly where it stopped — every tensor of the training
 * store (parameters, running statistics, the current step's optimizer state)
 * and, in the metadata, which step and update come next, the run's history
 * and a hash of the program it trained, so a changed `.repr` file is refused
 * rather than silently mixed with the old run.
 */
import { createHash } from "node:crypto";
import { checkpointMetadata, encodeSafetensors, readCheckpoint, CheckpointError } from "../../runtime/checkpoint/index.js";
import { TensorStore } from "../../runtime/train/store.js";
import { messages } from "../../language/diagnostics/messages.js";
import { UserError } from "../errors.js";
import type { RunHistory } from "./history.js";
import { saveCheckpoint } from "./out-folder.js";
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

/** Writes the resume checkpoint atomically. */
export async function writeResume(path: string, store: TensorStore, point: ResumePoint, info: { version: string; model: string; step: number; phase: string; seed: number }): Promise<void> {
  const metadata = { ...checkpointMetadata(info), [RESUME_KEY]: JSON.stringify(point) };
  await saveCheckpoint(path, encodeSafetensors(toCheckpointTensors(store, store.names()), metadata));
}

/** Reads a resume checkpoint back: its store and where to continue. */
export async function readResume(path: string, expected: { fingerprint: string; pipeline: string }): Promise<{ store: TensorStore; point: ResumePoint }> {
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
  const store = new TensorStore();
  for (const [name, tensor] of decoded.tensors) {
    const dtype = tensor.dtype === "I64" || tensor.dtype === "I32" ? "i32" : "f32";
    const t = fromCheckpointTensor(tensor, { shape: tensor.shape, dtype });
    if (typeof t === "string") throw UserError.from(messages.cannotResume, { path, reason: `tensor '${name}' ${t}` });
    store.set(name, t);
  }
  return { store, point };
}
