/**
 * The safetensors file format (https://github.com/huggingface/safetensors),
 * encoded and decoded exactly:
 *
 *     [8 bytes]  N, the header length, an unsigned 64-bit little-endian integer
 *     [N bytes]  the header: UTF-8 JSON, padded with spaces so 8 + N is a multiple of 8
 *     [rest]     the tensors' bytes, little-endian, row-major, back to back
 *
 * The header maps each tensor name to `{ "dtype", "shape", "data_offsets": [begin, end] }`
 * (offsets relative to the first byte after the header) and may hold a
 * `"__metadata__"` map of strings to strings. This module has no Node imports,
 * so it also runs in a browser; `files.ts` reads and writes files.
 */
import { CheckpointError, quote } from "./errors.js";
import { dtypes, isDtype, readElements, storageRank, writeElements, type Dtype, type Tensor } from "./dtypes.js";
import { checkHeader, METADATA_KEY, type HeaderEntry } from "./header.js";

/** What a checkpoint file holds. */
export interface DecodedCheckpoint {
  /** The tensors, in the order of their bytes in the file. */
  readonly tensors: Map<string, Tensor>;
  readonly metadata: Record<string, string>;
}

/** The largest header repr reads, as the reference implementation: 100 MB. */
export const MAX_HEADER_LENGTH = 100_000_000;

/** The file name errors show for a checkpoint being encoded in memory. */
const IN_MEMORY = "<memory>";

const utf8 = new TextEncoder();

/** Matches a lone surrogate, which has no UTF-8 form and would be silently replaced. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Orders strings by code point, which is the byte order of their UTF-8 forms. */
function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function invalid(problem: string): never {
  throw new CheckpointError(IN_MEMORY, problem, "invalid-tensor");
}

/** Checks one tensor given to the encoder; the types say less than a JavaScript caller can pass. */
function checkTensor(name: string, tensor: Tensor): void {
  const where = `tensor ${quote(name)}`;
  if (name === METADATA_KEY) invalid(`${where}: the name '${METADATA_KEY}' is reserved for metadata`);
  if (loneSurrogate.test(name)) invalid(`${where}: the name has a lone surrogate, which UTF-8 cannot hold`);
  const dtype: string = tensor.dtype;
  if (!isDtype(dtype)) invalid(`${where} has unknown dtype ${quote(dtype)}; repr writes ${Object.keys(dtypes).join(", ")}`);
  const { shape, data } = tensor;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    invalid(`${where} has shape ${JSON.stringify(shape)}; a shape is a list of non-negative integers`);
  }
  const tag = ArrayBuffer.isView(data) ? (data as Uint8Array)[Symbol.toStringTag] : Array.isArray(data) ? "plain array" : typeof data;
  if (tag !== dtypes[dtype].arrayTag) invalid(`${where} is ${dtype}, which needs a ${dtypes[dtype].arrayTag}, but its data is a ${tag}`);
  const count = elementCount(shape);
  if (count !== data.length) {
    invalid(`${where} has shape [${shape.join(", ")}] of ${count} elements, but ${data.length} values`);
  }
}

