import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodeSafetensors, encodeSafetensors } from "../../runtime/checkpoint/safetensors.js";
import { dtypes, readElements, writeElements, type Tensor } from "../../runtime/checkpoint/dtypes.js";
import { bytesOf, expectCheckpointError, expectSameTensor, metadataArb, tensorArb, tensorMapArb } from "./helpers.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const ascii = (text: string): string => Buffer.from(text, "ascii").toString("hex");

describe("safetensors: known answers", () => {
  it("encodes one F32 tensor byte for byte", () => {
    const bytes = encodeSafetensors(new Map([["a", { dtype: "F32", shape: [2], data: new Float32Array([1, -2]) }]]));
    // Header: {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} is 54 bytes,
    // padded with 2 spaces to 56 = 0x38. Then 1.0f = 0x3f800000 and -2.0f = 0xc0000000, little-endian.
    const expected =
      "3800000000000000" +
      ascii('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}') +
      "2020" +
      "0000803f" +
      "000000c0";
    expect(hex(bytes)).toBe(expected);
    expect(bytes.length).toBe(72);
  });

  it("puts metadata first and larger elements before smaller ones", () => {
    const tensors = new Map<string, Tensor>([
      ["w", { dtype: "F32", shape: [1, 1], data: new Float32Array([0.5]) }],
      ["n", { dtype: "I64", shape: [], data: new BigInt64Array([-1n]) }],
    ]);
    const bytes = encodeSafetensors(tensors, { step: "3" });
    // 137 bytes of JSON, padded with 7 spaces to 144 = 0x90; the I64 (8 bytes) is stored before the F32.
    const header =
      '{"__metadata__":{"step":"3"},' +
      '"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},' +
      '"w":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}';
    expect(header.length).toBe(137);
    expect(hex(bytes)).toBe("9000000000000000" + ascii(header) + "20".repeat(7) + "ffffffffffffffff" + "0000003f");
  });

  it("lays out mixed dtypes as the reference implementation does (recorded from safetensors 0.8.0)", () => {
    const t = (dtype: string, data: ArrayBufferView & { length: number }): Tensor => ({ dtype, shape: [data.length], data }) as unknown as Tensor;
    const tensors = new Map<string, Tensor>([
      ["a", t("F64", new Float64Array([1]))],
      ["b", t("I64", new BigInt64Array([2n]))],
      ["c", t("F32", new Float32Array([3]))],
      ["d", t("U8", new Uint8Array([1, 2, 3]))],
      ["e", t("I32", new Int32Array([5]))],
      ["f", t("F16", new Uint16Array([0x3c00]))],
      ["g", t("BF16", new Uint16Array([0x3f80]))],
    ]);
    // The header safetensors 0.8.0's save_file wrote for these tensors: I64 before F64, BF16 before F16.
    const reference =
      '{"b":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"a":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},' +
      '"c":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},"e":{"dtype":"I32","shape":[1],"data_offsets":[20,24]},' +
      '"g":{"dtype":"BF16","shape":[1],"data_offsets":[24,26]},"f":{"dtype":"F16","shape":[1],"data_offsets":[26,28]},' +
      '"d":{"dtype":"U8","shape":[3],"data_offsets":[28,31]}}';
    const bytes = encodeSafetensors(tensors);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(Buffer.from(bytes.subarray(8, 8 + n)).toString("utf8").trimEnd()).toBe(reference);
  });

  it("encodes an empty checkpoint as the header {} padded to 8 bytes", () => {
    expect(hex(encodeSafetensors(new Map()))).toBe("0800000000000000" + ascii("{}      "));
    expect(decodeSafetensors(encodeSafetensors(new Map()), "empty.safetensors")).toEqual({ tensors: new Map(), metadata: {} });
  });

  it("decodes a file written by hand, with an unpadded header and unaligned data", () => {
    // 57 bytes of header: the F64 data starts at file offset 65, which no Float64Array can view.
    const header = '{"x":{"dtype":"F64","shape":[1,2],"data_offsets":[0,16]}}';
    const data = new Uint8Array(16);
    new DataView(data.buffer).setFloat64(0, Math.PI, true);
    new DataView(data.buffer).setFloat64(8, -0, true);
    const bytes = new Uint8Array(8 + header.length + 16);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(Buffer.from(header), 8);
    bytes.set(data, 8 + header.length);
    const { tensors } = decodeSafetensors(bytes, "hand.safetensors");
    const x = tensors.get("x")!;
    expect(x.shape).toEqual([1, 2]);
    expect(x.data[0]).toBe(Math.PI);
    expect(Object.is(x.data[1], -0)).toBe(true);
  });

  it("decodes from a view at an odd offset into a larger buffer", () => {
    const file = encodeSafetensors(new Map([["v", { dtype: "F32", shape: [3], data: new Float32Array([1.5, NaN, -Infinity]) }]]));
    const big = new Uint8Array(file.length + 3);
    big.set(file, 1);
    const v = decodeSafetensors(big.subarray(1, 1 + file.length), "view.safetensors").tensors.get("v")!;
    expect([...(v.data as Float32Array)]).toEqual([1.5, NaN, -Infinity]);
  });
});

