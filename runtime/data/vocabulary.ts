/**
 * A text corpus's vocabulary as a file, and text to ids and back
 * (spec/checkpoints.md, "The vocabulary of a text run"). `repr train` saves
 * the vocabulary of the data it trained on as `vocabulary.json` beside its
 * checkpoints; `repr sample` and apps read it to write a prompt as ids and
 * print the ids a model draws as text. The tokenizing rules are the
 * corpus's (spec/data.md, "Text corpora").
 */
import { DataError } from "./errors.js";
import type { Vocabulary } from "./split.js";
import { OTHER_CHAR, OTHER_WORD, wordsOf } from "./tokens.js";

/** The version of the vocabulary file's format. */
export const VOCABULARY_FORMAT = 1;

/** `vocabulary.json`: which data it is the vocabulary of, and its tokens by id. */
export interface VocabularyFile extends Vocabulary {
  readonly format: typeof VOCABULARY_FORMAT;
  /** The data declaration it was counted from. */
  readonly data: string;
}

/** The vocabulary file's text (JSON, one token list). */
export function vocabularyToJson(vocabulary: Vocabulary, data: string): string {
  const file: VocabularyFile = { format: VOCABULARY_FORMAT, data, kind: vocabulary.kind, tokens: [...vocabulary.tokens] };
  return JSON.stringify(file) + "\n";
}

/** Reads a vocabulary file's text; a DataError naming `file` when it is not one. */
export function vocabularyFromJson(text: string, file: string): VocabularyFile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new DataError(file, "is not a vocabulary file: it is not JSON.", "format");
  }
  const o = v as Partial<VocabularyFile> | null;
  if (typeof o !== "object" || o === null || o.format !== VOCABULARY_FORMAT || (o.kind !== "chars" && o.kind !== "words") || !Array.isArray(o.tokens) || !o.tokens.every((t) => typeof t === "string")) {
    throw new DataError(file, `is not a vocabulary file of format ${VOCABULARY_FORMAT} (format, kind "chars" or "words", tokens).`, "format");
  }
  return { format: VOCABULARY_FORMAT, data: typeof o.data === "string" ? o.data : "", kind: o.kind, tokens: o.tokens };
}

/**
 * Text as ids, as the corpus was read: characters (or words) by their token;
 * one the vocabulary lacks is its "other" id, or with the fixed ASCII
 * vocabulary (which has none) a space. Throws a DataError naming the first
 * token it cannot place.
 */
export function textToIds(vocabulary: Vocabulary, text: string): Int32Array {
  const ids = new Map<string, number>();
  vocabulary.tokens.forEach((t, i) => t !== "" && !ids.has(t) && ids.set(t, i));
  const fallback = ids.get(vocabulary.kind === "chars" ? OTHER_CHAR : OTHER_WORD) ?? (vocabulary.kind === "chars" ? ids.get(" ") : undefined);
  const units = vocabulary.kind === "chars" ? Array.from(text) : wordsOf(text);
  return Int32Array.from(units, (u) => {
    const id = ids.get(u) ?? fallback;
    if (id === undefined) throw new DataError("the prompt", `has ${JSON.stringify(u)}, which the vocabulary has no id for.`, "value");
    return id;
  });
}

/** Ids as text: characters one after another, words with a space between; an id past the vocabulary is `�`. */
export function idsToText(vocabulary: Vocabulary, ids: ArrayLike<number>): string {
  const tokens = Array.from(ids, (id) => vocabulary.tokens[id] ?? OTHER_CHAR);
  return tokens.join(vocabulary.kind === "chars" ? "" : " ");
}
