import { EOF, MismatchedTokenException, tokenMatcher, type CstParser, type IToken, type TokenType } from "chevrotain";
import * as T from "./lexer.js";
import { errorMessageProvider } from "./parse-errors.js";

/** The parts of Chevrotain's recovery machinery that `bracketAwareRecovery` uses. */
interface ChevrotainInternals {
  findReSyncTokenType(): TokenType;
  exportLexerState(): number;
  importLexerState(state: number): void;
  getCurrRuleFullName(): string;
  SAVE_ERROR(error: Error): void;
  SKIP_TOKEN(): IToken;
  LA(k: number): IToken;
}

/**
 * Chevrotain's in-repetition recovery: when a body's loop (members, steps,
 * fields, statements) meets a token that cannot start another iteration,
 * skip tokens until the loop can go on or the token after it (`}`) appears.
 *
 * Unlike Chevrotain's own, this skips everything inside `{ }`, `( )` and
 * `[ ]` whole, so the `}` closing a stray step's settings is not taken for the
 * `}` closing the pipeline (one error instead of a cascade).
 */
export function bracketAwareRecovery(
  parser: CstParser,
  grammarRule: (...args: unknown[]) => unknown,
  grammarRuleArgs: unknown[],
  lookAheadFunc: () => boolean,
  expectedTokType: TokenType,
): void {
  const p = parser as unknown as ChevrotainInternals;
  const reSyncTokType = p.findReSyncTokenType();
  const saved = p.exportLexerState();
  const first = p.LA(1);
  const report = () => {
    const msg = errorMessageProvider.buildMismatchTokenMessage({
      expected: expectedTokType,
      actual: first,
      previous: p.LA(0),
      ruleName: p.getCurrRuleFullName(),
    });
    p.SAVE_ERROR(new MismatchedTokenException(msg, first, p.LA(0)));
  };
  let depth = 0;
  let current = first;
  for (;;) {
    if (depth === 0 && tokenMatcher(current, expectedTokType)) return report();
    if (depth === 0 && lookAheadFunc.call(parser)) {
      report();
      grammarRule.apply(parser, grammarRuleArgs);
      return;
    }
    if (tokenMatcher(current, EOF) || (depth === 0 && tokenMatcher(current, reSyncTokType))) break;
    const type = current.tokenType;
    if (type === T.LCurly || type === T.LParen || type === T.LBracket) depth++;
    else if ((type === T.RCurly || type === T.RParen || type === T.RBracket) && depth > 0) depth--;
    current = p.SKIP_TOKEN();
  }
  // No closer place to resume: let the error happen and be handled between rules.
  p.importLexerState(saved);
}
