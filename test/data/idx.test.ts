import { existsSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodeIdx, encodeIdx, type IdxDtype } from "../../runtime/data/idx.js";
import { loadDataset } from "../../runtime/data/load.js";
import { expectDataError, f32, label, spec, tempDir, write } from "./helpers.js";

const dir = tempDir();
const digits = spec("digits", f32("image", [1, 4, 3]), label("label", 3));

/** Writes an MNIST-layout folder of `train` and `test` examples of 4x3 u8 images; pixel values encode (split, example). */
function writeIdxFolder(folder: string, train: number, test: number, gz: boolean): void {
  for (const [prefix, n] of [["train", train], ["t10k", test]] as const) {
    const images = Array.from({ length: n * 12 }, (_, i) => (prefix === "train" ? 0 : 100) + Math.floor(i / 12) + (i % 12));
    const labels = Array.from({ length: n }, (_, i) => i % 3);
    const suffix = gz ? ".gz" : "";
    const pack = (b: Uint8Array): Uint8Array => (gz ? gzipSync(b) : b);
    write(join(folder, `${prefix}-images-idx3-ubyte${suffix}`), pack(encodeIdx(images, [n, 4, 3], "u8")));
    write(join(folder, `${prefix}-labels-idx1-ubyte${suffix}`), pack(encodeIdx(labels, [n], "u8")));
  }
}

