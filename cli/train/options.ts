/**
 * The options of `repr train` and `repr test`, checked: every bad value is a
 * user error that names the option.
 */
import type { MemoryLimit } from "../../compiler/check/memory.js";
import { UserError } from "../errors.js";
import { memoryLimit } from "../memory-option.js";

/** Options as commander gives them (strings). */
export interface RawTrainOptions {
  readonly pipeline?: string;
  readonly model?: string;
  readonly data?: readonly string[];
  readonly backend?: string;
  readonly seed?: string;
  readonly steps?: string;
  readonly epochs?: string;
  readonly batch?: string;
  readonly limit?: string;
  readonly out?: string;
  readonly resume?: boolean;
  readonly init?: string;
  readonly startAt?: string;
  readonly checkpointEvery?: string;
  readonly plain?: boolean;
  readonly progress?: boolean;
  readonly maxMemory?: string;
  readonly allowImportOutside?: boolean;
}

/** The checked options of a training run. */
export interface TrainOptions {
  readonly pipeline: string | null;
  readonly model: string | null;
  readonly data: readonly string[];
  readonly backend: string;
  readonly seed: number | null;
  readonly steps: number | null;
  readonly epochs: number | null;
  readonly batch: number | null;
  readonly limit: number | null;
  readonly out: string;
  readonly resume: boolean;
  readonly init: string | null;
  /** The pipeline step to start at, 0-based. */
  readonly startAt: number;
  readonly checkpointEverySeconds: number;
  /** Plain log lines instead of a progress bar. */
  readonly plain: boolean;
  /** The most memory a model may need (`--max-memory`). */
  readonly maxMemory: MemoryLimit;
}

/** A whole number option within bounds, or null when absent. */
export function wholeNumber(option: string, text: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | null {
  if (text === undefined) return null;
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UserError(`${option} must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : " up"}, got '${text}'`);
  }
  return n;
}

/** Checks the options of `repr train`. */
export function checkTrainOptions(raw: RawTrainOptions): TrainOptions {
  if (raw.pipeline !== undefined && raw.model !== undefined) throw new UserError("give --pipeline or --model, not both");
  if (raw.steps !== undefined && raw.epochs !== undefined) throw new UserError("give --steps or --epochs, not both");
  if (raw.resume && raw.init !== undefined) throw new UserError("--resume continues a run with its own weights; drop --init");
  if (raw.startAt !== undefined && raw.resume) throw new UserError("--resume continues where the run stopped; drop --start-at");
  return {
    pipeline: raw.pipeline ?? null,
    model: raw.model ?? null,
    data: raw.data ?? [],
    backend: raw.backend ?? "auto",
    seed: wholeNumber("--seed", raw.seed, 0, 2 ** 32 - 1),
    steps: wholeNumber("--steps", raw.steps, 1),
    epochs: wholeNumber("--epochs", raw.epochs, 1),
    batch: wholeNumber("--batch", raw.batch, 1, 1 << 20),
    limit: wholeNumber("--limit", raw.limit, 1),
    out: raw.out ?? "runs/latest",
    resume: raw.resume ?? false,
    init: raw.init ?? null,
    startAt: (wholeNumber("--start-at", raw.startAt, 1) ?? 1) - 1,
    // 0 writes one after every update: slow, but it makes the checkpoint's position exact (tests, debugging).
    checkpointEverySeconds: wholeNumber("--checkpoint-every", raw.checkpointEvery, 0) ?? 60,
    plain: raw.plain ?? false,
    maxMemory: memoryLimit(raw.maxMemory),
  };
}
