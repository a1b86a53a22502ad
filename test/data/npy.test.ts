import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDataset } from "../../runtime/data/load.js";
import { decodeNpy, encodeNpy, type NpyDtype } from "../../runtime/data/npy.js";
import { expectDataError, f32, label, spec, tempDir, tokens, write } from "./helpers.js";

const dir = tempDir();

/** A v1.0 file as numpy 1.26 writes `np.arange(6, dtype='<i2').reshape(2, 3)`: the header bytes exactly. */
const NUMPY_I2 =
  "\x93NUMPY\x01\x00v\x00{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }" + " ".repeat(58) + "\n";

describe(".npy files", () => {
  const values: Record<NpyDtype, number[]> = {
    "<f4": [0.5, -1.25, 1e-3, 65504],
    "<f8": [Math.PI, -1e300, 0, 2 ** -1074],
    "|u1": [0, 1, 128, 255],
    "|i1": [-128, 127, 0, -1],
    "<u2": [0, 65535, 256, 1],
    "<i2": [-32768, 32767, 0, -1],
    "<i4": [-(2 ** 31), 2 ** 31 - 1, 0, -1],
    "<i8": [-(2 ** 53) + 1, 2 ** 53 - 1, 0, -1],
  };
  for (const version of [1, 2, 3] as const) {
    it(`round-trip every dtype with a version ${version} header`, () => {
      for (const [dtype, data] of Object.entries(values) as Array<[NpyDtype, number[]]>) {
        const bytes = encodeNpy(data, [2, 2], dtype, version);
        expect(bytes[6]).toBe(version);
        const headerEnd = version === 1 ? 10 + (bytes[8]! | (bytes[9]! << 8)) : 12 + (bytes[8]! | (bytes[9]! << 8));
        expect(headerEnd % 64, "data starts on a 64-byte boundary").toBe(0);
        const raw = decodeNpy(bytes, "a.npy");
        expect(raw.shape).toEqual([2, 2]);
        const expected = dtype === "<f4" ? Array.from(Float32Array.from(data)) : data;
        expect(Array.from(raw.data)).toEqual(expected);
      }
    });
  }

  it("reads a header exactly as numpy writes it", () => {
    const header = Uint8Array.from(NUMPY_I2, (c) => c.charCodeAt(0));
    const data = new Uint8Array(new Int16Array([0, 1, 2, 3, 4, -5]).buffer);
    const raw = decodeNpy(new Uint8Array([...header, ...data]), "numpy.npy");
    expect(raw.dtype).toBe("i16");
    expect(raw.shape).toEqual([2, 3]);
    expect(Array.from(raw.data)).toEqual([0, 1, 2, 3, 4, -5]);
    expect(header.length).toBe(128);
  });

  it("fill fields one file each, u8 pixels scaled to [0, 1], split 80/20", async () => {
    const images = write(join(dir, "images.npy"), encodeNpy(Array.from({ length: 10 * 4 }, (_, i) => i * 5), [10, 2, 2], "|u1"));
    const labels = write(join(dir, "labels.npy"), encodeNpy([0, 1, 2, 0, 1, 2, 0, 1, 2, 0], [10], "<i8"));
    const d = await loadDataset(spec("d", f32("image", [1, 2, 2]), label("label", 3)), [
      { field: "image", source: images },
      { field: "label", source: labels },
    ]);
    expect(d.train.length).toBe(8);
    expect(d.test.length).toBe(2);
    expect(d.test.columns.get("image")!.data[0]).toBeCloseTo((8 * 4 * 5) / 255, 7);
    expect([...d.test.columns.get("label")!.data]).toEqual([2, 0]);
  });

  it("fill the one non-label field when bound to the whole data set", async () => {
    const file = write(join(dir, "whole.npy"), encodeNpy([1, 2, 3, 4, 5], [5, 1], "<f8"));
    const d = await loadDataset(spec("d", f32("x", [])), [{ source: file }]);
    expect([...d.train.columns.get("x")!.data]).toEqual([1, 2, 3, 4]);
    // With a label field the array cannot fill, the error names the field and what the file holds.
    await expectDataError(
      () => loadDataset(spec("d", f32("x", []), label("label", 2)), [{ source: file }]),
      "missing",
      "no source for field 'label' (label(classes: 2))",
      "one array f64[5, 1]",
      "--data d.label=PATH",
    );
  });

  it("name the file, the field, the expected and the actual shape on a mismatch", async () => {
    const file = write(join(dir, "fashion.npy"), encodeNpy(new Array(5 * 28 * 28).fill(0.5), [5, 28, 28], "<f4"));
    const error = await expectDataError(
      () => loadDataset(spec("d", f32("image", [3, 28, 28])), [{ field: "image", source: file }]),
      "shape",
      "fashion.npy: field 'image' expects f32[3, 28, 28] per example, the file holds f32[28, 28].",
    );
    expect(error.field).toBe("image");
    expect(error.expected).toBe("f32[3, 28, 28]");
    expect(error.actual).toBe("f32[28, 28]");
    // [28, 28, 3] has the element count of [3, 28, 28] but not its order: refused.
    const hwc = write(join(dir, "hwc.npy"), encodeNpy(new Array(2 * 12).fill(0), [2, 2, 2, 3], "<f4"));
    await expectDataError(() => loadDataset(spec("d", f32("image", [3, 2, 2])), [{ source: hwc }]), "shape", "f32[2, 2, 3]");
  });

  it("refuse NaN and infinity in f32 data, non-integer and out-of-range labels and tokens", async () => {
    const nan = write(join(dir, "nan.npy"), encodeNpy([1, 2, Number.NaN, 4, 5, 6], [3, 2], "<f4"));
    await expectDataError(() => loadDataset(spec("d", f32("x", [2])), [{ source: nan }]), "value", "nan.npy", "NaN at example 1, element 0");
    const inf = write(join(dir, "inf.npy"), encodeNpy([1, Infinity], [2], "<f8"));
    await expectDataError(() => loadDataset(spec("d", f32("x", [])), [{ source: inf }]), "value", "Infinity at example 1");
    const half = write(join(dir, "half.npy"), encodeNpy([0, 1.5], [2], "<f4"));
    await expectDataError(() => loadDataset(spec("d", label("y", 2)), [{ field: "y", source: half }]), "value", "half.npy", "1.5, not an integer");
    const big = write(join(dir, "big.npy"), encodeNpy([0, 1, 5, 2], [2, 2], "<i4"));
    await expectDataError(() => loadDataset(spec("d", tokens("t", 2, 5)), [{ source: big }]), "value", "big.npy", "example 1, element 0 holds 5, outside 0..4");
  });

  it("refuse Fortran order, big-endian and unknown dtypes, bad magic and truncated files", async () => {
    const good = encodeNpy([1, 2, 3, 4], [2, 2], "<f4");
    const text = new TextDecoder("latin1").decode(good);
    const patch = (from: string, to: string): Uint8Array => Uint8Array.from(text.replace(from, to), (c) => c.charCodeAt(0));
    await expectDataError(() => decodeNpy(patch("'fortran_order': False", "'fortran_order': True "), "f.npy"), "format", "f.npy", "Fortran", "C order");
    await expectDataError(() => decodeNpy(patch("'<f4'", "'>f4'"), "b.npy"), "format", "b.npy", "'>f4'", "little-endian");
    await expectDataError(() => decodeNpy(patch("'<f4'", "'<c8'"), "c.npy"), "format", "'<c8'");
    await expectDataError(() => decodeNpy(patch("NUMPY", "NUMPX"), "m.npy"), "format", "m.npy", "magic");
    await expectDataError(() => decodeNpy(good.subarray(0, good.length - 3), "t.npy"), "format", "t.npy", "truncated", `needs ${good.length} bytes`, `has ${good.length - 3}`);
    await expectDataError(() => decodeNpy(good.subarray(0, 40), "h.npy"), "format", "h.npy", "truncated");
    // A file named .npy that is not one gets the .npy error, not a text-corpus error.
    const fake = write(join(dir, "fake.npy"), "hello");
    await expectDataError(() => loadDataset(spec("d", f32("x", [])), [{ source: fake }]), "format", "fake.npy", "magic");
  });
});
