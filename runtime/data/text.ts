/**
 * UTF-8 text corpora, and the two tokenizers the fields choose between:
 * characters for one `tokens(length: L, vocab: V)` field (windows of L), and
 * words for two `token(vocab: V)` fields (skip-gram pairs). The corpus is cut
 * at 80% of its tokens before windows or pairs are made, so train and test
 * never share text. See spec/data.md, "Text corpora".
 */
import { DataError, quote } from "./errors.js";
import { OTHER_CHAR, OTHER_WORD, wordsOf } from "./tokens.js";
import { decodeUtf8 } from "./files.js";
import type { Part, SourceRequest } from "./part.js";
import { describeField, idLimit, specialIdOf, type FieldSpec } from "./spec.js";
import { trainCount, type Column, type Vocabulary } from "./split.js";

export { OTHER_CHAR, OTHER_WORD, wordsOf };

/** The vocabulary size of the fixed character vocabulary: 95 printable ASCII characters and the newline. */
export const ASCII_VOCAB = 96;
/** How far apart a word pair's two words may be. */
export const PAIR_WINDOW = 5;

/** How a vocabulary names a special token's id: `<pad>`, `<mask>`, `<cls>`. */
export function specialTokenName(name: string): string {
  return `<${name}>`;
}

/**
 * A field's vocabulary for the tokenizers: the ids real tokens may take (the
 * vocabulary less its special tokens, which take the last ids), and the
 * special tokens' names.
 */
export function realVocab(field: FieldSpec): { real: number; special: readonly string[] } {
  const special = field.special ?? [];
  return { real: idLimit(field) - special.length, special };
}

/** A tokenizer's vocabulary of `real` ids, with the special tokens' names after it. */
function withSpecials(t: Tokenized, special: readonly string[]): Tokenized {
  return special.length === 0 ? t : { ids: t.ids, vocabulary: { kind: t.vocabulary.kind, tokens: [...t.vocabulary.tokens, ...special.map(specialTokenName)] } };
}

/** A tokenizer's result: the ids of the text in order, and the vocabulary that names them. */
export interface Tokenized {
  readonly ids: Int32Array;
  readonly vocabulary: Vocabulary;
}

/**
 * The first `size − 1` tokens by frequency (ties by first appearance) get ids
 * 0, 1, …; every other token gets the "other" id `size − 1`. Ids between the
 * last token and `size − 1`, when there are fewer tokens, are unused (`""`).
 */
function frequencyIds(tokens: readonly string[], size: number, kind: Vocabulary["kind"]): Tokenized {
  const counts = new Map<string, number>(); // insertion order is first appearance
  for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  const ranked = [...counts].sort((a, b) => b[1] - a[1]).slice(0, size - 1);
  const idOf = new Map(ranked.map(([t], i) => [t, i]));
  const names = Array.from({ length: size }, (_, i) => ranked[i]?.[0] ?? "");
  names[size - 1] = kind === "chars" ? OTHER_CHAR : OTHER_WORD;
  const ids = Int32Array.from(tokens, (t) => idOf.get(t) ?? size - 1);
  return { ids, vocabulary: { kind, tokens: names } };
}

/**
 * Characters as ids. With `vocab` 96 the vocabulary is fixed: printable ASCII
 * 0x20–0x7E are ids 0–94, `\n` is 95, and any other character reads as a space
 * (id 0). With any other `vocab` V it is the corpus's own: its V − 1 most
 * frequent characters (Unicode code points) and one "other" id, V − 1.
 */
export function tokenizeChars(text: string, vocab: number): Tokenized {
  const chars = Array.from(text);
  if (vocab !== ASCII_VOCAB) return frequencyIds(chars, vocab, "chars");
  const ids = new Int32Array(chars.length);
  chars.forEach((c, i) => {
    const code = c.codePointAt(0)!;
    ids[i] = code >= 0x20 && code <= 0x7e ? code - 0x20 : c === "\n" ? 95 : 0;
  });
  const tokens = Array.from({ length: ASCII_VOCAB }, (_, i) => (i === 95 ? "\n" : String.fromCharCode(0x20 + i)));
  return { ids, vocabulary: { kind: "chars", tokens } };
}


