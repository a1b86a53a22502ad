import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gatherBatch } from "../../runtime/data/batch.js";
import type { Split } from "../../runtime/data/split.js";

const split: Split = {
  origin: "test",
  length: 5,
  columns: new Map([
    ["image", { dtype: "f32", shape: [2, 2], data: Float32Array.from({ length: 20 }, (_, k) => k) }],
    ["label", { dtype: "i32", shape: [], data: Int32Array.from([10, 11, 12, 13, 14]) }],
  ]),
};

describe("gatherBatch", () => {
  it("copies the rows of every column in index order, allocating missing arrays once", () => {
    const out = new Map<string, Float32Array | Int32Array>();
    gatherBatch(split, [4, 0, 4], out);
    expect([...out.get("image")!]).toEqual([16, 17, 18, 19, 0, 1, 2, 3, 16, 17, 18, 19]);
    expect(out.get("label")).toBeInstanceOf(Int32Array);
    expect([...out.get("label")!]).toEqual([14, 10, 14]);
    const image = out.get("image");
    gatherBatch(split, Int32Array.from([1, 2, 3]), out);
    expect(out.get("image")).toBe(image);
    expect([...out.get("label")!]).toEqual([11, 12, 13]);
  });

  it("agrees with indexing row by row for any indices", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 4 }), { minLength: 1, maxLength: 10 }), (indices) => {
        const out = new Map<string, Float32Array | Int32Array>();
        gatherBatch(split, indices, out);
        indices.forEach((i, k) => {
          for (let e = 0; e < 4; e++) expect(out.get("image")![k * 4 + e]).toBe(i * 4 + e);
          expect(out.get("label")![k]).toBe(10 + i);
        });
      }),
    );
  });

  it("refuses out-of-range indices and arrays of the wrong type or size", () => {
    expect(() => gatherBatch(split, [5], new Map())).toThrow(RangeError);
    expect(() => gatherBatch(split, [-1], new Map())).toThrow(RangeError);
    expect(() => gatherBatch(split, [0, 1], new Map([["image", new Float32Array(3)]]))).toThrow(/image/);
    expect(() => gatherBatch(split, [0], new Map([["label", new Float32Array(1)]]))).toThrow(/Int32Array/);
  });
});