describe("safetensors: round trips", () => {
  it("decode(encode(t, m)) gives back every name, dtype, shape, value bit and metadata entry", () => {
    fc.assert(
      fc.property(tensorMapArb, metadataArb, (tensors, metadata) => {
        const bytes = encodeSafetensors(tensors, metadata);
        const decoded = decodeSafetensors(bytes, "round.safetensors");
        expect(new Set(decoded.tensors.keys())).toEqual(new Set(tensors.keys()));
        for (const [name, tensor] of tensors) expectSameTensor(decoded.tensors.get(name), tensor, name);
        expect(decoded.metadata).toEqual(metadata);
        // Canonical: encoding what was decoded gives the same bytes.
        expect(hex(encodeSafetensors(decoded.tensors, decoded.metadata))).toBe(hex(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it("pads the header with spaces and aligns every tensor to its element size", () => {
    fc.assert(
      fc.property(tensorMapArb, metadataArb, (tensors, metadata) => {
        const bytes = encodeSafetensors(tensors, metadata);
        const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        expect(n % 8).toBe(0);
        const text = Buffer.from(bytes.subarray(8, 8 + n)).toString("utf8");
        expect(text).toMatch(/^\{.*\} *$/s);
        expect(text.length - text.trimEnd().length).toBeLessThan(8);
        const header = JSON.parse(text) as Record<string, { dtype: keyof typeof dtypes; data_offsets: [number, number] }>;
        let previousSize = 8;
        for (const [name, entry] of Object.entries(header)) {
          if (name === "__metadata__") continue;
          const size = dtypes[entry.dtype].size;
          expect((8 + n + entry.data_offsets[0]) % size).toBe(0);
          // Storage order: element sizes never grow (header order is storage order, except that
          // JSON.parse moves integer-like names first, so only check those that are not).
          if (!/^(0|[1-9][0-9]*)$/.test(name)) {
            expect(size).toBeLessThanOrEqual(previousSize);
            previousSize = size;
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it("returns tensors in storage order, sorted by dtype then by code point", () => {
    const t = (dtype: "F32" | "F64" | "U8"): Tensor =>
      ({ dtype, shape: [1], data: dtypes[dtype].create(1) }) as unknown as Tensor;
    const names = ["b", "𝔣", "a", "\uffff", "c"];
    const tensors = new Map<string, Tensor>([
      [names[0]!, t("F32")],
      [names[1]!, t("F32")],
      [names[2]!, t("F32")],
      [names[3]!, t("F32")],
      [names[4]!, t("U8")],
      ["z", t("F64")],
    ]);
    const decoded = decodeSafetensors(encodeSafetensors(tensors), "order.safetensors");
    // U+FFFF sorts before U+1D523 by code point, though not by UTF-16 code unit.
    expect([...decoded.tensors.keys()]).toEqual(["z", "a", "b", "\uffff", "𝔣", "c"]);
  });

  it("keeps NaN payloads, -0 and infinities bit for bit", () => {
    const bits = new Uint32Array([0x7fc00001, 0xffc12345, 0x80000000, 0x7f800000, 0xff800000, 0x00000001]);
    const data = new Float32Array(bits.buffer);
    const decoded = decodeSafetensors(encodeSafetensors(new Map([["x", { dtype: "F32", shape: [6], data }]])), "nan.safetensors");
    expect([...new Uint32Array((decoded.tensors.get("x")!.data as Float32Array).slice().buffer)]).toEqual([...bits]);
  });

  it("a __proto__ name or metadata key stays data", () => {
    const metadata = JSON.parse('{"__proto__":"x","constructor":"y"}') as Record<string, string>;
    const tensors = new Map<string, Tensor>([["__proto__", { dtype: "I32", shape: [1], data: new Int32Array([7]) }]]);
    const decoded = decodeSafetensors(encodeSafetensors(tensors, metadata), "proto.safetensors");
    expect(Object.getPrototypeOf(decoded.metadata)).toBe(Object.prototype);
    expect(Object.keys(decoded.metadata).sort()).toEqual(["__proto__", "constructor"]);
    expect(decoded.metadata["__proto__"]).toBe("x");
    expect(decoded.tensors.get("__proto__")!.data[0]).toBe(7);
  });
});

describe("safetensors: element byte order", () => {
  it("the DataView path (big-endian hosts) and the byte-copy path write and read the same bytes", () => {
    fc.assert(
      fc.property(tensorArb, fc.nat(7), (tensor, shift) => {
        const length = tensor.data.byteLength;
        const fast = new Uint8Array(length + shift);
        const slow = new Uint8Array(length + shift);
        writeElements(tensor.dtype, tensor.data, fast, shift, true);
        writeElements(tensor.dtype, tensor.data, slow, shift, false);
        // Floats go through JavaScript numbers on the slow path, which may quiet a NaN's payload;
        // compare values there, bytes everywhere else.
        const count = tensor.data.length;
        const viaSlow = readElements(tensor.dtype, slow, shift, count, false);
        const viaFast = readElements(tensor.dtype, fast, shift, count, true);
        expect([...viaSlow]).toEqual([...tensor.data]);
        expect(Buffer.from(bytesOf(viaFast)).equals(Buffer.from(bytesOf(tensor.data)))).toBe(true);
        if (tensor.dtype !== "F32" && tensor.dtype !== "F64") expect(hex(slow)).toBe(hex(fast));
      }),
      { numRuns: 300 },
    );
  });

  it("writes little-endian bytes on the DataView path", () => {
    const out = new Uint8Array(4);
    writeElements("I32", new Int32Array([0x01020304]), out, 0, false);
    expect(hex(out)).toBe("04030201");
  });
});

describe("safetensors: what the encoder refuses", () => {
  const one = (tensor: unknown, name = "x", metadata?: unknown) => () =>
    encodeSafetensors(new Map([[name, tensor as Tensor]]), metadata as Record<string, string>);

  it.each([
    ["a reserved name", one({ dtype: "F32", shape: [], data: new Float32Array(1) }, "__metadata__"), /reserved/],
    ["a lone surrogate in a name", one({ dtype: "F32", shape: [], data: new Float32Array(1) }, "a\ud800"), /lone surrogate/],
    ["an unknown dtype", one({ dtype: "F4", shape: [], data: new Float32Array(1) }), /unknown dtype 'F4'/],
    ["a negative dimension", one({ dtype: "F32", shape: [-1], data: new Float32Array(1) }), /shape \[-1\]/],
    ["a fractional dimension", one({ dtype: "F32", shape: [1.5], data: new Float32Array(1) }), /shape \[1.5\]/],
    ["the wrong typed array", one({ dtype: "F32", shape: [2], data: new Float64Array(2) }), /needs a Float32Array, but its data is a Float64Array/],
    ["a plain array", one({ dtype: "F32", shape: [2], data: [1, 2] }), /but its data is a plain array/],
    ["a count that does not fit the shape", one({ dtype: "I32", shape: [2, 3], data: new Int32Array(5) }), /shape \[2, 3\] of 6 elements, but 5 values/],
    ["a metadata value that is not a string", one({ dtype: "U8", shape: [0], data: new Uint8Array(0) }, "x", { step: 3 }), /metadata entry 'step' must be a string/],
  ])("refuses %s", (_, action, message) => {
    expect(expectCheckpointError(action, "<memory>", "invalid-tensor")).toMatch(message);
  });
});
