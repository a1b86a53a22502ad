import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDataset } from "../../runtime/data/load.js";
import { fitsMnist, MNIST_ORIGIN } from "../../runtime/data/mnist.js";
import { columnLength } from "../../runtime/data/split.js";
import { expectDataError, f32, label, spec } from "./helpers.js";

/** The package's own count of each digit, read independently of the loader. */
const root = dirname(createRequire(import.meta.url).resolve("mnist/package.json"));
const packageDigits = Array.from({ length: 10 }, (_, d) => JSON.parse(readFileSync(join(root, "src", "digits", `${d}.json`), "utf8")).data as number[]);
const counts = packageDigits.map((p) => p.length / 784);
const digits = spec("digits", f32("image", [1, 28, 28]), label("label", 10));

describe("the default MNIST source", () => {
  it("fills an image and a label with no binding, split 80/20 per digit", async () => {
    const d = await loadDataset(digits, []);
    const total = counts.reduce((a, b) => a + b, 0);
    expect(total).toBe(10000);
    expect(d.train.length + d.test.length).toBe(total);
    expect(d.train.length).toBe(counts.reduce((a, n) => a + Math.floor((4 * n) / 5), 0));
    expect(d.train.length).toBeGreaterThan(7900);
    expect(d.test.length).toBeGreaterThan(1900);
    expect(d.origin).toBe(MNIST_ORIGIN);
    for (const split of [d.train, d.test]) {
      const labels = split.columns.get("label")!.data;
      const perDigit = new Array(10).fill(0);
      for (const l of labels) perDigit[l]++;
      expect(perDigit.every((n) => n > 0)).toBe(true);
      expect(Math.min(...labels)).toBe(0);
      expect(Math.max(...labels)).toBe(9);
      const image = split.columns.get("image")!;
      expect(image.dtype).toBe("f32");
      expect(image.shape).toEqual([1, 28, 28]);
      expect(columnLength(image)).toBe(split.length);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of image.data) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect(lo).toBe(0);
      expect(hi).toBeCloseTo(1, 6);
    }
  });

  it("takes each digit's first 80% in package order for train and the rest for test", async () => {
    const d = await loadDataset(digits, []);
    const trainLabels = d.train.columns.get("label")!.data;
    const testLabels = d.test.columns.get("label")!.data;
    for (const digit of [0, 7]) {
      const cut = Math.floor((4 * counts[digit]!) / 5);
      const firstTrain = trainLabels.indexOf(digit);
      const firstTest = testLabels.indexOf(digit);
      const train = d.train.columns.get("image")!.data;
      const test = d.test.columns.get("image")!.data;
      const pixels = packageDigits[digit]!;
      // The first train image of the digit is the package's first, the first test image its `cut`-th.
      for (let p = 0; p < 784; p += 37) {
        expect(train[firstTrain * 784 + p]).toBeCloseTo(pixels[p]!, 6);
        expect(test[firstTest * 784 + p]).toBeCloseTo(pixels[cut * 784 + p]!, 6);
      }
      expect(trainLabels.filter((l) => l === digit).length).toBe(cut);
      expect(testLabels.filter((l) => l === digit).length).toBe(counts[digit]! - cut);
    }
  });

  it("is cached: a second load shares the first one's memory and gives the same numbers", async () => {
    const a = await loadDataset(digits, []);
    const b = await loadDataset(spec("pictures", f32("pixels", [1, 28, 28])), []);
    const x = b.train.columns.get("pixels")!.data;
    const y = a.train.columns.get("image")!.data;
    // The package is read once per process: both loads view the same buffer (not a clock, which a slow machine would fail).
    expect(x.buffer).toBe(y.buffer);
    expect(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength))).toBe(true);
    expect([...b.train.columns.keys()]).toEqual(["pixels"]);
  });

  it("fits only an f32[1, 28, 28] field and at most one label(classes: 10) field", () => {
    expect(fitsMnist(digits)).toBe(true);
    expect(fitsMnist(spec("d", f32("image", [1, 28, 28])))).toBe(true);
    expect(fitsMnist(spec("d", f32("image", [28, 28]), label("label", 10)))).toBe(false);
    expect(fitsMnist(spec("d", f32("image", [1, 28, 28]), label("label", 5)))).toBe(false);
    expect(fitsMnist(spec("d", f32("image", [1, 28, 28]), label("a", 10), label("b", 10)))).toBe(false);
    expect(fitsMnist(spec("d", f32("a", [1, 28, 28]), f32("b", [1, 28, 28])))).toBe(false);
  });

  it("refuses any other declaration without a source, naming its fields", async () => {
    await expectDataError(
      () => loadDataset(spec("colour", f32("image", [3, 28, 28]), label("label", 10)), []),
      "binding",
      "data 'colour' has no source; give one with --data colour=PATH",
      "image: f32[3, 28, 28]",
    );
  });

  it("can be bound by name, and names a field it cannot fill", async () => {
    const d = await loadDataset(digits, [{ source: "mnist" }]);
    expect(d.test.length).toBe(10000 - d.train.length);
    await expectDataError(() => loadDataset(spec("d", f32("image", [784])), [{ source: "mnist" }]), "shape", "mnist package", "'image'", "f32[784]");
  });
});
