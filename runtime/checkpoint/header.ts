/**
 * The JSON header of a safetensors file: its schema, checked field by field.
 * The byte-level checks (length, offsets, coverage) are in `safetensors.ts`.
 */
import { CheckpointError, quote, type CheckpointProblem } from "./errors.js";
import { dtypes, isDtype, type Dtype } from "./dtypes.js";

/** The header key that holds the string-to-string metadata map. */
export const METADATA_KEY = "__metadata__";

/** One tensor's entry in the header, checked. */
export interface HeaderEntry {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** Start and end of the tensor's bytes, relative to the end of the header. */
  readonly begin: number;
  readonly end: number;
}

/** A checked header: its tensor entries in the order written, and its metadata. */
export interface Header {
  readonly entries: readonly HeaderEntry[];
  readonly metadata: Record<string, string>;
}

const entryFields = ["dtype", "shape", "data_offsets"];

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A list of non-negative integers that are exact as JavaScript numbers. */
function isCountList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0);
}

/**
 * Checks the parsed header against the safetensors schema: an object whose
 * `__metadata__` (optional) maps strings to strings and whose every other key
 * is a tensor `{ dtype, shape, data_offsets }` with nothing else.
 */
export function checkHeader(json: unknown, file: string): Header {
  const fail = (problem: string, kind: CheckpointProblem = "header-format"): never => {
    throw new CheckpointError(file, problem, kind);
  };
  if (!isPlainObject(json)) return fail(`the header must be a JSON object, but it is ${describe(json)}`);

  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === METADATA_KEY) {
      if (!isPlainObject(value)) return fail(`'${METADATA_KEY}' must map names to strings, but it is ${describe(value)}`);
      for (const [key, text] of Object.entries(value)) {
        if (typeof text !== "string") fail(`metadata entry ${quote(key)} must be a string, but it is ${describe(text)}`);
      }
      // fromEntries defines own properties, so a key such as `__proto__` stays data.
      metadata = Object.fromEntries(Object.entries(value)) as Record<string, string>;
      continue;
    }
    const where = `tensor ${quote(name)}`;
    if (!isPlainObject(value)) return fail(`${where} must be an object with dtype, shape and data_offsets, but it is ${describe(value)}`);
    for (const field of entryFields) {
      if (!Object.prototype.hasOwnProperty.call(value, field)) fail(`${where} has no '${field}'`);
    }
    for (const field of Object.keys(value)) {
      if (!entryFields.includes(field)) fail(`${where} has an unknown field ${quote(field)} (expected dtype, shape and data_offsets)`);
    }
    const { dtype, shape, data_offsets: offsets } = value;
    if (typeof dtype !== "string") return fail(`${where} has dtype ${describe(dtype)}; a dtype is a string such as "F32"`);
    if (!isDtype(dtype)) {
      return fail(`${where} has unknown dtype ${quote(dtype)}; repr reads ${Object.keys(dtypes).join(", ")}`, "dtype");
    }
    if (!isCountList(shape)) {
      return fail(`${where} has shape ${JSON.stringify(shape)}; a shape is a list of non-negative integers`);
    }
    if (!isCountList(offsets) || offsets.length !== 2) {
      return fail(`${where} has data_offsets ${JSON.stringify(offsets)}; expected [begin, end], two non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) fail(`${where} has data_offsets [${begin}, ${end}] that end before they begin`, "offsets");
    entries.push({ name, dtype, shape: [...shape], begin, end });
  }
  return { entries, metadata };
}
