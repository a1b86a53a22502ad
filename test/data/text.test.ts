import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDataset } from "../../runtime/data/load.js";
import { OTHER_CHAR, OTHER_WORD, skipGramPairs, tokenizeChars, tokenizeWords, wordsOf } from "../../runtime/data/text.js";
import { expectDataError, f32, spec, tempDir, token, tokens, write } from "./helpers.js";

const dir = tempDir();

describe("the character tokenizer", () => {
  it("maps printable ASCII to 0–94 and newline to 95 with vocab 96, anything else to a space", () => {
    const { ids, vocabulary } = tokenizeChars("A a~\n\té", 96);
    expect([...ids]).toEqual([33, 0, 65, 94, 95, 0, 0]);
    expect(vocabulary.kind).toBe("chars");
    expect(vocabulary.tokens).toHaveLength(96);
    expect(vocabulary.tokens[33]).toBe("A");
    expect(vocabulary.tokens[95]).toBe("\n");
  });

  it("with another vocab, ranks the corpus's characters by frequency (ties by first appearance) and keeps one 'other' id", () => {
    const { ids, vocabulary } = tokenizeChars("abcbcc😀", 3);
    // c ×3, b ×2, then a, 😀 (once each): c → 0, b → 1, the rest → 2.
    expect(vocabulary.tokens).toEqual(["c", "b", OTHER_CHAR]);
    expect([...ids]).toEqual([2, 1, 0, 1, 0, 0, 2]);
    const wide = tokenizeChars("ab", 5);
    expect(wide.vocabulary.tokens).toEqual(["a", "b", "", "", OTHER_CHAR]);
  });
});

describe("the word tokenizer", () => {
  it("lowercases runs of letters, digits and apostrophes", () => {
    expect(wordsOf("Don't STOP: 42 naïve-words!")).toEqual(["don't", "stop", "42", "naïve", "words"]);
  });

  it("gives the vocab − 1 most frequent words ids by frequency, ties by first appearance, the rest the last id", () => {
    const { ids, vocabulary } = tokenizeWords("the cat and the dog and the bird", 4);
    // the ×3, and ×2, cat ×1 (first), dog, bird → other.
    expect(vocabulary.tokens).toEqual(["the", "and", "cat", OTHER_WORD]);
    expect([...ids]).toEqual([0, 2, 1, 0, 3, 1, 0, 3]);
  });

  it("pairs each word with each word at most 5 positions away", () => {
    const ids = Int32Array.from({ length: 8 }, (_, i) => i);
    const { center, context } = skipGramPairs(ids);
    let expected = 0;
    for (let i = 0; i < 8; i++) expected += Math.min(i, 5) + Math.min(7 - i, 5);
    expect(center.length).toBe(expected);
    expect(expected).toBe(50);
    expect([...context.subarray(0, 5)]).toEqual([1, 2, 3, 4, 5]);
    expect([...center.subarray(0, 5)]).toEqual([0, 0, 0, 0, 0]);
    const pairs = new Set([...center].map((c, k) => `${c},${context[k]}`));
    expect(pairs.has("7,2")).toBe(true);
    expect(pairs.has("7,1")).toBe(false);
    expect(pairs.has("3,3")).toBe(false);
    expect(skipGramPairs(Int32Array.from([4]), 5).center.length).toBe(0);
  });
});

describe("text corpora", () => {
  it("fill a tokens field with windows, the text cut at 80% of its characters first", async () => {
    const text = "abcdefghij".repeat(5); // 50 characters: 40 train, 10 test
    const file = write(join(dir, "corpus.txt"), text);
    const d = await loadDataset(spec("chars", tokens("text", 4, 96)), [{ source: file }]);
    expect(d.train.length).toBe(10);
    expect(d.test.length).toBe(2); // 10 characters make two windows of 4; the last 2 are dropped
    expect([...d.train.columns.get("text")!.data.subarray(0, 4)]).toEqual([65, 66, 67, 68]);
    expect([...d.test.columns.get("text")!.data]).toEqual([65, 66, 67, 68, 69, 70, 71, 72]);
    expect(d.vocabulary?.kind).toBe("chars");
  });

  it("fill two token fields with word pairs, center then context, and save the vocabulary", async () => {
    const words = Array.from({ length: 20 }, (_, i) => `w${i % 4}`).join(" ");
    const file = write(join(dir, "words.md"), words);
    const d = await loadDataset(spec("pairs", token("center", 3), token("context", 3)), [{ source: file }]);
    const pairs = (n: number): number => Array.from({ length: n }, (_, i) => Math.min(i, 5) + Math.min(n - 1 - i, 5)).reduce((a, b) => a + b, 0);
    expect(d.train.length).toBe(pairs(16));
    expect(d.test.length).toBe(pairs(4));
    expect(d.vocabulary).toEqual({ kind: "words", tokens: ["w0", "w1", OTHER_WORD] });
    expect([...d.train.columns.get("center")!.data.subarray(0, 5)]).toEqual([0, 0, 0, 0, 0]);
    expect([...d.train.columns.get("context")!.data.subarray(0, 5)]).toEqual([1, 2, 2, 0, 1]);
  });

  it("refuse invalid UTF-8, other field combinations, and a corpus too short for a test window", async () => {
    const bad = write(join(dir, "bad.txt"), new Uint8Array([0x61, 0x62, 0xff, 0x63]));
    await expectDataError(() => loadDataset(spec("c", tokens("text", 2, 96)), [{ source: bad }]), "format", "bad.txt", "not valid UTF-8", "offset 2");
    const ok = write(join(dir, "ok.txt"), "hello world");
    await expectDataError(() => loadDataset(spec("c", token("a", 5), f32("b", [])), [{ source: ok }]), "binding", "ok.txt", "text corpus");
    await expectDataError(() => loadDataset(spec("c", token("a", 5), token("b", 6)), [{ source: ok }]), "binding", "one vocabulary");
    await expectDataError(() => loadDataset(spec("c", tokens("text", 8, 96)), [{ source: ok }]), "empty", "ok.txt", "empty test split");
  });
});
