/**
 * Where the cursor is, read from the tokens before it (the tree of a file
 * being typed is often broken there): the declaration it is in, the
 * brackets that enclose it, the statement it is in and the word it is
 * typing.
 */
import type { IToken } from "chevrotain";
import * as T from "../../language/lexer.js";
import { Source } from "../../language/source.js";

/** An open bracket around the cursor, and the tokens before it. */
export interface Open {
  readonly token: IToken;
  /** Its index in the token list. */
  readonly index: number;
}

/** What completion and signature help need to know about a position. */
export interface CursorContext {
  /** Every code token of the text. */
  readonly tokens: readonly IToken[];
  /** The tokens before the cursor's word. */
  readonly before: readonly IToken[];
  /** The word being typed (possibly empty) and where it starts. */
  readonly word: string;
  readonly wordStart: number;
  /** The declaration keyword the cursor is inside (`model`, `pipeline`, ...) and its index, or null at the top level. */
  readonly item: { readonly keyword: string; readonly index: number } | null;
  /** Open brackets around the cursor, outermost first. */
  readonly open: readonly Open[];
  /** The tokens of the statement the cursor is in, inside the innermost bracket, before the word. */
  readonly statement: readonly IToken[];
  /** True when the cursor is inside a string literal (e.g. an import path). */
  readonly inString: IToken | null;
}

const itemKeywords = new Set(["import", "block", "model", "data", "pipeline"]);
const opens = new Set([T.LParen, T.LBracket, T.LCurly]);
const closers = new Map([
  [T.RParen, T.LParen],
  [T.RBracket, T.LBracket],
  [T.RCurly, T.LCurly],
]);

/** True when two tokens are on different lines. */
function lineBreakBetween(text: string, a: IToken, b: IToken): boolean {
  return text.slice(a.startOffset + a.image.length, b.startOffset).includes("\n");
}

/** Reads the context of an offset of a text. */
export function cursorContext(text: string, offset: number): CursorContext {
  const tokens = T.tokenize(new Source("", text)).tokens;
  let wordStart = offset;
  while (wordStart > 0 && /[A-Za-z0-9_]/.test(text[wordStart - 1]!)) wordStart--;
  const word = text.slice(wordStart, offset);
  const before = tokens.filter((t) => t.startOffset < wordStart);
  const inString = tokens.find((t) => (t.tokenType === T.StringTok || t.tokenType === T.UnterminatedString) && t.startOffset < offset && offset <= t.startOffset + t.image.length - (t.tokenType === T.StringTok ? 1 : 0)) ?? null;

  let item: CursorContext["item"] = null;
  const open: Open[] = [];
  before.forEach((t, index) => {
    if (open.length === 0 && itemKeywords.has(t.image) && t.tokenType !== T.Ident) item = { keyword: t.image, index };
    if (opens.has(t.tokenType)) open.push({ token: t, index });
    const match = closers.get(t.tokenType);
    if (match) {
      const at = open.map((o) => o.token.tokenType).lastIndexOf(match);
      if (at >= 0) open.length = at;
      if (open.length === 0 && t.tokenType === T.RCurly) item = null;
    }
  });
  // The statement: tokens after the innermost bracket (or the declaration keyword), from the last line break or comma.
  const from = open.length > 0 ? open[open.length - 1]!.index + 1 : 0;
  let start = from;
  // Commas separate arguments, list items and settings; in a declaration's body they are part of a statement (`views a, b`).
  const commasSplit = open.length > 1;
  for (let i = before.length - 1; i >= from; i--) {
    const t = before[i]!;
    if (t.tokenType === T.Comma && commasSplit) {
      start = i + 1;
      break;
    }
    const next = before[i + 1];
    if (next && lineBreakBetween(text, t, next) && !continues(t, next)) {
      start = i + 1;
      break;
    }
  }
  const lastBefore = before[before.length - 1];
  const atNewLine = lastBefore !== undefined && text.slice(lastBefore.startOffset + lastBefore.image.length, wordStart).includes("\n") && !continues(lastBefore, null);
  const statement = atNewLine ? [] : before.slice(start);
  return { tokens, before, word, wordStart, item, open, statement, inString };
}

/** True when a line ending with `a` goes on (`->`, `=`, an operator) on the next line (starting with `b`). */
function continues(a: IToken, b: IToken | null): boolean {
  if (a.tokenType === T.Arrow || a.tokenType === T.Equals || a.tokenType === T.Plus || a.tokenType === T.Minus || a.tokenType === T.Star || a.tokenType === T.Slash || a.tokenType === T.Colon) return true;
  return b !== null && (b.tokenType === T.Arrow || b.tokenType === T.Dot);
}