/** Words as ids: the `vocab − 1` most frequent words by frequency (ties by first appearance), every other word `vocab − 1`. */
export function tokenizeWords(text: string, vocab: number): Tokenized {
  return frequencyIds(wordsOf(text), vocab, "words");
}

/**
 * Consecutive non-overlapping windows of `length` ids; a shorter rest is
 * dropped. With a `cls` id, each window is that id followed by `length − 1`
 * ids of the text.
 */
export function windows(ids: Int32Array, length: number, cls: number | null = null): Int32Array {
  if (cls === null) return ids.slice(0, Math.floor(ids.length / length) * length);
  const text = length - 1;
  const count = text === 0 ? 0 : Math.floor(ids.length / text);
  const out = new Int32Array(count * length);
  for (let w = 0; w < count; w++) {
    out[w * length] = cls;
    out.set(ids.subarray(w * text, (w + 1) * text), w * length + 1);
  }
  return out;
}

/**
 * Skip-gram pairs: for each word in order, and for each other word at most
 * `window` positions before or after it, left to right, the pair (center,
 * context). n words give Σᵢ min(i, w) + min(n − 1 − i, w) pairs.
 */
export function skipGramPairs(ids: Int32Array, window: number = PAIR_WINDOW): { center: Int32Array; context: Int32Array } {
  const n = ids.length;
  let count = 0;
  for (let i = 0; i < n; i++) count += Math.min(i, window) + Math.min(n - 1 - i, window);
  const center = new Int32Array(count);
  const context = new Int32Array(count);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = Math.max(0, i - window); j <= Math.min(n - 1, i + window); j++) {
      if (j === i) continue;
      center[k] = ids[i]!;
      context[k] = ids[j]!;
      k++;
    }
  }
  return { center, context };
}

/** Fills one `tokens` field with character windows, or two `token` fields with word pairs, from a corpus's bytes. */
export function readTextCorpus(request: SourceRequest, bytes: Uint8Array): Part {
  const file = request.shown;
  const text = decodeUtf8(bytes, file);
  const targets = request.targets;
  const chars = targets.length === 1 && targets[0]!.kind === "tokens";
  const words = targets.length === 2 && targets.every((f) => f.kind === "token");
  if (!chars && !words) {
    const asked = targets.map((f) => `${quote(f.name)}: ${describeField(f)}`).join(", ");
    throw new DataError(
      file,
      `is read as a UTF-8 text corpus, which fills one tokens(length, vocab) field (characters) or two token(vocab) fields (word pairs, center then context); it is asked for ${asked}.`,
      "binding",
    );
  }
  if (words && idLimit(targets[0]!) !== idLimit(targets[1]!)) {
    throw new DataError(file, `word pairs need one vocabulary, but ${quote(targets[0]!.name)} has vocab ${targets[0]!.vocab} and ${quote(targets[1]!.name)} has vocab ${targets[1]!.vocab}.`, "binding");
  }
  const { real, special } = realVocab(targets[0]!);
  if (words && (targets[1]!.special ?? []).join() !== special.join()) {
    throw new DataError(file, `word pairs need one vocabulary, but ${quote(targets[0]!.name)} and ${quote(targets[1]!.name)} reserve different special tokens.`, "binding");
  }
  const { ids, vocabulary } = withSpecials(chars ? tokenizeChars(text, real) : tokenizeWords(text, real), special);
  const cls = chars ? specialIdOf(targets[0]!, "cls") : null;
  const cut = trainCount(ids.length);
  const parts = [ids.subarray(0, cut), ids.subarray(cut)] as const;
  const columnsOf = (part: Int32Array): Map<string, Column> => {
    if (chars) {
      const field = targets[0]!;
      return new Map([[field.name, { dtype: "i32", shape: field.shape, data: windows(part, field.shape[0]!, cls) } as Column]]);
    }
    const { center, context } = skipGramPairs(part);
    return new Map<string, Column>([
      [targets[0]!.name, { dtype: "i32", shape: [], data: center }],
      [targets[1]!.name, { dtype: "i32", shape: [], data: context }],
    ]);
  };
  const unit = chars ? "characters" : "words";
  return {
    origin: file,
    provides: `a text corpus of ${ids.length} ${unit}`,
    columns: { kind: "split", train: columnsOf(parts[0]), test: columnsOf(parts[1]) },
    vocabulary,
  };
}
