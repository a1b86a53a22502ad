import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CheckpointError, type CheckpointProblem } from "../../runtime/checkpoint/errors.js";
import { decodeSafetensors, encodeSafetensors, MAX_HEADER_LENGTH } from "../../runtime/checkpoint/safetensors.js";
import type { Tensor } from "../../runtime/checkpoint/dtypes.js";
import { expectCheckpointError, metadataArb, rawFile, tensorMapArb } from "./helpers.js";

const FILE = "runs/broken.safetensors";

/** A valid file: two F32 tensors, 'a' [2] then 'b' [3]. */
function validFile(): Uint8Array {
  return encodeSafetensors(
    new Map<string, Tensor>([
      ["a", { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) }],
      ["b", { dtype: "F32", shape: [3], data: new Float32Array([3, 4, 5]) }],
    ]),
  );
}

const entry = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });

describe("corrupt checkpoints give a CheckpointError naming the file", () => {
  const cases: [string, () => Uint8Array, CheckpointProblem, RegExp][] = [
    ["an empty file", () => new Uint8Array(0), "too-short", /the file is 0 bytes long, too short for the 8-byte header length/],
    ["a 7-byte file", () => validFile().subarray(0, 7), "too-short", /7 bytes long/],
    ["a file cut inside the header", () => validFile().subarray(0, 40), "header-length", /the header length says \d+ bytes, but only 32 bytes follow it/],
    ["a header length of 2^64 − 1", () => rawFile("{}", [], { headerLength: 2n ** 64n - 1n }), "header-length", /says 18446744073709551615 bytes, but only 8/],
    ["a header length of 0", () => rawFile("", [], { pad: false }), "header-length", /the header length is 0/],
    ["a header that is not JSON", () => rawFile('{"a":'), "header-json", /the header is not valid JSON/],
    ["a header that is not UTF-8", () => rawFile("{}", [], { pad: false, headerLength: 2n }).map((b, i) => (i === 9 ? 0xff : b)), "header-json", /not valid UTF-8/],
    ["a header that does not start with {", () => rawFile("[1]"), "header-json", /does not start with '\{' \(its first byte is 0x5b\)/],
    ["padding that is not whitespace", () => rawFile("{}\0\0\0\0\0\0", [], { pad: false }), "header-json", /not valid JSON/],
    ["two JSON values in the header", () => rawFile("{} {}"), "header-json", /not valid JSON/],
    ["metadata that is not an object", () => rawFile({ __metadata__: ["x"] }), "header-format", /'__metadata__' must map names to strings, but it is an array/],
    ["a metadata value that is not a string", () => rawFile({ __metadata__: { step: 3 } }), "header-format", /metadata entry 'step' must be a string, but it is number 3/],
    ["a tensor entry that is not an object", () => rawFile({ a: 5 }), "header-format", /tensor 'a' must be an object with dtype, shape and data_offsets, but it is number 5/],
    ["a tensor entry without a shape", () => rawFile({ a: { dtype: "F32", data_offsets: [0, 0] } }), "header-format", /tensor 'a' has no 'shape'/],
    ["a tensor entry with another field", () => rawFile({ a: { ...entry("F32", [0], [0, 0]), strides: [1] } }), "header-format", /tensor 'a' has an unknown field 'strides'/],
    ["a dtype that is not a string", () => rawFile({ a: entry(7 as unknown as string, [0], [0, 0]) }), "header-format", /tensor 'a' has dtype number 7/],
    ["an unknown dtype", () => rawFile({ a: entry("F4", [2], [0, 1]) }, [0]), "dtype", /tensor 'a' has unknown dtype 'F4'; repr reads BOOL, U8, .*F64/],
    ["an inherited name as dtype", () => rawFile({ a: entry("constructor", [0], [0, 0]) }), "dtype", /unknown dtype 'constructor'/],
    ["a negative dimension", () => rawFile({ a: entry("F32", [-1], [0, 0]) }), "header-format", /tensor 'a' has shape \[-1\]; a shape is a list of non-negative integers/],
    ["a fractional dimension", () => rawFile({ a: entry("F32", [1.5], [0, 0]) }), "header-format", /shape \[1.5\]/],
    ["a shape that is not a list", () => rawFile({ a: entry("F32", 4, [0, 16]) }, new Uint8Array(16)), "header-format", /shape 4;/],
    ["offsets of the wrong length", () => rawFile({ a: entry("F32", [1], [0, 4, 8]) }, new Uint8Array(8)), "header-format", /data_offsets \[0,4,8\]; expected \[begin, end\]/],
    ["offsets that end before they begin", () => rawFile({ a: entry("F32", [0], [8, 4]) }, new Uint8Array(8)), "offsets", /data_offsets \[8, 4\] that end before they begin/],
    ["offsets past the end of the data", () => rawFile({ a: entry("F32", [4], [0, 16]) }, new Uint8Array(8)), "offsets", /tensor 'a' has data_offsets \[0, 16\], past the end of the data, which is 8 bytes long \(is the file truncated\?\)/],
    ["a file cut inside the data", () => validFile().subarray(0, validFile().length - 1), "offsets", /tensor 'b' has data_offsets \[8, 20\], past the end of the data, which is 19 bytes long/],
    ["overlapping tensors", () => rawFile({ a: entry("F32", [2], [0, 8]), b: entry("F32", [2], [4, 12]) }, new Uint8Array(12)), "offsets", /tensor 'b' \(data_offsets \[4, 12\]\) overlaps tensor 'a' \(data_offsets \[0, 8\]\)/],
    ["two tensors on the same bytes", () => rawFile({ a: entry("F32", [2], [0, 8]), b: entry("F32", [2], [0, 8]) }, new Uint8Array(8)), "offsets", /overlaps/],
    ["an empty tensor inside another", () => rawFile({ a: entry("F32", [2], [0, 8]), e: entry("F32", [0], [4, 4]) }, new Uint8Array(8)), "offsets", /tensor 'e' \(data_offsets \[4, 4\]\) overlaps tensor 'a'/],
    ["a gap between tensors", () => rawFile({ a: entry("F32", [1], [0, 4]), b: entry("F32", [1], [8, 12]) }, new Uint8Array(12)), "offsets", /data bytes 4 to 8 \(file offsets \d+ to \d+\) belong to no tensor/],
    ["data that does not start at 0", () => rawFile({ a: entry("U8", [4], [4, 8]) }, new Uint8Array(8)), "offsets", /data bytes 0 to 4/],
    ["a shape that does not fit the bytes", () => rawFile({ w: entry("F32", [2, 3], [0, 20]) }, new Uint8Array(20)), "shape", /tensor 'w' is F32 \[2, 3\], which takes 24 bytes \(4 per element\), but its data_offsets \[0, 20\] hold 20/],
    ["a huge shape", () => rawFile({ w: entry("F64", [2 ** 40, 2 ** 40], [0, 8]) }, new Uint8Array(8)), "shape", /takes 9671406556917033397649408 bytes/],
    ["trailing bytes", () => { const f = validFile(); const g = new Uint8Array(f.length + 3); g.set(f); return g; }, "trailing-bytes", /3 trailing bytes after the last tensor's data \(it ends at file offset \d+, the file is \d+ bytes long\)/],
    ["data but no tensors", () => rawFile({}, [1, 2]), "trailing-bytes", /2 trailing bytes/],
    ["a BOOL that is 2", () => rawFile({ m: entry("BOOL", [4], [0, 4]) }, [0, 1, 1, 2]), "value", /tensor 'm' is BOOL, but its element 3 is 2, not 0 or 1/],
  ];

  it.each(cases)("%s", (_, make, kind, message) => {
    const bytes = make();
    expect(expectCheckpointError(() => decodeSafetensors(bytes, FILE), FILE, kind)).toMatch(message);
  });

  it("refuses a header over the 100 MB limit before reading it", () => {
    const bytes = new Uint8Array(8 + MAX_HEADER_LENGTH + 8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(MAX_HEADER_LENGTH + 1), true);
    expect(expectCheckpointError(() => decodeSafetensors(bytes, FILE), FILE, "header-length")).toMatch(
      /the header length 100000001 is over the limit of 100000000 bytes/,
    );
  });

  it("accepts what the format allows: unpadded headers, other whitespace, empty tensors, scalars", () => {
    const bytes = rawFile('{"s":{"dtype":"I32","shape":[],"data_offsets":[0,4]},"e":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]}}\n\t', [9, 0, 0, 0], { pad: false });
    const { tensors } = decodeSafetensors(bytes, FILE);
    expect(tensors.get("s")!.data[0]).toBe(9);
    expect(tensors.get("e")!.data.length).toBe(0);
  });

  it("names the file exactly as given, spaces and all", () => {
    const name = "my runs/ckpt (final).safetensors";
    expect(() => decodeSafetensors(new Uint8Array(3), name)).toThrow(`${name}: the file is 3 bytes long`);
  });
});

describe("damaged checkpoints never escape as anything but a CheckpointError", () => {
  const fileArb = fc.tuple(tensorMapArb, metadataArb).map(([t, m]) => encodeSafetensors(t, m));
  const damageArb = fc.oneof(
    fc.record({ kind: fc.constant("truncate" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
    fc.record({ kind: fc.constant("flip" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant("set" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), value: fc.nat(255) }),
    fc.record({ kind: fc.constant("append" as const), extra: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
    fc.record({ kind: fc.constant("length" as const), value: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 400n })) }),
  );

  function damage(
    file: Uint8Array,
    d:
      | { kind: "truncate"; at: number }
      | { kind: "flip"; at: number; bit: number }
      | { kind: "set"; at: number; value: number }
      | { kind: "append"; extra: Uint8Array }
      | { kind: "length"; value: bigint },
  ): Uint8Array {
    const copy = file.slice();
    const index = (at: number) => Math.min(copy.length - 1, Math.floor(at * copy.length));
    switch (d.kind) {
      case "truncate":
        return copy.subarray(0, index(d.at));
      case "flip":
        copy[index(d.at)]! ^= 1 << d.bit;
        return copy;
      case "set":
        copy[index(d.at)] = d.value;
        return copy;
      case "append": {
        const out = new Uint8Array(copy.length + d.extra.length);
        out.set(copy);
        out.set(d.extra, copy.length);
        return out;
      }
      case "length":
        new DataView(copy.buffer).setBigUint64(0, d.value, true);
        return copy;
    }
  }

  it("any truncation, bit flip, byte change, appended bytes or header length: decodes or throws CheckpointError", () => {
    fc.assert(
      fc.property(fileArb, damageArb, (file, d) => {
        const broken = damage(file, d);
        try {
          decodeSafetensors(broken, FILE);
        } catch (error) {
          if (!(error instanceof CheckpointError)) throw error;
          expect(error.message.startsWith(`${FILE}: `)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("cutting any number of bytes off the end is always detected", () => {
    fc.assert(
      fc.property(fileArb.filter((f) => f.length > 16), fc.nat(), (file, cut) => {
        const n = 1 + (cut % (file.length - 1));
        expect(() => decodeSafetensors(file.subarray(0, file.length - n), FILE)).toThrow(CheckpointError);
      }),
      { numRuns: 300 },
    );
  });
});
