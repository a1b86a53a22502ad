import { createTokenInstance, type IToken, type TokenType } from "chevrotain";
import type { Expr, Span } from "./ast.js";
import type { Source } from "./source.js";
import { diagnostic, type Diagnostic } from "./diagnostics/diagnostic.js";
import { messages } from "./diagnostics/messages.js";
import * as T from "./lexer.js";

/**
 * Limits on how deeply an expression may nest, so that no input makes the
 * parser, the printer or the checker run out of stack: they all recurse over
 * nested expressions, and the parser's recursion is by far the costliest
 * (a few kilobytes of stack per bracket before the code is warm).
 *
 * *Architecture Invariant:* parsing a file with deeper nesting reports RC113
 * and never recurses deeper than these limits.
 */

/**
 * The most brackets `( [ {` one expression may nest. Measured with Node 20's
 * default stack: before the JIT warms up, the parser overflows at about 256
 * nested calls (some 4 KB of stack each), so 64 leaves three quarters of the
 * stack to the caller.
 */
export const MAX_BRACKET_DEPTH = 64;

/**
 * The most levels an expression tree may have: each operator, unary minus,
 * pipe, call, member access, index, list and map is one level. This bounds
 * left-deep chains (`a + a + ... + a`), which the parser reads in a loop but
 * the printer and the checker walk recursively.
 */
export const MAX_EXPRESSION_LEVELS = 256;

const opens = new Map<TokenType, TokenType>([
  [T.LParen, T.RParen],
  [T.LBracket, T.RBracket],
  [T.LCurly, T.RCurly],
]);
const closes = new Set<TokenType>([T.RParen, T.RBracket, T.RCurly]);

/** The tokens the parser reads, and a diagnostic for each bracket nested too deeply. */
export interface NestingResult {
  readonly tokens: IToken[];
  readonly diagnostics: Diagnostic[];
}

/**
 * Checks bracket nesting on the token stream, before parsing. The outermost
 * bracket (a body, a parameter list) does not count. A bracket that opens one
 * level too many is reported (RC113), and what it encloses is replaced by one
 * `Elided` token (nothing, inside `{ }`), which the parser reads as an
 * expression and the tree holds as an `ErrorExpr`. Without such a bracket the
 * token array is returned as is.
 */
export function limitBracketNesting(source: Source, tokens: IToken[]): NestingResult {
  const diagnostics: Diagnostic[] = [];
  let out: IToken[] | null = null;
  const stack: TokenType[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const type = t.tokenType;
    const close = opens.get(type);
    if (close) {
      if (stack.length > MAX_BRACKET_DEPTH) {
        diagnostics.push(
          diagnostic(messages.nestingTooDeep, source, T.tokenSpan(t), { limit: MAX_BRACKET_DEPTH, what: "brackets" }),
        );
        out ??= tokens.slice(0, i);
        const end = matchingClose(tokens, i);
        out.push(t);
        if (end > i + 1 && type !== T.LCurly) out.push(elided(source, tokens[i + 1]!, tokens[end - 1]!));
        stack.push(close);
        i = end - 1; // the closing bracket, if any, is handled next
        continue;
      }
      stack.push(close);
    } else if (closes.has(type)) {
      // Pop to the matching opener; a stray closer leaves the stack alone.
      const at = stack.lastIndexOf(type);
      if (at >= 0) stack.length = at;
    }
    out?.push(t);
  }
  return { tokens: out ?? tokens, diagnostics };
}

/** The index of the bracket closing the one at `open` (any kind), or the token count. */
function matchingClose(tokens: readonly IToken[], open: number): number {
  let depth = 0;
  for (let j = open; j < tokens.length; j++) {
    const type = tokens[j]!.tokenType;
    if (opens.has(type)) depth++;
    else if (closes.has(type) && --depth === 0) return j;
  }
  return tokens.length;
}

/** One token covering `first` to `last`, which the parser reads as an expression. */
function elided(source: Source, first: IToken, last: IToken): IToken {
  const start = first.startOffset;
  const end = last.startOffset + last.image.length;
  return createTokenInstance(T.Elided, source.text.slice(start, end), start, end - 1, NaN, NaN, NaN, NaN);
}

/**
 * The level of each expression of a tree built bottom-up (leaves are level 0),
 * enforcing `MAX_EXPRESSION_LEVELS`: the builder records each new node with
 * `nested`, which turns a node one level too deep into an `ErrorExpr`.
 */
export class ExpressionLevels {
  /** Levels above 0; a node that replaced a too-deep one is at Infinity. */
  private readonly levels = new WeakMap<Expr, number>();

  constructor(
    private readonly source: Source,
    private readonly diagnostics: Diagnostic[],
  ) {}

  of(e: Expr): number {
    return this.levels.get(e) ?? 0;
  }

  /** The deepest level among some expressions (0 for none). */
  deepest(es: readonly Expr[]): number {
    let max = 0;
    for (const e of es) max = Math.max(max, this.of(e));
    return max;
  }

  /** Records `e` at `level` (for a copy of a node, or an error standing for one). */
  keep(e: Expr, level: number): Expr {
    if (level > 0) this.levels.set(e, level);
    return e;
  }

  /**
   * Records a new expression one level above its deepest child. The level
   * past the limit is reported at `at` (the operator or bracket that adds
   * it) and the expression becomes an `ErrorExpr`, as do its ancestors, which
   * are not reported again.
   */
  nested(e: Expr, deepestChild: number, at: Span): Expr {
    const level = deepestChild + 1;
    if (level <= MAX_EXPRESSION_LEVELS) return this.keep(e, level);
    if (Number.isFinite(deepestChild)) {
      this.diagnostics.push(
        diagnostic(
          messages.nestingTooDeep,
          this.source,
          at,
          { limit: MAX_EXPRESSION_LEVELS, what: "operators and calls" },
          { notes: ["each operator, unary '-', '->', call, member access, index, list and map adds a level"] },
        ),
      );
    }
    return this.keep({ kind: "ErrorExpr", span: e.span }, Infinity);
  }
}
