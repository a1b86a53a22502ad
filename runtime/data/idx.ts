/**
 * IDX files, the format of MNIST and Fashion-MNIST (LeCun et al.): two zero
 * bytes, a type code, the number of dimensions, each dimension as a big-endian
 * u32, then the elements, big-endian, row-major. Gzipped files are read too.
 */
import { describeArray, type RawArray } from "./column.js";
import { DataError } from "./errors.js";
import { shapeSize } from "./spec.js";

/** The element types IDX has. */
export type IdxDtype = "u8" | "i8" | "i16" | "i32" | "f32" | "f64";

/** Type code → element type and size in bytes. */
const CODES: ReadonlyMap<number, { dtype: IdxDtype; size: number }> = new Map([
  [0x08, { dtype: "u8", size: 1 }],
  [0x09, { dtype: "i8", size: 1 }],
  [0x0b, { dtype: "i16", size: 2 }],
  [0x0c, { dtype: "i32", size: 4 }],
  [0x0d, { dtype: "f32", size: 4 }],
  [0x0e, { dtype: "f64", size: 8 }],
]);

/** Whether bytes (already decompressed) look like an IDX file: 00 00, a known type code, at least one dimension. */
export function looksLikeIdx(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && CODES.has(bytes[2]!) && bytes[3]! >= 1;
}

/**
 * The array an IDX file holds, with every header field checked against the
 * bytes: a DataError naming `file` for a bad magic number, an unknown type
 * code, no dimensions, or a length that disagrees with the header.
 */
export function decodeIdx(bytes: Uint8Array, file: string): RawArray {
  const hex = (n: number): string => n.toString(16).padStart(2, "0");
  if (bytes.length < 4) throw new DataError(file, `is too short to be an IDX file: ${bytes.length} bytes, fewer than the 4 of its magic number.`, "format");
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const start = [...bytes.subarray(0, 4)].map(hex).join(" ");
    throw new DataError(file, `is not an IDX file: it starts with ${start}, not with 00 00 and a type code.`, "format", {
      expected: "00 00",
      actual: start,
    });
  }
  const code = CODES.get(bytes[2]!);
  if (!code) throw new DataError(file, `has the unknown IDX type code 0x${hex(bytes[2]!)}; known codes are 0x08 to 0x0e.`, "format");
  const ndims = bytes[3]!;
  if (ndims === 0) throw new DataError(file, "is an IDX file with 0 dimensions; it needs at least one, the examples.", "format");
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new DataError(file, `is truncated: its header declares ${ndims} dimensions, which need ${headerBytes} bytes, but the file has ${bytes.length}.`, "format", {
      expected: `${headerBytes} bytes`,
      actual: `${bytes.length} bytes`,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < ndims; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const count = shapeSize(shape);
  const expected = headerBytes + count * code.size;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? "is truncated" : "is too long";
    throw new DataError(
      file,
      `${what}: its header declares ${describeArray(code.dtype, shape)}, which needs ${expected} bytes, but the file has ${bytes.length}.`,
      "format",
      { expected: `${expected} bytes`, actual: `${bytes.length} bytes` },
    );
  }
  return { file, dtype: code.dtype, shape, data: readBigEndian(view, headerBytes, count, code.dtype) };
}

function readBigEndian(view: DataView, at: number, count: number, dtype: IdxDtype): ArrayLike<number> {
  switch (dtype) {
    case "u8":
      return new Uint8Array(view.buffer, view.byteOffset + at, count);
    case "i8":
      return new Int8Array(view.buffer, view.byteOffset + at, count);
    case "i16": {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(at + 2 * i, false);
      return out;
    }
    case "i32": {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(at + 4 * i, false);
      return out;
    }
    case "f32": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(at + 4 * i, false);
      return out;
    }
    case "f64": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(at + 8 * i, false);
      return out;
    }
  }
}

/**
 * The bytes of an IDX file holding `data` with `shape` (examples first) as
 * `dtype`; gzip them with node:zlib for a `.gz` file. For tests and scripts
 * that make example data.
 */
export function encodeIdx(data: ArrayLike<number>, shape: readonly number[], dtype: IdxDtype): Uint8Array {
  const entry = [...CODES].find(([, c]) => c.dtype === dtype);
  if (!entry) throw new RangeError(`unknown IDX dtype ${dtype}`);
  const [code, { size }] = entry;
  const count = shapeSize(shape);
  if (data.length !== count) throw new RangeError(`encodeIdx: shape [${shape.join(", ")}] holds ${count} elements, data has ${data.length}`);
  if (shape.length < 1 || shape.length > 255) throw new RangeError("encodeIdx: an IDX file has 1 to 255 dimensions");
  const header = 4 + 4 * shape.length;
  const bytes = new Uint8Array(header + count * size);
  const view = new DataView(bytes.buffer);
  bytes[2] = code;
  bytes[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const at = header + i * size;
    const v = data[i]!;
    if (dtype === "u8") view.setUint8(at, v);
    else if (dtype === "i8") view.setInt8(at, v);
    else if (dtype === "i16") view.setInt16(at, v, false);
    else if (dtype === "i32") view.setInt32(at, v, false);
    else if (dtype === "f32") view.setFloat32(at, v, false);
    else view.setFloat64(at, v, false);
  }
  return bytes;
}
