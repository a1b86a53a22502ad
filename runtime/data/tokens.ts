/**
 * What the text tokenizers and a vocabulary file share, with no Node module
 * behind it (runtime/index.ts runs in browsers): the "other" tokens and what
 * a word is (spec/data.md, "Text corpora").
 */

/** The token of the "other" id: in a character vocabulary, and in a word vocabulary. */
export const OTHER_CHAR = "\uFFFD";
export const OTHER_WORD = "<other>";

/** The words of a text: maximal runs of letters, digits and apostrophes, lowercased. */
export function wordsOf(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
}