describe("IDX files", () => {
  it("round-trip every element type", () => {
    const values: Record<IdxDtype, number[]> = {
      u8: [0, 1, 255, 7],
      i8: [-128, 127, 0, -1],
      i16: [-32768, 32767, 5, -2],
      i32: [-(2 ** 31), 2 ** 31 - 1, 12345, -9],
      f32: [0.5, -1.25, 2 ** 20 + 0.5, 0],
      f64: [Math.PI, -Math.E, 1e300, -0.1],
    };
    for (const [dtype, data] of Object.entries(values) as Array<[IdxDtype, number[]]>) {
      const raw = decodeIdx(encodeIdx(data, [2, 2], dtype), "x.idx");
      expect(raw.dtype).toBe(dtype);
      expect(raw.shape).toEqual([2, 2]);
      expect([...(raw.data as ArrayLike<number>) as number[]]).toEqual(data);
    }
  });

  for (const gz of [false, true]) {
    it(`fill image and label fields from a folder (${gz ? "gzipped" : "plain"}), train and t10k as the splits`, async () => {
      const folder = join(dir, gz ? "gz" : "plain");
      writeIdxFolder(folder, 5, 2, gz);
      const d = await loadDataset(digits, [{ source: folder }]);
      expect(d.train.length).toBe(5);
      expect(d.test.length).toBe(2);
      const image = d.train.columns.get("image")!;
      expect(image.shape).toEqual([1, 4, 3]);
      expect(image.data[12 * 3 + 5]).toBeCloseTo((3 + 5) / 255, 7);
      expect(d.test.columns.get("image")!.data[12 + 1]).toBeCloseTo((100 + 1 + 1) / 255, 7);
      expect([...d.train.columns.get("label")!.data]).toEqual([0, 1, 2, 0, 1]);
    });
  }

  it("fill one field from a single file, split 80/20", async () => {
    const file = write(join(dir, "single", "values.idx"), encodeIdx(Array.from({ length: 10 * 2 }, (_, i) => i), [10, 2], "f32"));
    const d = await loadDataset(spec("v", f32("x", [2])), [{ field: "x", source: file }]);
    expect(d.train.length).toBe(8);
    expect(d.test.length).toBe(2);
    expect([...d.test.columns.get("x")!.data]).toEqual([16, 17, 18, 19]);
  });

  it("report a truncated file with its name, the bytes expected and the bytes it has", async () => {
    const whole = encodeIdx(new Array(4 * 12).fill(1), [4, 4, 3], "u8");
    const file = write(join(dir, "trunc", "train-images-idx3-ubyte"), whole.subarray(0, whole.length - 5));
    const error = await expectDataError(() => decodeIdx(whole.subarray(0, whole.length - 5), file), "format", file, "truncated", `needs ${whole.length} bytes`, `has ${whole.length - 5}`);
    expect(error.expected).toBe(`${whole.length} bytes`);
    await expectDataError(() => loadDataset(spec("d", f32("image", [4, 3])), [{ field: "image", source: file }]), "format", "train-images-idx3-ubyte", "truncated");
    await expectDataError(() => decodeIdx(whole.subarray(0, 10), "h.idx"), "format", "h.idx", "truncated", "3 dimensions");
    await expectDataError(() => decodeIdx(new Uint8Array([...whole, 0]), "long.idx"), "format", "long.idx", "too long");
  });

  it("report a bad magic number, an unknown type code and zero dimensions", async () => {
    const good = encodeIdx([1, 2, 3], [3], "u8");
    const badMagic = good.slice();
    badMagic[0] = 0x42;
    await expectDataError(() => decodeIdx(badMagic, "m.idx"), "format", "m.idx", "not an IDX file", "42 00 08 01");
    const badCode = good.slice();
    badCode[2] = 0x07;
    await expectDataError(() => decodeIdx(badCode, "c.idx"), "format", "c.idx", "type code 0x07");
    await expectDataError(() => decodeIdx(new Uint8Array([0, 0, 8, 0]), "z.idx"), "format", "z.idx", "0 dimensions");
    await expectDataError(() => decodeIdx(new Uint8Array([0, 0]), "s.idx"), "format", "s.idx", "too short");
    // Bound by its IDX name, a file with a bad magic number gets the IDX error, not a text error.
    const file = write(join(dir, "magic", "labels-idx1-ubyte"), badMagic);
    await expectDataError(() => loadDataset(spec("d", label("label", 3)), [{ source: file }]), "format", file, "not an IDX file");
  });

  it("report wrong dimensions in a folder against the field, naming the file", async () => {
    const folder = join(dir, "dims");
    writeIdxFolder(folder, 3, 3, false);
    // Labels with a second axis of 2: the label field wants one integer per example.
    write(join(folder, "train-labels-idx1-ubyte"), encodeIdx([0, 1, 2, 0, 1, 2], [3, 2], "u8"));
    await expectDataError(() => loadDataset(digits, [{ source: folder }]), "shape", "train-labels-idx1-ubyte", "field 'label' expects label(classes: 3)", "u8[2]");
    await expectDataError(
      () => loadDataset(spec("d", f32("image", [3, 4, 3]), label("label", 3)), [{ source: folder }]),
      "shape",
      "train-images-idx3-ubyte: field 'image' expects f32[3, 4, 3] per example, the file holds u8[4, 3]",
    );
  });

  it("report images and labels of different lengths, labels out of range, and a missing file", async () => {
    const folder = join(dir, "lengths");
    writeIdxFolder(folder, 3, 3, false);
    write(join(folder, "t10k-labels-idx1-ubyte"), encodeIdx([0, 1], [2], "u8"));
    await expectDataError(() => loadDataset(digits, [{ source: folder }]), "length", "t10k-images-idx3-ubyte holds 3 examples", "t10k-labels-idx1-ubyte holds 2");
    const range = join(dir, "range");
    writeIdxFolder(range, 3, 3, false);
    write(join(range, "train-labels-idx1-ubyte"), encodeIdx([0, 1, 7], [3], "u8"));
    await expectDataError(() => loadDataset(digits, [{ source: range }]), "value", "train-labels-idx1-ubyte", "example 2 holds 7, outside 0..2");
    const missing = join(dir, "missing");
    write(join(missing, "train-images-idx3-ubyte"), encodeIdx([1], [1, 1], "u8"));
    await expectDataError(() => loadDataset(digits, [{ source: missing }]), "missing", "train-labels-idx1-ubyte[.gz]", "'label' needs");
  });

  it("report a file that is gzip in name only, and a path that does not exist", async () => {
    const file = write(join(dir, "broken", "x.idx.gz"), new Uint8Array([0x1f, 0x8b, 1, 2, 3]));
    await expectDataError(() => loadDataset(spec("d", f32("x", [])), [{ source: file }]), "format", file, "cannot be decompressed");
    await expectDataError(() => loadDataset(digits, [{ source: join(dir, "nowhere") }]), "io", "nowhere", "no such file");
  });
});

const fashion = "/usr/share/datasets/fashion-mnist";
describe.skipIf(!existsSync(fashion))("Fashion-MNIST from Debian's dataset-fashion-mnist (skipped when not installed)", () => {
  it("loads 60,000 train and 10,000 test images of 28x28 into f32[1, 28, 28] with labels 0..9", async () => {
    const d = await loadDataset(spec("fashion", f32("image", [1, 28, 28]), label("label", 10)), [{ source: fashion }]);
    expect(d.train.length).toBe(60000);
    expect(d.test.length).toBe(10000);
    const labels = d.test.columns.get("label")!.data;
    const perClass = new Array(10).fill(0);
    for (const l of labels) perClass[l]++;
    expect(perClass).toEqual(new Array(10).fill(1000));
    const image = d.train.columns.get("image")!.data;
    expect(image.length).toBe(60000 * 784);
    let hi = 0;
    for (let i = 0; i < 784 * 100; i++) hi = Math.max(hi, image[i]!);
    expect(hi).toBe(1);
  }, 30000);
});
