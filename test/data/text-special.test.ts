/**
 * Special tokens and text in tables (spec/data.md, "Special tokens" and "Text
 * in tables"): reserved ids that no corpus character or word takes, `cls` at
 * the start of every example, `pad` filling short texts, and a TSV or CSV
 * table whose text column and label column feed a text classifier.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDataset } from "../../runtime/data/load.js";
import type { FieldSpec } from "../../runtime/data/spec.js";
import { parseTsv } from "../../runtime/data/tsv.js";
import { expectDataError, label, spec, tempDir, write } from "./helpers.js";

const dir = tempDir();
const tokensWith = (name: string, length: number, vocab: number, special: string[]): FieldSpec => ({ name, kind: "tokens", shape: [length], vocab, special });
const tokenWith = (name: string, vocab: number, special: string[]): FieldSpec => ({ name, kind: "token", shape: [], vocab, special });

describe("special tokens in a text corpus", () => {
  it("take the last ids; the corpus's characters keep the fixed ASCII ids when 96 are left", async () => {
    const file = write(join(dir, "ascii.txt"), "ABCDEFGHIJKLMNOPQRST");
    const d = await loadDataset(spec("c", tokensWith("text", 4, 99, ["pad", "mask", "cls"])), [{ source: file }]);
    // cls (98) first, then three characters: the first 16 make windows "ABC", "DEF", ...; the last 20% is test.
    expect([...d.train.columns.get("text")!.data.subarray(0, 8)]).toEqual([98, 33, 34, 35, 98, 36, 37, 38]);
    expect(d.train.length).toBe(5);
    expect(d.vocabulary!.tokens.slice(96)).toEqual(["<pad>", "<mask>", "<cls>"]);
    expect(d.vocabulary!.tokens[33]).toBe("A");
  });

  it("never collide with a corpus character: 144 distinct characters, mask reserved", async () => {
    const many = Array.from({ length: 144 }, (_, i) => String.fromCodePoint(0x100 + i)).join("");
    const file = write(join(dir, "many.txt"), many.repeat(5));
    const d = await loadDataset(spec("c", tokensWith("text", 8, 128, ["mask"])), [{ source: file }]);
    const ids = [...d.train.columns.get("text")!.data, ...d.test.columns.get("text")!.data];
    expect(Math.max(...ids)).toBe(126); // 126 ids of characters (125 ranked and the "other" id); 127 is the mask
    expect(ids).not.toContain(127);
    expect(d.vocabulary!.tokens[127]).toBe("<mask>");
  });

  it("in word pairs, both fields reserve the same tokens", async () => {
    const file = write(join(dir, "words.txt"), "a b a c a b d e f g h");
    const d = await loadDataset(spec("w", tokenWith("center", 5, ["mask"]), tokenWith("context", 5, ["mask"])), [{ source: file }]);
    expect(Math.max(...d.train.columns.get("center")!.data)).toBeLessThan(4);
    expect(d.vocabulary!.tokens).toEqual(["a", "b", "c", "<other>", "<mask>"]);
    await expectDataError(
      () => loadDataset(spec("w", tokenWith("center", 5, ["mask"]), tokenWith("context", 5, [])), [{ source: file }]),
      "binding",
      "reserve different special tokens",
    );
  });
});

describe("text in tables", () => {
  it("parses TSV: tabs, no quoting, LF or CRLF, blank lines skipped", () => {
    const t = parseTsv("text\tlabel\r\nit's \"fine\", really\t1\n\nbad\t0\n", "t.tsv");
    expect(t.header).toEqual(["text", "label"]);
    expect(t.rows).toEqual([["it's \"fine\", really", "1"], ["bad", "0"]]);
    expect(t.lines).toEqual([2, 4]);
  });

  it("a TSV of texts and labels feeds a classifier: cls first, pad after short texts, long ones cut", async () => {
    const rows = ["good film", "bad", "a truly good film, long", "awful", "fine", "good"];
    const file = write(join(dir, "reviews.tsv"), `text\tlabel\n${rows.map((r, i) => `${r}\t${i % 2}`).join("\n")}\n`);
    const field = tokensWith("text", 6, 98, ["pad", "cls"]);
    const d = await loadDataset(spec("reviews", field, label("label", 2)), [{ source: file }]);
    expect(d.train.length).toBe(4);
    expect(d.test.length).toBe(2);
    const text = [...d.train.columns.get("text")!.data];
    const [pad, cls] = [96, 97];
    const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0) - 32);
    expect(text.slice(0, 6)).toEqual([cls, ...ascii("good ")]);
    expect(text.slice(6, 12)).toEqual([cls, ...ascii("bad"), pad, pad]);
    expect(text.slice(12, 18)).toEqual([cls, ...ascii("a tru")]);
    expect([...d.train.columns.get("label")!.data]).toEqual([0, 1, 0, 1]);
    expect(d.vocabulary!.tokens.slice(96)).toEqual(["<pad>", "<cls>"]);
  });

  it("a CSV text column, quoted, with the table's own vocabulary", async () => {
    const file = write(join(dir, "quoted.csv"), 'label,text\n1,"ab, ba"\n0,"b\nb"\n1,aaaa\n0,c\n1,ab\n');
    const d = await loadDataset(spec("q", tokensWith("text", 4, 5, ["pad"]), label("label", 2)), [{ source: file }]);
    // Over every row: a ×6, b ×5, then ',' and ' ' ... — 3 ids ranked, one 'other', one pad.
    expect(d.vocabulary!.tokens).toEqual(["a", "b", ",", "\uFFFD", "<pad>"]);
    expect([...d.train.columns.get("text")!.data.subarray(0, 8)]).toEqual([0, 1, 2, 3, 1, 3, 1, 4]);
  });

  it("a short text without a pad token is an error naming its line", async () => {
    const file = write(join(dir, "short.tsv"), "text\tlabel\nlong enough\t1\nshort\t0\n");
    await expectDataError(() => loadDataset(spec("s", tokensWith("text", 8, 96, []), label("label", 2)), [{ source: file }]), "value", "short.tsv", "line 3", "reserve a pad token");
  });
});
