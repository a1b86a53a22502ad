/**
 * The metadata repr writes in a checkpoint's `__metadata__` map (all values are
 * strings, as safetensors requires), and reading it back with checks.
 */
import { CheckpointError, quote } from "./errors.js";

/** The metadata keys repr writes; spec/checkpoints.md describes each. */
export const metadataKeys = {
  /** `"pt"`: the layouts follow PyTorch, so PyTorch-oriented loaders accept the file. */
  format: "format",
  version: "repr.version",
  model: "repr.model",
  step: "repr.step",
  phase: "repr.phase",
  seed: "repr.seed",
} as const;

/** What repr records about the training run that produced a checkpoint. */
export interface CheckpointInfo {
  /** The repr version that wrote the file, such as `0.1.0`. */
  readonly version: string;
  /** The model's name in its `.repr` file. */
  readonly model: string;
  /** Optimizer steps taken since the pipeline started, over all its phases. */
  readonly step: number;
  /** The pipeline step that was running: `pretrain`, `adapt`, ... */
  readonly phase: string;
  /** The seed of the `pretrain` step, which fixed the initial weights. */
  readonly seed: number;
}

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** The `__metadata__` map for a checkpoint. */
export function checkpointMetadata(info: CheckpointInfo): Record<string, string> {
  for (const key of ["step", "seed"] as const) {
    if (!isCount(info[key])) throw new Error(`internal error: checkpoint ${key} ${info[key]} is not a non-negative integer`);
  }
  return {
    [metadataKeys.format]: "pt",
    [metadataKeys.version]: info.version,
    [metadataKeys.model]: info.model,
    [metadataKeys.step]: String(info.step),
    [metadataKeys.phase]: info.phase,
    [metadataKeys.seed]: String(info.seed),
  };
}

/**
 * Reads repr's entries from a checkpoint's metadata. Entries that are absent
 * (a file another tool wrote) are left out; an entry that is present but
 * malformed is a `CheckpointError` naming the file.
 */
export function readCheckpointInfo(metadata: Readonly<Record<string, string>>, fileName: string): Partial<CheckpointInfo> {
  const get = (key: string): string | undefined =>
    Object.prototype.hasOwnProperty.call(metadata, key) ? metadata[key] : undefined;
  const count = (key: string): number | undefined => {
    const text = get(key);
    if (text === undefined) return undefined;
    const value = /^(0|[1-9][0-9]*)$/.test(text) ? Number(text) : NaN;
    if (!isCount(value)) {
      throw new CheckpointError(fileName, `metadata ${quote(key)} is ${quote(text)}, not a non-negative integer`, "header-format");
    }
    return value;
  };
  const info: { -readonly [K in keyof CheckpointInfo]?: CheckpointInfo[K] } = {};
  const version = get(metadataKeys.version);
  const model = get(metadataKeys.model);
  const phase = get(metadataKeys.phase);
  const step = count(metadataKeys.step);
  const seed = count(metadataKeys.seed);
  if (version !== undefined) info.version = version;
  if (model !== undefined) info.model = model;
  if (step !== undefined) info.step = step;
  if (phase !== undefined) info.phase = phase;
  if (seed !== undefined) info.seed = seed;
  return info;
}
