/**
 * The one error type of the data layer: a data set that cannot be read, or
 * whose contents do not match its `data` declaration.
 */

/** What kind of problem a data source has; tests and tools branch on this, not on message text. */
export type DataProblem =
  /** The file system refused: no such file, permission denied. */
  | "io"
  /** The bytes are not the format they claim: bad magic, truncated, bad header, invalid UTF-8. */
  | "format"
  /** An array's per-example shape or element type does not fit the field. */
  | "shape"
  /** A value its field does not allow: NaN, a label out of range, a non-integer id. */
  | "value"
  /** A field has no source, or a source lacks something the field needs. */
  | "missing"
  /** Fields of one split hold different numbers of examples. */
  | "length"
  /** A split holds no examples. */
  | "empty"
  /** The `--data` bindings do not fit the declaration. */
  | "binding"
  /** A selection (`labels`, `per_class`) cannot be made. */
  | "selection";

/** Details a tool may show apart from the message. */
export interface DataErrorDetails {
  readonly field?: string;
  readonly expected?: string;
  readonly actual?: string;
  readonly cause?: unknown;
}

/**
 * A data source that cannot be used, with the file it concerns and one sentence
 * saying exactly what is wrong. Its message is `<file>: <problem>`, or just the
 * problem where no file is concerned (`file` is then empty).
 */
export class DataError extends Error {
  override readonly name = "DataError";
  /** The field concerned, where there is one. */
  readonly field?: string;
  /** What the declaration asks for (a type, a shape, a byte count), where it applies. */
  readonly expected?: string;
  /** What the source holds, where it applies. */
  readonly actual?: string;

  constructor(
    /** The file or folder as the user named it; empty when none is concerned. */
    readonly file: string,
    /** What is wrong, without the file name. */
    readonly problem: string,
    readonly kind: DataProblem,
    details: DataErrorDetails = {},
  ) {
    super(file === "" ? problem : `${file}: ${problem}`, details.cause === undefined ? undefined : { cause: details.cause });
    if (details.field !== undefined) this.field = details.field;
    if (details.expected !== undefined) this.expected = details.expected;
    if (details.actual !== undefined) this.actual = details.actual;
  }
}

/** Quotes a name for a message, so empty and odd names stay visible. */
export function quote(name: string): string {
  return `'${JSON.stringify(name).slice(1, -1).replace(/\\"/g, '"')}'`;
}