/**
 * Encodes tensors and metadata as a safetensors file, laid out as the reference
 * implementation's writer lays it out: tensors stored by dtype (U64, I64, F64,
 * F32, U32, I32, BF16, F16, U16, I16, F8_E4M3, F8_E5M2, I8, U8, BOOL), then by
 * name in code-point (UTF-8 byte) order, so every tensor's bytes start at a
 * multiple of its element size in the file; the header lists `__metadata__`
 * first (sorted by key, omitted when empty), then the tensors in storage order,
 * as compact JSON padded with spaces. The same input always gives the same bytes.
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, Tensor>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  for (const [name, tensor] of tensors) checkTensor(name, tensor);
  const metaEntries = Object.entries(metadata).sort(([a], [b]) => compareCodePoints(a, b));
  for (const [key, value] of metaEntries) {
    if (typeof value !== "string") invalid(`metadata entry ${quote(key)} must be a string, but it is ${typeof value}`);
    if (loneSurrogate.test(key) || loneSurrogate.test(value)) invalid(`metadata entry ${quote(key)} has a lone surrogate`);
  }

  const order = [...tensors].sort(
    ([a, x], [b, y]) => storageRank(y.dtype) - storageRank(x.dtype) || compareCodePoints(a, b),
  );
  const fields: string[] = [];
  if (metaEntries.length > 0) {
    const map = metaEntries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",");
    fields.push(`${JSON.stringify(METADATA_KEY)}:{${map}}`);
  }
  let offset = 0;
  for (const [name, { dtype, shape, data }] of order) {
    const end = offset + data.byteLength;
    fields.push(`${JSON.stringify(name)}:{"dtype":"${dtype}","shape":[${shape.join(",")}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = utf8.encode(`{${fields.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const total = 8 + headerLength + offset;

  let out: Uint8Array;
  try {
    out = new Uint8Array(total);
  } catch (cause) {
    throw new CheckpointError(IN_MEMORY, `the checkpoint would take ${total} bytes, more than one buffer can hold here`, "invalid-tensor", { cause });
  }
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const [, { dtype, data }] of order) {
    writeElements(dtype, data, out, at);
    at += data.byteLength;
  }
  return out;
}

/** Checks every entry's bytes: in range, of the right length, and together covering the data exactly. */
function checkLayout(entries: readonly HeaderEntry[], dataLength: number, dataStart: number, file: string): HeaderEntry[] {
  const fail = (problem: string, kind: "offsets" | "shape" | "trailing-bytes"): never => {
    throw new CheckpointError(file, problem, kind);
  };
  for (const { name, dtype, shape, begin, end } of entries) {
    const where = `tensor ${quote(name)}`;
    if (end > dataLength) {
      fail(
        `${where} has data_offsets [${begin}, ${end}], past the end of the data, which is ${dataLength} bytes long ` +
          `(is the file truncated?)`,
        "offsets",
      );
    }
    // BigInt keeps the product exact however large the shape claims to be.
    const size = dtypes[dtype].size;
    const expected = shape.reduce((n, d) => n * BigInt(d), BigInt(size));
    if (expected !== BigInt(end - begin)) {
      fail(
        `${where} is ${dtype} [${shape.join(", ")}], which takes ${expected} bytes (${size} per element), ` +
          `but its data_offsets [${begin}, ${end}] hold ${end - begin}`,
        "shape",
      );
    }
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: HeaderEntry | undefined;
  for (const entry of sorted) {
    if (entry.begin < covered && previous) {
      fail(
        `tensor ${quote(entry.name)} (data_offsets [${entry.begin}, ${entry.end}]) overlaps ` +
          `tensor ${quote(previous.name)} (data_offsets [${previous.begin}, ${previous.end}])`,
        "offsets",
      );
    }
    if (entry.begin > covered) {
      fail(
        `data bytes ${covered} to ${entry.begin} (file offsets ${dataStart + covered} to ${dataStart + entry.begin}) ` +
          `belong to no tensor; the tensors' data must be contiguous`,
        "offsets",
      );
    }
    covered = entry.end;
    previous = entry;
  }
  if (covered < dataLength) {
    fail(
      `${dataLength - covered} trailing bytes after the last tensor's data (it ends at file offset ${dataStart + covered}, ` +
        `the file is ${dataStart + dataLength} bytes long)`,
      "trailing-bytes",
    );
  }
  return sorted;
}

/**
 * Decodes a safetensors file and checks everything: the header length against
 * the file, the header as UTF-8 JSON of the right schema, each dtype, each
 * tensor's byte length against its shape, and that the tensors' bytes cover the
 * data exactly once, with nothing after them. Any problem is a
 * `CheckpointError` naming `fileName`; no other error escapes.
 */
export function decodeSafetensors(bytes: Uint8Array, fileName: string): DecodedCheckpoint {
  const fail = (problem: string, kind: "too-short" | "header-length" | "header-json" | "value"): never => {
    throw new CheckpointError(fileName, problem, kind);
  };
  if (bytes.length < 8) {
    fail(`the file is ${bytes.length} bytes long, too short for the 8-byte header length a safetensors file starts with`, "too-short");
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) {
    fail(
      `the header length says ${n} bytes, but only ${bytes.length - 8} bytes follow it ` +
        `(is the file truncated, or not a safetensors file?)`,
      "header-length",
    );
  }
  if (n > BigInt(MAX_HEADER_LENGTH)) fail(`the header length ${n} is over the limit of ${MAX_HEADER_LENGTH} bytes`, "header-length");
  const headerLength = Number(n);
  if (headerLength === 0) fail(`the header length is 0; the header must be at least '{}'`, "header-length");
  const headerBytes = bytes.subarray(8, 8 + headerLength);
  if (headerBytes[0] !== 0x7b) {
    fail(`the header does not start with '{' (its first byte is 0x${headerBytes[0]!.toString(16).padStart(2, "0")}); is this a safetensors file?`, "header-json");
  }
  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail("the header is not valid UTF-8", "header-json");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    fail(`the header is not valid JSON: ${(cause as Error).message}`, "header-json");
  }

  const { entries, metadata } = checkHeader(json, fileName);
  const dataStart = 8 + headerLength;
  const layout = checkLayout(entries, bytes.length - dataStart, dataStart, fileName);
  const tensors = new Map<string, Tensor>();
  for (const { name, dtype, shape, begin, end } of layout) {
    const count = (end - begin) / dtypes[dtype].size;
    const data = readElements(dtype, bytes, dataStart + begin, count);
    if (dtype === "BOOL") {
      const bad = (data as Uint8Array).findIndex((v) => v > 1);
      if (bad >= 0) fail(`tensor ${quote(name)} is BOOL, but its element ${bad} is ${data[bad]}, not 0 or 1`, "value");
    }
    tensors.set(name, { dtype, shape, data } as Tensor);
  }
  return { tensors, metadata };
}

export type { Dtype, Tensor };
