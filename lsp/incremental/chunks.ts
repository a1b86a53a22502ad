/**
 * Cutting a document into chunks that parse on their own: each chunk starts
 * at a line that begins with `import`, `block`, `model`, `data` or
 * `pipeline`, together with the comments and blank lines above it.
 *
 * A chunk that parses without a single diagnostic is a run of whole
 * declarations, so the document's parse is the chunks' parses side by side
 * (see `parse.ts` for why, and for chunks that do not parse cleanly). A cut
 * never falls inside a comment, and never between a doc comment that
 * follows code on its line and the doc comments under it.
 */
import type { IToken } from "chevrotain";
import * as T from "../../language/lexer.js";
import { Source } from "../../language/source.js";

/** One chunk: `[start, end)` of the document text. */
export interface Chunk {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

const itemKeywords = new Set([T.Import, T.Block, T.Model, T.Data, T.Pipeline]);

/** The offset of the line after the one holding `offset`, or the text's end. */
function nextLine(text: string, offset: number): number {
  const nl = text.indexOf("\n", offset);
  return nl < 0 ? text.length : nl + 1;
}

/** Cuts a source into chunks; their texts joined give back the source's text. */
export function chunksOf(source: Source): Chunk[] {
  const text = source.text;
  const { tokens, comments } = T.tokenize(source);
  const cuts: number[] = [0];
  let c = 0;
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!itemKeywords.has(t.tokenType) || (t.startOffset > 0 && text[t.startOffset - 1] !== "\n")) continue;
    const prev = tokens[i - 1]!;
    const prevEnd = prev.startOffset + prev.image.length;
    let cut = nextLine(text, prevEnd);
    let joined = false;
    while (c < comments.length && comments[c]!.startOffset < t.startOffset) {
      const comment: IToken = comments[c]!;
      const end = comment.startOffset + comment.image.length;
      // A doc comment on the previous declaration's last line may begin the run that documents this one.
      if (comment.tokenType === T.DocComment && comment.startOffset >= prevEnd && comment.startOffset < cut) joined = true;
      if (comment.startOffset < cut && end > cut) cut = nextLine(text, end);
      c++;
    }
    if (joined) continue;
    const lineStart = t.startOffset;
    cuts.push(Math.min(cut, lineStart));
  }
  const chunks: Chunk[] = [];
  for (let k = 0; k < cuts.length; k++) {
    const start = cuts[k]!;
    const end = k + 1 < cuts.length ? cuts[k + 1]! : text.length;
    if (end > start || chunks.length === 0) chunks.push({ start, end, text: text.slice(start, end) });
  }
  return chunks;
}

/**
 * The chunks of a new version of a text, from the chunks of the old one:
 * chunks before and after the edited range stay (those after move), and
 * only the edited chunks, with one unchanged chunk on each side, are cut
 * again. Every cut that stays is where it was, between the same tokens and
 * comments. Null when the edited range opens a block comment that runs on
 * past it (then the whole text must be cut again).
 */
export function rechunk(before: string, old: readonly Chunk[], source: Source): Chunk[] | null {
  const after = source.text;
  const max = Math.min(before.length, after.length);
  let prefix = 0;
  while (prefix < max && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix < max - prefix && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
  const delta = after.length - before.length;
  const editEnd = before.length - suffix;
  // The first and last old chunks the edit touches (a chunk ending where the edit starts is touched: text appended to it).
  let first = old.findIndex((c) => c.end >= prefix);
  if (first < 0) first = old.length - 1;
  let last = first;
  while (last + 1 < old.length && old[last + 1]!.start < editEnd) last++;
  const from = Math.max(0, first - 1);
  const to = Math.min(old.length - 1, last + 1);
  const start = old[from]!.start;
  const end = to === old.length - 1 ? after.length : old[to]!.end + delta;
  if (end < start) return null;
  const region = new Source(source.name, after.slice(start, end));
  const { comments } = T.tokenize(region);
  if (comments.some((c) => c.tokenType === T.UnterminatedBlockComment)) return null;
  const middle = chunksOf(region).map((c) => ({ start: c.start + start, end: c.end + start, text: c.text }));
  const moved = old.slice(to + 1).map((c) => ({ start: c.start + delta, end: c.end + delta, text: c.text }));
  return [...old.slice(0, from), ...middle, ...(to === old.length - 1 ? [] : moved)];
}
