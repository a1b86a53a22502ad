/**
 * Shared pieces of the checkpoint tests: tensor arbitraries, a builder for
 * hand-made (and deliberately broken) files, and byte comparison.
 */
import fc from "fast-check";
import { expect } from "vitest";
import { CheckpointError, type CheckpointProblem } from "../../runtime/checkpoint/errors.js";
import { dtypes, type Dtype, type DtypeArrays, type Tensor } from "../../runtime/checkpoint/dtypes.js";

export const allDtypes = Object.keys(dtypes) as Dtype[];

/** The raw bytes of a typed array. */
export function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Bit-exact equality of two tensors (so NaN, -0 and NaN payloads count). */
export function expectSameTensor(actual: Tensor | undefined, expected: Tensor, name: string): void {
  expect(actual, name).toBeDefined();
  expect(actual!.dtype, name).toBe(expected.dtype);
  expect([...actual!.shape], name).toEqual([...expected.shape]);
  expect(Buffer.from(bytesOf(actual!.data)).equals(Buffer.from(bytesOf(expected.data))), `${name}: bytes`).toBe(true);
}

/** Shapes of rank 0 to 3 with small sides (zero included), at most 64 elements. */
export const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });

/** Values for `count` elements of `dtype`: all floats, NaN, ±Infinity and -0 included. */
export function valuesArb(dtype: Dtype, count: number): fc.Arbitrary<DtypeArrays[Dtype]> {
  const n = { minLength: count, maxLength: count };
  switch (dtype) {
    case "F32":
      return fc.float32Array(n);
    case "F64":
      return fc.float64Array(n);
    case "I8":
      return fc.int8Array(n);
    case "I16":
      return fc.int16Array(n);
    case "I32":
      return fc.int32Array(n);
    case "U32":
      return fc.uint32Array(n);
    case "I64":
      return fc.bigInt64Array(n);
    case "U64":
      return fc.bigUint64Array(n);
    case "U16":
    case "F16":
    case "BF16":
      return fc.uint16Array(n);
    case "U8":
    case "F8_E5M2":
    case "F8_E4M3":
      return fc.uint8Array(n);
    case "BOOL":
      return fc.array(fc.constantFrom(0, 1), n).map((a) => Uint8Array.from(a));
  }
}

export const tensorArb: fc.Arbitrary<Tensor> = fc
  .tuple(fc.constantFrom(...allDtypes), shapeArb)
  .chain(([dtype, shape]) =>
    valuesArb(dtype, shape.reduce((a, b) => a * b, 1)).map((data) => ({ dtype, shape, data }) as Tensor),
  );

/** Names as repr writes them, and any other well-formed strings. */
export const nameArb: fc.Arbitrary<string> = fc
  .oneof(
    fc
      .tuple(fc.constantFrom("f", "g", "z", "W", "m"), fc.array(fc.nat(12).map(String), { maxLength: 3 }), fc.constantFrom("weight", "bias", "running_var", "q.weight", "token"))
      .map(([part, path, param]) => [part, ...path, param].join(".")),
    fc.string({ unit: "binary", maxLength: 12 }),
    fc.constantFrom("", "__proto__", "constructor", "a\"b\\c\n", "é.0.weight", "𝔣.0"),
  )
  .filter((name) => name !== "__metadata__");

export const tensorMapArb: fc.Arbitrary<Map<string, Tensor>> = fc
  .uniqueArray(fc.tuple(nameArb, tensorArb), { selector: ([name]) => name, maxLength: 6 })
  .map((entries) => new Map(entries));

export const metadataArb: fc.Arbitrary<Record<string, string>> = fc
  .array(fc.tuple(fc.string({ unit: "binary", maxLength: 8 }), fc.string({ unit: "binary", maxLength: 12 })), { maxLength: 4 })
  .map((entries) => Object.fromEntries(entries) as Record<string, string>);

/**
 * A file from a header given as text or as a value to stringify, and data
 * bytes. The header is padded with spaces to a multiple of 8 unless `pad` is
 * false; `headerLength` overrides the length written in the first 8 bytes.
 */
export function rawFile(
  header: string | object,
  data: Uint8Array | number[] = [],
  options: { pad?: boolean; headerLength?: bigint } = {},
): Uint8Array {
  const text = typeof header === "string" ? header : JSON.stringify(header);
  let json = new TextEncoder().encode(text);
  if (options.pad !== false) {
    const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, options.headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Runs `action`, expects a CheckpointError of `kind` naming `file`, and returns its message. */
export function expectCheckpointError(action: () => unknown, file: string, kind: CheckpointProblem): string {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught, "expected a CheckpointError").toBeInstanceOf(CheckpointError);
  const error = caught as CheckpointError;
  expect(error.file).toBe(file);
  expect(error.message.startsWith(`${file}: `), error.message).toBe(true);
  expect(error.kind, error.message).toBe(kind);
  return error.message;
}
