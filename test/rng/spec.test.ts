import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { normalAt } from "../../runtime/rng/normal.js";
import { philox4x32 } from "../../runtime/rng/philox.js";
import { streamOf } from "../../runtime/rng/streams.js";
import { bitsAt, uniformAt } from "../../runtime/rng/uniform.js";

/** spec/random.md drives these tests: its tables of values must be what runtime/rng/ computes. */
const text = readFileSync(join(import.meta.dirname, "..", "..", "spec", "random.md"), "utf8");

/** The rows of the first table after `heading`, as arrays of cells with backticks removed. */
function table(heading: string): string[][] {
  const start = text.indexOf(heading);
  expect(start, `spec/random.md has a "${heading}" section`).toBeGreaterThanOrEqual(0);
  const lines = text.slice(start).split("\n");
  const first = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.slice(1, -1).split("|").map((cell) => cell.trim().replace(/`/g, "")));
  }
  return rows;
}

const words = (cell: string): number[] => cell.split(/\s+/).map((w) => parseInt(w, 16));

describe("spec/random.md", () => {
  it("lists Philox known answers that hold", () => {
    const rows = table("### Philox-4x32-10");
    expect(rows.length).toBe(3);
    for (const [counter, key, output] of rows) {
      expect(philox4x32(words(counter!) as [number, number, number, number], words(key!) as [number, number])).toEqual(
        words(output!),
      );
    }
  });

  it("lists reference draws that the runtime reproduces", () => {
    const rows = table("### Reference values");
    expect(rows.length).toBeGreaterThanOrEqual(10);
    for (const [seed, stream, step, index, word, uniform, normal] of rows) {
      const args = [Number(seed), Number(stream), Number(index), Number(step)] as const;
      expect(bitsAt(...args)).toBe(Number(word));
      expect(uniformAt(...args)).toBe(Number(uniform));
      expect(Math.abs(normalAt(...args) - Number(normal))).toBeLessThan(1e-14);
    }
  });

  it("names the streams of its examples correctly", () => {
    expect(text).toContain("Stream `0xa8e2255a` is\n`init/f.0.weight`");
    expect(streamOf("init", "f.0.weight")).toBe(0xa8e2255a);
    expect(text).toContain("`0x091afdba` is `dropout/f.3`");
    expect(streamOf("dropout", "f.3")).toBe(0x091afdba);
  });
});
