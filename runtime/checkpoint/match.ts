/**
 * Checks a loaded checkpoint against the parameters a model expects, and says
 * everything that does not match at once: missing names, unexpected names (with
 * "did you mean"), wrong shapes and wrong dtypes.
 */
import { CheckpointError, quote } from "./errors.js";
import type { Dtype, Tensor } from "./dtypes.js";

/** A parameter (or state tensor) a model expects, by its checkpoint name (see spec/checkpoints.md). */
export interface ExpectedParameter {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: Dtype;
  /** A tensor the file may leave out, such as batch norm's `num_batches_tracked`. */
  readonly optional?: boolean;
}

/** A tensor in the file that the model does not expect. */
export interface UnexpectedTensor {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** The missing name it most likely stands for. */
  readonly suggestion?: string;
}

/** Everything that keeps a checkpoint from fitting a model; all lists empty means it fits. */
export interface ParameterReport {
  readonly missing: readonly ExpectedParameter[];
  readonly unexpected: readonly UnexpectedTensor[];
  readonly wrongShape: readonly { readonly name: string; readonly expected: readonly number[]; readonly actual: readonly number[] }[];
  readonly wrongDtype: readonly { readonly name: string; readonly expected: Dtype; readonly actual: Dtype }[];
}

/** The error `matchParameters` throws: a `CheckpointError` that carries the whole report. */
export class ParameterMismatchError extends CheckpointError {
  constructor(
    file: string,
    problem: string,
    readonly report: ParameterReport,
  ) {
    super(file, problem, "mismatch");
  }
}

/** Levenshtein distance with adjacent transpositions counting as one edit. */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, before[j - 2]! + 1);
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The candidate `name` most likely stands for, or none: equal ignoring case;
 * the same name under an added or dropped prefix (`module.f.0.weight` for
 * `f.0.weight`, as PyTorch wrappers write); or within a third of its length in
 * edits. Ties go to the candidate that sorts first.
 */
export function suggestName(name: string, candidates: Iterable<string>): string | undefined {
  const threshold = Math.max(1, Math.floor(name.length / 3));
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    const prefixed = name.endsWith(`.${candidate}`) || candidate.endsWith(`.${name}`);
    const score =
      candidate.toLowerCase() === name.toLowerCase() ? 0 : prefixed ? 0.5 : editDistance(name, candidate);
    if (score > threshold) continue;
    if (!best || score < best.score || (score === best.score && candidate < best.candidate)) best = { candidate, score };
  }
  return best?.candidate;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Compares the file's tensors with what the model expects; never throws on a mismatch. */
export function compareParameters(expected: readonly ExpectedParameter[], loaded: ReadonlyMap<string, Tensor>): ParameterReport {
  const names = new Set<string>();
  for (const p of expected) {
    if (names.has(p.name)) throw new Error(`internal error: the model expects parameter ${quote(p.name)} twice`);
    names.add(p.name);
  }
  const missing = expected.filter((p) => !loaded.has(p.name) && !p.optional);
  const missingNames = missing.map((p) => p.name);
  const unexpected = [...loaded]
    .filter(([name]) => !names.has(name))
    .map(([name, t]): UnexpectedTensor => {
      const suggestion = suggestName(name, missingNames);
      return { name, dtype: t.dtype, shape: t.shape, ...(suggestion === undefined ? {} : { suggestion }) };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const wrongShape: { name: string; expected: readonly number[]; actual: readonly number[] }[] = [];
  const wrongDtype: { name: string; expected: Dtype; actual: Dtype }[] = [];
  for (const p of expected) {
    const t = loaded.get(p.name);
    if (!t) continue;
    if (!sameShape(p.shape, t.shape)) wrongShape.push({ name: p.name, expected: p.shape, actual: t.shape });
    if (p.dtype !== t.dtype) wrongDtype.push({ name: p.name, expected: p.dtype, actual: t.dtype });
  }
  return { missing, unexpected, wrongShape, wrongDtype };
}

/** Whether a report finds nothing wrong. */
export function reportIsClean(report: ParameterReport): boolean {
  return report.missing.length + report.unexpected.length + report.wrongShape.length + report.wrongDtype.length === 0;
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
const shapeText = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

/**
 * The report as text: one summary sentence, then one indented line per problem,
 * missing names first, then unexpected ones, wrong shapes and wrong dtypes.
 */
export function formatParameterReport(report: ParameterReport): string {
  const counts = [
    report.missing.length > 0 ? `${report.missing.length} missing` : "",
    report.unexpected.length > 0 ? `${report.unexpected.length} unexpected` : "",
    report.wrongShape.length > 0 ? `${plural(report.wrongShape.length, "tensor", "tensors")} with the wrong shape` : "",
    report.wrongDtype.length > 0 ? `${plural(report.wrongDtype.length, "tensor", "tensors")} with the wrong dtype` : "",
  ].filter((s) => s !== "");
  const lines = [`the checkpoint does not fit the model: ${counts.join(", ")}`];
  for (const p of report.missing) lines.push(`  missing: ${quote(p.name)}, ${p.dtype} ${shapeText(p.shape)}`);
  for (const t of report.unexpected) {
    const hint = t.suggestion === undefined ? "" : `; did you mean ${quote(t.suggestion)}?`;
    lines.push(`  unexpected: ${quote(t.name)}, ${t.dtype} ${shapeText(t.shape)}${hint}`);
  }
  for (const s of report.wrongShape) {
    const transposed =
      s.expected.length === 2 && sameShape(s.actual, [...s.expected].reverse())
        ? " (transposed? repr stores a dense weight as [out, in])"
        : "";
    lines.push(`  wrong shape: ${quote(s.name)} is ${shapeText(s.actual)} in the file, the model expects ${shapeText(s.expected)}${transposed}`);
  }
  for (const d of report.wrongDtype) {
    lines.push(`  wrong dtype: ${quote(d.name)} is ${d.actual} in the file, the model expects ${d.expected}`);
  }
  return lines.join("\n");
}

/**
 * Checks the file's tensors against the model's parameters and returns them in
 * the model's order. Anything that does not match — every missing, unexpected,
 * mis-shaped and mis-typed tensor, all at once — is a `ParameterMismatchError`
 * naming `fileName`.
 */
export function matchParameters(
  expected: readonly ExpectedParameter[],
  loaded: ReadonlyMap<string, Tensor>,
  fileName: string,
): Map<string, Tensor> {
  const report = compareParameters(expected, loaded);
  if (!reportIsClean(report)) throw new ParameterMismatchError(fileName, formatParameterReport(report), report);
  const matched = new Map<string, Tensor>();
  for (const p of expected) {
    const t = loaded.get(p.name);
    if (t) matched.set(p.name, t);
  }
  return matched;
}
