import { describe, expect, it } from "vitest";
import { Source } from "../../language/source.js";
import { checkProgram } from "../../compiler/check/check.js";
import { MAX_SUGGESTED_NAME, SUGGESTION_BUDGET, Suggester, editDistance } from "../../compiler/check/suggest.js";
import { memoryHost } from "./harness.js";

const suggest = (name: string, candidates: string[]) => new Suggester().suggest(name, candidates);

describe("suggestions", () => {
  it("edit distance counts insertions, deletions, substitutions and transpositions", () => {
    expect(editDistance("dense", "dense")).toBe(0);
    expect(editDistance("dens", "dense")).toBe(1);
    expect(editDistance("dnese", "dense")).toBe(1);
    expect(editDistance("conv", "conv2d")).toBe(2);
    expect(editDistance("", "abc")).toBe(3);
  });

  it("edit distance with a limit stops early and says 'more than the limit'", () => {
    expect(editDistance("kitten", "sitting", 3)).toBe(3);
    expect(editDistance("kitten", "sitting", 2)).toBe(3);
    expect(editDistance("abcdefgh", "zyxwvuts", 1)).toBe(2);
    let cells = 0;
    editDistance("a".repeat(60), "b".repeat(60), 2, (n) => (cells += n));
    // A band of at most 5 cells per row, and the rows stop once every cell is past the limit: not 60 x 60.
    expect(cells).toBeLessThanOrEqual(3 * 5);
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
    const s = new Suggester();
    expect(s.didYouMean("imgae", ["image", "label"])).toEqual(["did you mean 'image'?"]);
    expect(s.didYouMean("mask", ["masks", "maks"])).toEqual(["did you mean 'maks' or 'masks'?"]);
    expect(s.didYouMean("zzz", ["image"])).toEqual([]);
  });

  it("offers nothing for a name longer than the cap, without comparing it", () => {
    const s = new Suggester();
    const long = "a".repeat(MAX_SUGGESTED_NAME + 1);
    expect(s.suggest(long, [long.slice(1), "dense"])).toEqual([]);
    expect(s.comparisons).toBe(0);
    expect(s.work).toBe(0);
  });

  it("stops suggesting once its budget is spent", () => {
    const s = new Suggester(10);
    expect(s.suggest("dens", ["dense"])).toEqual(["dense"]);
    const spent = s.work;
    expect(spent).toBeGreaterThan(0);
    for (let i = 0; i < 20; i++) s.suggest("dens", ["dense", "dent", "deny"]);
    expect(s.exhausted).toBe(true);
    expect(s.suggest("dens", ["dense"])).toEqual([]);
  });
});

describe("the cost of suggestions in a whole program", () => {
  const check = (src: string, suggester: Suggester) => checkProgram(new Source("main.repr", src), memoryHost(), { suggester });

  it("a name is compared only with names of about its length, or that share its start", () => {
    const lets = Array.from({ length: 2000 }, (_, i) => `  let value_number_${i} = x -> relu`).join("\n");
    const suggester = new Suggester();
    const { diagnostics } = check(`model M {\n  input x: f32[4]\n${lets}\n  let y = dnse\n  output x\n}\n`, suggester);
    expect(diagnostics.map((d) => d.code)).toEqual(["RC201"]);
    expect(diagnostics[0]!.notes).toEqual(["did you mean 'dense'?"]);
    // `dnse` has 4 letters: only the built-ins of 3 to 5 letters (and those starting 'dns') are compared, none of the 2,000 lets.
    expect(suggester.comparisons).toBeGreaterThan(0);
    expect(suggester.comparisons).toBeLessThan(100);
  });

  it("10,000 lets of unknown names cost a bounded amount of work", { timeout: 30_000 }, () => {
    const lets = Array.from({ length: 10_000 }, (_, i) => `  let v${i} = unknown${i}`).join("\n");
    const suggester = new Suggester();
    const { diagnostics } = check(`model M {\n  input x: f32[4]\n${lets}\n  output x\n}\n`, suggester);
    expect(diagnostics.filter((d) => d.code === "RC201")).toHaveLength(10_000);
    expect(suggester.work).toBeLessThanOrEqual(SUGGESTION_BUDGET + 2 * MAX_SUGGESTED_NAME * MAX_SUGGESTED_NAME);
    // Without buckets and a budget this was 10,000 names x 10,000 lets: a hundred million comparisons.
    expect(suggester.comparisons).toBeLessThan(1_000_000);
  });

  it("names of one length that all look alike exhaust the budget instead of taking quadratic time", { timeout: 30_000 }, () => {
    const lets = Array.from({ length: 10_000 }, (_, i) => `  let a${String(i).padStart(5, "0")} = b${String(i).padStart(5, "0")}`).join("\n");
    const suggester = new Suggester();
    const { diagnostics } = check(`model M {\n  input x: f32[4]\n${lets}\n  output x\n}\n`, suggester);
    expect(diagnostics.filter((d) => d.code === "RC201")).toHaveLength(10_000);
    expect(suggester.exhausted).toBe(true);
    expect(suggester.work).toBeLessThanOrEqual(SUGGESTION_BUDGET + 2 * MAX_SUGGESTED_NAME * MAX_SUGGESTED_NAME);
  });

  it("a 1 MB unknown identifier is not compared with anything", { timeout: 30_000 }, () => {
    const name = "a".repeat(1 << 20);
    const suggester = new Suggester();
    const { diagnostics } = check(`model M {\n  input x: f32[4]\n  output ${name}\n}\n`, suggester);
    expect(diagnostics.map((d) => d.code)).toEqual(["RC201"]);
    expect(diagnostics[0]!.notes).toEqual([]);
    expect(suggester.comparisons).toBe(0);
    expect(diagnostics[0]!.message.length).toBeLessThan(200);
  });
});
