import { describe, expect, it } from "vitest";
import { PNG } from "pngjs";
import fc from "fast-check";
import { Canvas, encodePng, type Rgb } from "../../cli/report/png.js";
import { decode, key } from "./picture.js";

const red: Rgb = [255, 0, 0];
const white = key([255, 255, 255]);
const byRowThenColumn = (a: number[], b: number[]): number => a[1]! - b[1]! || a[0]! - b[0]!;

describe("encodePng", () => {
  it("round-trips arbitrary RGBA pixels through pngjs", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer(), (w, h, seed) => {
        const rgba = new Uint8Array(w * h * 4).map((_, i) => (seed * 31 + i * 97) & 255);
        const back = PNG.sync.read(encodePng(w, h, rgba));
        expect([back.width, back.height]).toEqual([w, h]);
        expect([...back.data]).toEqual([...rgba]);
      }),
      { numRuns: 30 },
    );
  });

  it("rejects pixel data of the wrong length and empty sizes", () => {
    expect(() => encodePng(2, 2, new Uint8Array(15))).toThrow(RangeError);
    expect(() => encodePng(0, 2, new Uint8Array(0))).toThrow(RangeError);
    expect(() => new Canvas(3, 1.5)).toThrow(RangeError);
  });
});

describe("Canvas", () => {
  it("starts filled with its background and can be refilled", () => {
    const c = new Canvas(3, 2, [10, 20, 30]);
    expect(decode(c.toPng()).where([10, 20, 30])).toHaveLength(6);
    c.fill(red);
    expect(decode(c.toPng()).where(red)).toHaveLength(6);
  });

  it("ignores pixels outside the canvas", () => {
    const c = new Canvas(4, 4);
    c.setPixel(-1, 0, red);
    c.setPixel(4, 2, red);
    c.setPixel(1, 7, red);
    c.setPixel(2, 3, red);
    expect(decode(c.toPng()).where(red)).toEqual([[2, 3]]);
  });

  it("draws straight lines that include both ends", () => {
    const c = new Canvas(20, 20);
    c.line(2, 3, 12, 3, red);
    c.line(5, 18, 5, 10, red);
    const pixels = decode(c.toPng()).where(red);
    const expected = [
      ...Array.from({ length: 11 }, (_, i) => [2 + i, 3]),
      ...Array.from({ length: 9 }, (_, i) => [5, 10 + i]),
    ];
    expect(pixels.sort(byRowThenColumn)).toEqual(expected.sort(byRowThenColumn));
  });

  it("draws a shallow line with exactly one pixel per column, stepping down at most one row", () => {
    const c = new Canvas(12, 6);
    c.line(9, 4, 0, 0, red); // drawn right to left, to cover negative steps too
    const pixels = decode(c.toPng()).where(red).sort(([ax], [bx]) => ax - bx);
    expect(pixels.map(([x]) => x)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(pixels[0]).toEqual([0, 0]);
    expect(pixels[9]).toEqual([9, 4]);
    for (let i = 1; i < pixels.length; i++) expect(pixels[i]![1] - pixels[i - 1]![1]).toBeOneOf([0, 1]);
  });

  it("clips lines to the canvas, however far or non-finite their ends", () => {
    const c = new Canvas(10, 10);
    c.line(-1e300, 5, 1e300, 5, red);
    c.line(3, Number.NaN, 3, 9, red);
    c.line(Number.POSITIVE_INFINITY, 0, 0, 0, red);
    const pixels = decode(c.toPng()).where(red);
    expect(pixels).toEqual(Array.from({ length: 10 }, (_, x) => [x, 5]));
  });

  it("fills rectangles and outlines them, clipped to the canvas", () => {
    const c = new Canvas(10, 10);
    c.rect(1, 1, 3, 2, red);
    c.rect(5, 5, 4, 3, [0, 0, 255], false);
    c.rect(8, 8, 5, 5, [0, 255, 0]);
    const p = decode(c.toPng());
    expect(p.where(red)).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [1, 2],
      [2, 2],
      [3, 2],
    ]);
    expect(p.where([0, 0, 255])).toHaveLength(2 * 4 + 2 * 1);
    expect(p.at(6, 6)).toBe(white);
    expect(p.where([0, 255, 0])).toHaveLength(4);
  });

  it("draws text at a scale and returns its width", () => {
    const c = new Canvas(40, 20);
    const w = c.text(2, 2, "1e-3", [0, 0, 0], 2);
    expect(w).toBe((4 * 6 - 1) * 2);
    const box = decode(c.toPng()).bounds((col) => col === "0,0,0");
    expect(box).not.toBeNull();
    expect(box!.x0).toBeGreaterThanOrEqual(2);
    expect(box!.x1).toBeLessThan(2 + w);
    expect(box!.y1 - box!.y0 + 1).toBe(14);
  });
});
