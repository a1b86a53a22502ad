/**
 * The element types of safetensors that repr reads and writes, the typed array
 * that holds each in memory, and the little-endian copy between the two.
 */

/**
 * The typed array for each dtype. Types JavaScript has no array for are kept as
 * their raw bits: `F16`, `BF16` as `Uint16Array`; the 8-bit floats and `BOOL`
 * (0 or 1) as `Uint8Array`.
 */
export interface DtypeArrays {
  BOOL: Uint8Array;
  U8: Uint8Array;
  I8: Int8Array;
  F8_E5M2: Uint8Array;
  F8_E4M3: Uint8Array;
  I16: Int16Array;
  U16: Uint16Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I32: Int32Array;
  U32: Uint32Array;
  F32: Float32Array;
  I64: BigInt64Array;
  U64: BigUint64Array;
  F64: Float64Array;
}

/** A safetensors dtype name, as written in the header. */
export type Dtype = keyof DtypeArrays;

/** One tensor: dtype, shape (row-major, the last axis varies fastest) and elements. */
export type Tensor = {
  [D in Dtype]: { readonly dtype: D; readonly shape: readonly number[]; readonly data: DtypeArrays[D] };
}[Dtype];

interface DtypeInfo {
  /** Bytes per element. */
  readonly size: 1 | 2 | 4 | 8;
  /** The `Symbol.toStringTag` of the typed array that holds it (realm-independent). */
  readonly arrayTag: string;
  readonly create: (length: number) => DtypeArrays[Dtype];
  /** Reads one element from little-endian bytes at a byte offset. */
  readonly get: (view: DataView, byteOffset: number) => number | bigint;
  /** Writes one element as little-endian bytes. */
  readonly set: (view: DataView, byteOffset: number, value: number | bigint) => void;
}

function info<T extends number | bigint>(
  size: 1 | 2 | 4 | 8,
  create: (length: number) => DtypeArrays[Dtype],
  get: (view: DataView, at: number) => T,
  set: (view: DataView, at: number, value: T) => void,
): DtypeInfo {
  return {
    size,
    arrayTag: create(0)[Symbol.toStringTag],
    create,
    get,
    set: set as DtypeInfo["set"],
  };
}

const u8 = info(1, (n) => new Uint8Array(n), (v, a) => v.getUint8(a), (v, a, x: number) => v.setUint8(a, x));
const u16 = info(2, (n) => new Uint16Array(n), (v, a) => v.getUint16(a, true), (v, a, x: number) => v.setUint16(a, x, true));

/**
 * Every dtype repr knows, in the order of the reference implementation's
 * `Dtype` enum. Its writer stores tensors by this order, last first, so the
 * encoder does too (see `storageRank`); the order also grows with element size.
 */
export const dtypes: Readonly<Record<Dtype, DtypeInfo>> = {
  BOOL: u8,
  U8: u8,
  I8: info(1, (n) => new Int8Array(n), (v, a) => v.getInt8(a), (v, a, x: number) => v.setInt8(a, x)),
  F8_E5M2: u8,
  F8_E4M3: u8,
  I16: info(2, (n) => new Int16Array(n), (v, a) => v.getInt16(a, true), (v, a, x: number) => v.setInt16(a, x, true)),
  U16: u16,
  F16: u16,
  BF16: u16,
  I32: info(4, (n) => new Int32Array(n), (v, a) => v.getInt32(a, true), (v, a, x: number) => v.setInt32(a, x, true)),
  U32: info(4, (n) => new Uint32Array(n), (v, a) => v.getUint32(a, true), (v, a, x: number) => v.setUint32(a, x, true)),
  F32: info(4, (n) => new Float32Array(n), (v, a) => v.getFloat32(a, true), (v, a, x: number) => v.setFloat32(a, x, true)),
  F64: info(8, (n) => new Float64Array(n), (v, a) => v.getFloat64(a, true), (v, a, x: number) => v.setFloat64(a, x, true)),
  I64: info(8, (n) => new BigInt64Array(n), (v, a) => v.getBigInt64(a, true), (v, a, x: bigint) => v.setBigInt64(a, x, true)),
  U64: info(8, (n) => new BigUint64Array(n), (v, a) => v.getBigUint64(a, true), (v, a, x: bigint) => v.setBigUint64(a, x, true)),
};

const ranks = new Map(Object.keys(dtypes).map((name, i) => [name, i]));

/** A dtype's place in the reference implementation's order; tensors are stored highest first. */
export function storageRank(dtype: Dtype): number {
  return ranks.get(dtype)!;
}

/** Whether `name` is a dtype repr knows (own keys only, so `constructor` is not one). */
export function isDtype(name: string): name is Dtype {
  return Object.prototype.hasOwnProperty.call(dtypes, name);
}

/** True on little-endian hosts (every platform Node supports today); checked, not assumed. */
export const hostIsLittleEndian: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of a typed array, without copying. */
function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Writes a tensor's elements into `target` at `at` as little-endian bytes. On a
 * little-endian host this is one byte copy; otherwise each element is written
 * through a DataView. `littleEndian` is a parameter so tests can take both paths.
 */
export function writeElements(
  dtype: Dtype,
  data: DtypeArrays[Dtype],
  target: Uint8Array,
  at: number,
  littleEndian = hostIsLittleEndian,
): void {
  if (littleEndian) {
    target.set(bytesOf(data), at);
    return;
  }
  const { size, set } = dtypes[dtype];
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  for (let i = 0; i < data.length; i++) set(view, at + i * size, data[i]!);
}

/**
 * Reads `count` elements of `dtype` from little-endian bytes at `at` into a new
 * typed array. The copy makes any offset safe (typed arrays need aligned views)
 * and gives the caller an array it owns, so the file's buffer can be released.
 */
export function readElements(
  dtype: Dtype,
  source: Uint8Array,
  at: number,
  count: number,
  littleEndian = hostIsLittleEndian,
): DtypeArrays[Dtype] {
  const { size, create, get } = dtypes[dtype];
  const out = create(count);
  if (littleEndian) {
    bytesOf(out).set(source.subarray(at, at + count * size));
    return out;
  }
  const view = new DataView(source.buffer, source.byteOffset, source.byteLength);
  const values = out as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < count; i++) values[i] = get(view, at + i * size);
  return out;
}
