/**
 * Checking what an app passes to a model — flat, row-major numbers per
 * input for some count of examples — and copying examples into the
 * fixed-size arrays a compiled graph is fed from. Every problem is a
 * `ReprError` that names the function (or training step), the input, what
 * was expected and what was given.
 */
import type { PlanInput } from "./plan.js";
import { ReprError } from "./errors.js";

/** Examples by input name: each input's numbers for every example, one example after another. */
export type Inputs = Readonly<Record<string, ArrayLike<number>>>;

/** The numbers one example of an input holds. */
export function exampleSize(input: { readonly shape: readonly number[] }): number {
  return input.shape.reduce((p, d) => p * d, 1);
}

/** An input's type as messages show it: `f32[1, 28, 28]`, `i32[] (classes 10)`. */
export function describeInput(input: PlanInput): string {
  const range = input.classes !== undefined ? ` (classes ${input.classes})` : input.vocab !== undefined ? ` (vocab ${input.vocab})` : "";
  return `${input.dtype}[${input.shape.join(", ")}]${range}`;
}

const plural = (n: number, one: string): string => `${n} ${n === 1 ? one : `${one}s`}`;

/**
 * Checks `inputs` against the declared inputs of `where` (`function 'encode'`,
 * `training step 'train'`) and returns the number of examples: `count` when
 * given, else what the first declared input's length says. Every declared
 * input must be present with exactly `count` examples' numbers; no other
 * name may be; f32 numbers must be finite; i32 numbers must be integers in
 * range (below `classes` or `vocab` when the input has one).
 */
export function checkInputs(where: string, declared: readonly PlanInput[], inputs: Inputs, count?: number, options: { readonly finite?: boolean } = {}): number {
  if (typeof inputs !== "object" || inputs === null) throw new ReprError(`${where}: inputs must be an object of arrays by input name`);
  const names = declared.map((d) => d.name).join(", ") || "none";
  for (const name of Object.keys(inputs)) {
    if (!declared.some((d) => d.name === name)) throw new ReprError(`${where} has no input '${name}' (inputs: ${names})`);
  }
  for (const d of declared) {
    const data = Object.prototype.hasOwnProperty.call(inputs, d.name) ? inputs[d.name] : undefined;
    if (data === undefined || data === null || typeof data.length !== "number") throw new ReprError(`${where}: input '${d.name}' was not given (inputs: ${names})`);
  }
  if (count === undefined) {
    const first = declared[0];
    if (first === undefined) throw new ReprError(`${where} has no inputs, so the number of examples must be given`);
    const size = exampleSize(first);
    const length = inputs[first.name]!.length;
    if (size === 0 || length % size !== 0) {
      throw new ReprError(
        `${where}: input '${first.name}' has ${length} numbers, not a whole number of examples of ${size} (${describeInput(first)})`,
      );
    }
    count = length / size;
  } else if (!Number.isSafeInteger(count) || count < 0) {
    throw new ReprError(`${where}: the number of examples must be a whole number ≥ 0, got ${count}`);
  }
  for (const d of declared) checkInput(where, d, inputs[d.name]!, count, options.finite ?? true);
  return count;
}

/**
 * The check of float inputs' finiteness that a home which `checksFinite`
 * runs on the device instead of `checkInputs` (which it then tells to skip
 * it): element `index` of a data input `input` (of `data`) is not finite.
 * The error is `checkInputs`'s, word for word.
 */
export function nonFiniteCheck(where: string, declared: readonly PlanInput[], data: Inputs, offsets: (input: string) => number = () => 0) {
  return {
    inputs: declared.filter((d) => d.dtype === "f32").map((d) => d.name),
    fail: (input: string, index: number): Error => {
      const d = declared.find((x) => x.name === input)!;
      const i = index + offsets(input);
      return nonFiniteError(where, d, i, data[input]![i]);
    },
  };
}

