import { describe, expect, it } from "vitest";
import { didYouMean, editDistance, suggest } from "../../compiler/check/suggest.js";

describe("suggestions", () => {
  it("edit distance counts insertions, deletions, substitutions and transpositions", () => {
    expect(editDistance("dense", "dense")).toBe(0);
    expect(editDistance("dens", "dense")).toBe(1);
    expect(editDistance("dnese", "dense")).toBe(1);
    expect(editDistance("conv", "conv2d")).toBe(2);
    expect(editDistance("", "abc")).toBe(3);
  });

  it("suggests close names, best first, within a third of the length", () => {
    expect(suggest("dens", ["dense", "dropout", "relu"])).toEqual(["dense"]);
    expect(suggest("relu", ["gelu", "selu", "dense"])).toEqual(["gelu", "selu"]);
    expect(suggest("x", ["y", "xx"])).toEqual(["xx", "y"]);
    expect(suggest("attention", ["dense"])).toEqual([]);
    expect(suggest("Dense", ["dense"])).toEqual(["dense"]);
    expect(suggest("integer", ["int", "float"])).toEqual(["int"]);
  });

  it("words the note", () => {
    expect(didYouMean("imgae", ["image", "label"])).toEqual(["did you mean 'image'?"]);
    expect(didYouMean("mask", ["masks", "maks"])).toEqual(["did you mean 'maks' or 'masks'?"]);
    expect(didYouMean("zzz", ["image"])).toEqual([]);
  });
});
