/**
 * The one error type of checkpoint reading, writing and matching.
 */

/** What kind of problem a checkpoint has; tests and tools branch on this, not on message text. */
export type CheckpointProblem =
  /** Fewer than the 8 bytes that hold the header length. */
  | "too-short"
  /** The header length is zero, larger than the file, or over the limit. */
  | "header-length"
  /** The header is not UTF-8 or not JSON. */
  | "header-json"
  /** The header is JSON but not the shape safetensors prescribes. */
  | "header-format"
  /** A tensor's dtype is not one repr knows. */
  | "dtype"
  /** Data offsets out of range, overlapping, or leaving a gap. */
  | "offsets"
  /** A tensor's shape does not agree with the length of its data. */
  | "shape"
  /** Bytes after the last tensor's data. */
  | "trailing-bytes"
  /** A stored value that its dtype does not allow (a BOOL other than 0 or 1). */
  | "value"
  /** The tensors do not fit the model: missing, unexpected, wrong shape or dtype. */
  | "mismatch"
  /** What was given to the encoder is not a valid tensor map. */
  | "invalid-tensor"
  /** The file system refused: no such file, permission denied, disk full. */
  | "io";

/**
 * A checkpoint that cannot be read, written or used, with the file it concerns
 * and one sentence saying exactly what is wrong. Its message is
 * `<file>: <problem>`; a tool that prints diagnostics can use `file` and
 * `problem` separately.
 */
export class CheckpointError extends Error {
  override readonly name = "CheckpointError";

  constructor(
    /** The checkpoint file as the user named it (`<memory>` when encoding). */
    readonly file: string,
    /** What is wrong, without the file name. */
    readonly problem: string,
    readonly kind: CheckpointProblem,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problem}`, options);
  }
}

/** Quotes a name for a message, so empty and odd names stay visible. */
export function quote(name: string): string {
  return `'${JSON.stringify(name).slice(1, -1).replace(/\\"/g, '"')}'`;
}