/** Checks one input's length and numbers (float ones for finiteness only where `finite`). */
function checkInput(where: string, d: PlanInput, data: ArrayLike<number>, count: number, finite: boolean): void {
  const size = exampleSize(d);
  if (data.length !== count * size) {
    throw new ReprError(
      `${where}: input '${d.name}' (${describeInput(d)}) takes ${size} numbers per example, ` +
        `so ${plural(count, "example")} take ${count * size}, but it has ${data.length}`,
    );
  }
  if (d.dtype === "f32") {
    if (!finite) return;
    if (data instanceof Float32Array) {
      if (!allFinite32(data)) notFinite(where, d, firstNotFinite(data), data[firstNotFinite(data)]!);
    } else if (data instanceof Float64Array) {
      if (!allFinite64(data)) notFinite(where, d, firstNotFinite(data), data[firstNotFinite(data)]!);
    } else {
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!;
        if (typeof v !== "number" || !Number.isFinite(v)) notFinite(where, d, i, v);
      }
    }
    return;
  }
  const limit = d.classes ?? d.vocab;
  const lo = limit === undefined ? -(2 ** 31) : 0;
  const hi = limit === undefined ? 2 ** 31 : limit;
  if (data instanceof Int32Array && limit === undefined) return;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isInteger(v)) throw new ReprError(`${where}: input '${d.name}' is ${describeInput(d)}, but its element ${i} is ${String(v)}, not an integer`);
    if (v < lo || v >= hi) {
      const range = limit === undefined ? "−2^31 … 2^31 − 1" : `0 … ${limit - 1}`;
      throw new ReprError(`${where}: input '${d.name}' is ${describeInput(d)}, but its element ${i} is ${v}, outside ${range}`);
    }
  }
}

/*
 * Whether every number is finite, without a branch per element: x − x is 0
 * for a finite x and NaN otherwise, and a NaN stays in the sum. One function
 * per array type keeps each loop monomorphic (a batch of 8192 digits is 6.4
 * million numbers, checked before every update).
 */
function allFinite32(data: Float32Array): boolean {
  let a = 0;
  let b = 0;
  const n = data.length - (data.length % 2);
  for (let i = 0; i < n; i += 2) {
    a += data[i]! - data[i]!;
    b += data[i + 1]! - data[i + 1]!;
  }
  if (n < data.length) a += data[n]! - data[n]!;
  return a + b === 0;
}

function allFinite64(data: Float64Array): boolean {
  let a = 0;
  for (let i = 0; i < data.length; i++) a += data[i]! - data[i]!;
  return a === 0;
}

/** The first element that is not finite (the slow search, once a check has failed). */
function firstNotFinite(data: Float32Array | Float64Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return -1;
}

function notFinite(where: string, d: PlanInput, i: number, v: unknown): never {
  throw nonFiniteError(where, d, i, v);
}

function nonFiniteError(where: string, d: PlanInput, i: number, v: unknown): ReprError {
  return new ReprError(`${where}: input '${d.name}' is ${describeInput(d)}, but its element ${i} is ${String(v)}; inputs must be finite numbers`);
}

/** A graph's feed for one input: a fixed array of `examples` examples, refilled before each run. */
export interface InputScratch {
  readonly name: string;
  readonly size: number;
  readonly feed: { readonly shape: readonly number[]; readonly data: Float32Array | Int32Array };
}

/** The scratch feeds of a graph run at `examples` examples. */
export function inputScratch(declared: readonly PlanInput[], examples: number): InputScratch[] {
  return declared.map((d) => {
    const size = exampleSize(d);
    const data = d.dtype === "i32" ? new Int32Array(examples * size) : new Float32Array(examples * size);
    return { name: d.name, size, feed: { shape: [examples, ...d.shape], data } };
  });
}

/** Copies examples `first … first + n − 1` of `source` (`size` numbers each) into `target`. */
export function copyExamples(source: ArrayLike<number>, first: number, size: number, target: Float32Array | Int32Array): void {
  const begin = first * size;
  const end = begin + target.length;
  if (ArrayBuffer.isView(source) && (source instanceof Float32Array || source instanceof Int32Array || source instanceof Float64Array || source instanceof Uint8Array)) {
    target.set(source.subarray(begin, end));
    return;
  }
  for (let i = begin, j = 0; i < end; i++, j++) target[j] = source[i]!;
}

/** Copies the examples `indices` (in that order) of `source` into `target`. */
export function gatherExamples(source: ArrayLike<number>, indices: ArrayLike<number>, size: number, target: Float32Array | Int32Array): void {
  if (source instanceof Float32Array || source instanceof Int32Array) {
    // Whole examples as block copies.
    for (let r = 0; r < indices.length; r++) target.set(source.subarray(indices[r]! * size, (indices[r]! + 1) * size), r * size);
    return;
  }
  for (let r = 0; r < indices.length; r++) {
    const from = indices[r]! * size;
    const to = r * size;
    for (let k = 0; k < size; k++) target[to + k] = source[from + k]!;
  }
}
