/**
 * Brackets that are never closed, for syntax errors to point at: an error
 * after an unclosed `{` or `(` gets a second span, "this '{' is never
 * closed", so the author sees where the block began, not only where the
 * parser gave up.
 */
import type { IToken, TokenType } from "chevrotain";
import type { Diagnostic } from "./diagnostics/diagnostic.js";
import * as T from "./lexer.js";
import type { Source } from "./source.js";

const closerOf = new Map<TokenType, TokenType>([
  [T.LCurly, T.RCurly],
  [T.LParen, T.RParen],
  [T.LBracket, T.RBracket],
]);
const closers = new Set<TokenType>(closerOf.values());

/**
 * The opening brackets no closing bracket matches, in source order. A closer
 * that skips open brackets (the `}` of a model after an unclosed `(`) closes
 * the bracket it matches and leaves those it skipped unclosed; a closer
 * nothing matches is left alone (the parser reports it).
 */
export function unclosedBrackets(tokens: readonly IToken[]): IToken[] {
  const open: IToken[] = [];
  const unclosed: IToken[] = [];
  for (const t of tokens) {
    if (closerOf.has(t.tokenType)) {
      open.push(t);
      continue;
    }
    if (!closers.has(t.tokenType)) continue;
    let i = open.length - 1;
    while (i >= 0 && closerOf.get(open[i]!.tokenType) !== t.tokenType) i--;
    if (i < 0) continue;
    unclosed.push(...open.splice(i).slice(1));
  }
  unclosed.push(...open);
  return unclosed.sort((a, b) => a.startOffset - b.startOffset);
}

/** The message of the related span `labelUnclosed` adds (for tools that relabel: the language server). */
export const NEVER_CLOSED = /^this '[({[]' is never closed$/;

/** True for syntax errors (RC104-RC112), the ones an unclosed bracket explains. */
function isSyntaxError(d: Diagnostic): boolean {
  return /^RC1(0[4-9]|1[0-2])$/.test(d.code);
}

/**
 * Adds "this '(' is never closed" to the first syntax error after each
 * unclosed bracket (the innermost first). Diagnostics must be in source order.
 */
export function labelUnclosed(source: Source, diagnostics: readonly Diagnostic[], unclosed: readonly IToken[]): Diagnostic[] {
  const labels = new Map<Diagnostic, IToken[]>();
  const errors = diagnostics.filter(isSyntaxError);
  for (const bracket of unclosed) {
    // The first syntax error after the bracket, by binary search (a file of random bytes has thousands of both).
    let lo = 0;
    let hi = errors.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (errors[mid]!.span.start > bracket.startOffset) hi = mid;
      else lo = mid + 1;
    }
    const d = errors[lo];
    if (!d) continue;
    labels.set(d, [bracket, ...(labels.get(d) ?? [])]);
  }
  return diagnostics.map((d) => {
    const brackets = labels.get(d);
    if (!brackets) return d;
    const related = brackets.map((b) => ({ source, span: { start: b.startOffset, end: b.startOffset + 1 }, message: `this '${b.image}' is never closed` }));
    return { ...d, related: [...d.related, ...related] };
  });
}
