import { describe, expect, it } from "vitest";
import { selectSplit } from "../../runtime/data/select.js";
import type { Split } from "../../runtime/data/split.js";
import { expectDataError } from "./helpers.js";

/** 12 examples: labels cycle 0, 1, 2, 3; feature row i is [i, 10 i]. */
const split: Split = {
  origin: "test-data",
  length: 12,
  columns: new Map([
    ["x", { dtype: "f32", shape: [2], data: Float32Array.from({ length: 24 }, (_, k) => (k % 2 === 0 ? k / 2 : 5 * k - 5)) }],
    ["label", { dtype: "i32", shape: [], data: Int32Array.from({ length: 12 }, (_, i) => i % 4) }],
  ]),
};
const xs = (s: Split): number[] => [...s.columns.get("x")!.data].filter((_, k) => k % 2 === 0);
const labels = (s: Split): number[] => [...s.columns.get("label")!.data];

describe("selections", () => {
  it("keep the listed labels and renumber labels[i] to i, in the split's order", () => {
    const s = selectSplit(split, "label", { labels: [3, 1] });
    expect(s.length).toBe(6);
    expect(xs(s)).toEqual([1, 3, 5, 7, 9, 11]);
    expect(labels(s)).toEqual([1, 0, 1, 0, 1, 0]);
    expect([...s.columns.get("x")!.data.subarray(0, 2)]).toEqual([1, 10]);
    expect(s.origin).toBe("test-data");
  });

  it("keep the first per_class examples of each class", () => {
    const s = selectSplit(split, "label", { perClass: 2 });
    expect(xs(s)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(labels(s)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
  });

  it("apply labels before per_class", () => {
    const s = selectSplit(split, "label", { labels: [2], perClass: 3 });
    expect(xs(s)).toEqual([2, 6, 10]);
    expect(labels(s)).toEqual([0, 0, 0]);
  });

  it("return the split itself when nothing is selected, and leave the original untouched", () => {
    expect(selectSplit(split, "label", {})).toBe(split);
    selectSplit(split, "label", { labels: [1] });
    expect(labels(split).slice(0, 4)).toEqual([0, 1, 2, 3]);
  });

  it("refuse a class with too few examples, naming it, its count and the request", async () => {
    const error = await expectDataError(() => selectSplit(split, "label", { perClass: 4 }), "selection", "test-data", "only 3 examples of class 0", "per_class asks for 4");
    expect(error.actual).toBe("3 examples");
    await expectDataError(() => selectSplit(split, "label", { labels: [3, 1], perClass: 4 }), "selection", "class 3 (label 0 after selection)");
    // With the class count known, a class with no examples at all is found too.
    await expectDataError(() => selectSplit(split, "label", { perClass: 1, classes: 5 }), "selection", "only 0 examples of class 4");
  });

  it("refuse an empty or repeated label list, a bad per_class, and a split without the label field", async () => {
    await expectDataError(() => selectSplit(split, "label", { labels: [] }), "selection", "empty list");
    await expectDataError(() => selectSplit(split, "label", { labels: [1, 1] }), "selection", "twice");
    await expectDataError(() => selectSplit(split, "label", { labels: [7], classes: 4 }), "selection", "label 7");
    await expectDataError(() => selectSplit(split, "label", { perClass: 0 }), "selection", "at least 1");
    await expectDataError(() => selectSplit(split, "y", { perClass: 1 }), "selection", "no label field 'y'");
    await expectDataError(() => selectSplit(split, "label", { labels: [9] }), "empty", "no examples");
  });
});
