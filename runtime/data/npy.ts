/**
 * NumPy `.npy` files, format versions 1.0, 2.0 and 3.0 (numpy.lib.format):
 * the magic `\x93NUMPY`, a major and minor version, the header length (u16
 * for 1.0, u32 after), a Python dict literal header padded with spaces to a
 * multiple of 64 bytes and ended by a newline, then the elements. repr reads
 * little-endian numbers in C order; the first axis is the examples.
 */
import { describeArray, type RawArray, type RawDtype } from "./column.js";
import { DataError } from "./errors.js";
import { shapeSize } from "./spec.js";

/** The element types repr reads, by their `descr` string. */
export type NpyDtype = "<f4" | "<f8" | "|u1" | "<i4" | "<i8" | "|i1" | "<u2" | "<i2";

const DTYPES: ReadonlyMap<string, { dtype: RawDtype; size: number }> = new Map([
  ["f4", { dtype: "f32", size: 4 }],
  ["f8", { dtype: "f64", size: 8 }],
  ["u1", { dtype: "u8", size: 1 }],
  ["i1", { dtype: "i8", size: 1 }],
  ["u2", { dtype: "u16", size: 2 }],
  ["i2", { dtype: "i16", size: 2 }],
  ["i4", { dtype: "i32", size: 4 }],
  ["i8", { dtype: "i64", size: 8 }],
]);

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Whether bytes start with the `.npy` magic string. */
export function looksLikeNpy(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && MAGIC.every((b, i) => bytes[i] === b);
}

/** The array a `.npy` file holds, or a DataError naming `file` and what is wrong with it. */
export function decodeNpy(bytes: Uint8Array, file: string): RawArray {
  const fail = (problem: string, details: { expected?: string; actual?: string } = {}): never => {
    throw new DataError(file, problem, "format", details);
  };
  if (!looksLikeNpy(bytes)) fail("is not a .npy file: it does not start with the magic string \\x93NUMPY.");
  if (bytes.length < 10) fail(`is truncated: ${bytes.length} bytes, fewer than a .npy preamble.`);
  const major = bytes[6]!;
  if (major < 1 || major > 3) fail(`is .npy format version ${major}.${bytes[7]}; repr reads versions 1, 2 and 3.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail(`is truncated: ${bytes.length} bytes, fewer than a version ${major} preamble.`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lengthBytes + headerLength;
  if (bytes.length < dataStart) {
    fail(`is truncated: its header needs ${dataStart} bytes, but the file has ${bytes.length}.`, {
      expected: `${dataStart} bytes`,
      actual: `${bytes.length} bytes`,
    });
  }
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(8 + lengthBytes, dataStart));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(`has a header that is not a .npy header dict with 'descr', 'fortran_order' and 'shape': ${header.trim()}`);
  }
  if (fortran === "True") {
    fail("is stored in Fortran (column-major) order; repr reads C order. Save it with numpy.ascontiguousarray(a) first.");
  }
  const order = descr![0];
  const type = DTYPES.get(descr!.slice(1));
  if (order === ">" || !type || !(order === "<" || order === "|" || order === "=")) {
    fail(`holds elements of dtype '${descr}'; repr reads little-endian ${[...DTYPES.keys()].join(", ")}.`, { actual: descr! });
  }
  const shape = shapeText!
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => (/^\d+L?$/.test(s) ? Number.parseInt(s, 10) : fail(`has a header whose shape (${shapeText}) is not a tuple of integers.`)));
  const { dtype, size } = type!;
  const count = shapeSize(shape);
  const expected = dataStart + count * size;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? "is truncated" : "is too long";
    fail(`${what}: its header declares ${describeArray(dtype, shape)}, which needs ${expected} bytes, but the file has ${bytes.length}.`, {
      expected: `${expected} bytes`,
      actual: `${bytes.length} bytes`,
    });
  }
  return { file, dtype, shape, data: readLittleEndian(view, dataStart, count, dtype, file) };
}

function readLittleEndian(view: DataView, at: number, count: number, dtype: RawDtype, file: string): ArrayLike<number> {
  const out =
    dtype === "u8"
      ? new Uint8Array(count)
      : dtype === "i8"
        ? new Int8Array(count)
        : dtype === "u16"
          ? new Uint16Array(count)
          : dtype === "i16"
            ? new Int16Array(count)
            : dtype === "i32"
              ? new Int32Array(count)
              : dtype === "f32"
                ? new Float32Array(count)
                : new Float64Array(count);
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case "u8":
        out[i] = view.getUint8(at + i);
        break;
      case "i8":
        out[i] = view.getInt8(at + i);
        break;
      case "u16":
        out[i] = view.getUint16(at + 2 * i, true);
        break;
      case "i16":
        out[i] = view.getInt16(at + 2 * i, true);
        break;
      case "i32":
        out[i] = view.getInt32(at + 4 * i, true);
        break;
      case "f32":
        out[i] = view.getFloat32(at + 4 * i, true);
        break;
      case "f64":
        out[i] = view.getFloat64(at + 8 * i, true);
        break;
      case "i64": {
        // i64 values are held as numbers; those beyond 2^53 would lose digits, so they are refused.
        const v = view.getBigInt64(at + 8 * i, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
          throw new DataError(file, `holds the int64 value ${v} at element ${i}, beyond the 2^53 that repr reads exactly.`, "value");
        }
        out[i] = Number(v);
        break;
      }
    }
  }
  return out;
}

/**
 * The bytes of a `.npy` file holding `data` with `shape` as `dtype`, in C
 * order, format version 1.0 unless `version` says 2 or 3 (whose header length
 * is a u32). For tests and scripts that make example data.
 */
export function encodeNpy(data: ArrayLike<number>, shape: readonly number[], dtype: NpyDtype, version: 1 | 2 | 3 = 1): Uint8Array {
  const type = DTYPES.get(dtype.slice(1));
  if (!type) throw new RangeError(`encodeNpy: unknown dtype ${dtype}`);
  const count = shapeSize(shape);
  if (data.length !== count) throw new RangeError(`encodeNpy: shape [${shape.join(", ")}] holds ${count} elements, data has ${data.length}`);
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${tuple}, }`;
  const preamble = version === 1 ? 10 : 12;
  // Pad with spaces so that preamble + header + "\n" is a multiple of 64, as numpy does.
  header += " ".repeat((64 - ((preamble + header.length + 1) % 64)) % 64) + "\n";
  const headerBytes = new TextEncoder().encode(header);
  const bytes = new Uint8Array(preamble + headerBytes.length + count * type.size);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  bytes[6] = version;
  bytes[7] = 0;
  if (version === 1) view.setUint16(8, headerBytes.length, true);
  else view.setUint32(8, headerBytes.length, true);
  bytes.set(headerBytes, preamble);
  const at = preamble + headerBytes.length;
  for (let i = 0; i < count; i++) {
    const v = data[i]!;
    const o = at + i * type.size;
    switch (type.dtype) {
      case "u8":
        view.setUint8(o, v);
        break;
      case "i8":
        view.setInt8(o, v);
        break;
      case "u16":
        view.setUint16(o, v, true);
        break;
      case "i16":
        view.setInt16(o, v, true);
        break;
      case "i32":
        view.setInt32(o, v, true);
        break;
      case "i64":
        view.setBigInt64(o, BigInt(v), true);
        break;
      case "f32":
        view.setFloat32(o, v, true);
        break;
      case "f64":
        view.setFloat64(o, v, true);
        break;
    }
  }
  return bytes;
}
