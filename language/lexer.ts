import { createToken, Lexer, type IToken, type TokenType } from "chevrotain";
import type { Comment, Span } from "./ast.js";
import type { Source } from "./source.js";
import { diagnostic, type Diagnostic } from "./diagnostics/diagnostic.js";
import { messages } from "./diagnostics/messages.js";

/**
 * The tokens of repr and the lexer that produces them.
 *
 * Comments are not skipped: they go to the `comments` group so the formatter can
 * put them back. Lexing never fails: an unterminated string or block comment is
 * still a token (plus a diagnostic), and characters no token matches are dropped
 * with a diagnostic.
 */

// ------------------------------------------------------------ abstract tokens

/** Any token usable as a name: identifiers and every keyword but `true`/`false`. */
export const AnyName = createToken({ name: "AnyName", pattern: Lexer.NA });
/** A string literal, closed or not (the unclosed one was already reported). */
export const StringLiteral = createToken({ name: "StringLiteral", pattern: Lexer.NA });
/** A binary operator: `->`, `+`, `-`, `*` or `/`. */
export const BinaryOp = createToken({ name: "BinaryOp", pattern: Lexer.NA });

// ---------------------------------------------------------- trivia, comments

export const WhiteSpace = createToken({
  name: "WhiteSpace",
  pattern: /[ \t\r\n\f\v\uFEFF]+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});
export const DocComment = createToken({
  name: "DocComment",
  pattern: /\/\/\/(?!\/)[^\n\r]*/,
  group: "comments",
});
export const LineComment = createToken({
  name: "LineComment",
  pattern: /\/\/[^\n\r]*/,
  group: "comments",
});
export const BlockComment = createToken({
  name: "BlockComment",
  pattern: /\/\*[\s\S]*?\*\//,
  group: "comments",
  line_breaks: true,
});
export const UnterminatedBlockComment = createToken({
  name: "UnterminatedBlockComment",
  pattern: /\/\*[\s\S]*/,
  group: "comments",
  line_breaks: true,
});

// ------------------------------------------------------------------ literals

export const StringTok = createToken({
  name: "String",
  pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*"/,
  categories: [StringLiteral],
});
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*\\?/,
  categories: [StringLiteral],
});
/**
 * `'std'`: a string in single quotes. It is an error (RC116) but lexes as one
 * string, so the parser goes on as if it were written in double quotes.
 */
export const SingleQuotedString = createToken({
  name: "SingleQuotedString",
  pattern: /'(?:[^'\\\n\r]|\\[^\n\r])*'/,
  categories: [StringLiteral],
});
/**
 * A number. Right after a member access's `.` (a `.` that follows a name, a
 * digit or a closing bracket) it is only digits, a segment of a layer path:
 * `f.2.1` is `f`, `2`, `1`, not `f` and the float `2.1` (spec/paths.md).
 */
export const NumberTok = createToken({
  name: "Number",
  pattern: { exec: matchNumber },
  start_chars_hint: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  line_breaks: false,
});

const NUMBER = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const SEGMENT = /\d+/y;

function matchNumber(text: string, offset: number, tokens?: readonly IToken[]): RegExpExecArray | null {
  // A `.` token is only ever member access (a `.` that starts a number is a DotNumber).
  const pattern = tokens?.[tokens.length - 1]?.image === "." ? SEGMENT : NUMBER;
  pattern.lastIndex = offset;
  return pattern.exec(text);
}

/**
 * Whether the `.` at `offset` is member access: right after a name, a
 * number, a string or a closing bracket, or after one with only a comment
 * (and space) between, so that `f // note` on one line and `.0` on the next
 * is `f.0`. With only space between, `a .5` is the number `.5` (RC114).
 */
function isMemberDot(text: string, offset: number, tokens?: readonly IToken[]): boolean {
  const previous = tokens?.[tokens.length - 1];
  if (!previous) return offset > 0 && /[\w)\]}"]/.test(text[offset - 1]!);
  if (!/[\w)\]}"]$/.test(previous.image)) return false;
  const gap = text.slice(previous.startOffset + previous.image.length, offset);
  return gap === "" || gap.includes("//") || gap.includes("/*");
}
/**
 * `.5`: a number written without its leading digit. It is an error (RC114)
 * but lexes as one number, so the parser goes on as if `0.5` were written.
 * Right after a name, a digit or a closing bracket the `.` is member access
 * (`f.5` is the path segment `5` of `f`, not a number).
 */
export const DotNumber = createToken({
  name: "DotNumber",
  pattern: { exec: matchDotNumber },
  start_chars_hint: ["."],
  line_breaks: false,
  categories: [NumberTok],
});

const DOT_NUMBER = /\.\d+(?:[eE][+-]?\d+)?/y;

function matchDotNumber(text: string, offset: number, tokens?: readonly IToken[]): RegExpExecArray | null {
  if (isMemberDot(text, offset, tokens)) return null;
  DOT_NUMBER.lastIndex = offset;
  return DOT_NUMBER.exec(text);
}

export const Ident = createToken({
  name: "Ident",
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  categories: [AnyName],
});

/**
 * Stands for the contents of a bracket nested too deeply (see `nesting.ts`).
 * The lexer never produces it; the parser reads it as an expression.
 */
export const Elided = createToken({ name: "Elided", pattern: Lexer.NA });

// --------------------------------------------------------------- punctuation

export const Arrow = createToken({ name: "Arrow", pattern: "->", categories: [BinaryOp] });
export const Plus = createToken({ name: "Plus", pattern: "+", categories: [BinaryOp] });
export const Minus = createToken({ name: "Minus", pattern: "-", categories: [BinaryOp] });
export const Star = createToken({ name: "Star", pattern: "*", categories: [BinaryOp] });
export const Slash = createToken({ name: "Slash", pattern: "/", categories: [BinaryOp] });
export const LCurly = createToken({ name: "LCurly", pattern: "{" });
export const RCurly = createToken({ name: "RCurly", pattern: "}" });
export const LParen = createToken({ name: "LParen", pattern: "(" });
export const RParen = createToken({ name: "RParen", pattern: ")" });
export const LBracket = createToken({ name: "LBracket", pattern: "[" });
export const RBracket = createToken({ name: "RBracket", pattern: "]" });
export const Comma = createToken({ name: "Comma", pattern: "," });
export const Colon = createToken({ name: "Colon", pattern: ":" });
export const Equals = createToken({ name: "Equals", pattern: "=" });
/** `..`: a range of layer path segments, `freeze f.0..2` (spec/paths.md). */
export const DotDot = createToken({ name: "DotDot", pattern: ".." });
export const Dot = createToken({ name: "Dot", pattern: "." });

// ------------------------------------------------------------------ keywords

function keyword(word: string, usableAsName = true): TokenType {
  return createToken({
    name: word[0]!.toUpperCase() + word.slice(1),
    pattern: word,
    longer_alt: Ident,
    categories: usableAsName ? [AnyName] : [],
  });
}

export const Import = keyword("import");
export const From = keyword("from");
export const Block = keyword("block");
export const Model = keyword("model");
export const Data = keyword("data");
export const Pipeline = keyword("pipeline");
export const Input = keyword("input");
export const Let = keyword("let");
export const Output = keyword("output");
export const Encoder = keyword("encoder");
export const Bottleneck = keyword("bottleneck");
export const Decoder = keyword("decoder");
export const Head = keyword("head");
export const Part = keyword("part");
export const Mask = keyword("mask");
export const Views = keyword("views");
export const Loss = keyword("loss");
export const On = keyword("on");
export const Pretrain = keyword("pretrain");
export const Freeze = keyword("freeze");
export const Unfreeze = keyword("unfreeze");
export const Replace = keyword("replace");
export const With = keyword("with");
export const Adapt = keyword("adapt");
export const Test = keyword("test");
export const True = keyword("true", false);
export const False = keyword("false", false);

/** Every keyword, in the contract's order. */
export const keywordTokens: readonly TokenType[] = [
  Import, From, Block, Model, Data, Pipeline, Input, Let, Output, Encoder, Bottleneck,
  Decoder, Head, Part, Mask, Views, Loss, On, Pretrain, Freeze, Unfreeze, Replace, With,
  Adapt, Test, True, False,
];

/** The spelling of every keyword, for printers and generators that must avoid them. */
export const keywords: ReadonlySet<string> = new Set(keywordTokens.map((t) => t.PATTERN as string));

/** All token types, in matching order (keywords before identifiers, `->` before `-`). */
export const allTokens: readonly TokenType[] = [
  WhiteSpace,
  DocComment,
  LineComment,
  BlockComment,
  UnterminatedBlockComment,
  StringTok,
  UnterminatedString,
  SingleQuotedString,
  NumberTok,
  DotDot,
  DotNumber,
  Arrow,
  ...keywordTokens,
  Ident,
  Plus,
  Minus,
  Star,
  Slash,
  LCurly,
  RCurly,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Equals,
  Dot,
  AnyName,
  StringLiteral,
  BinaryOp,
  Elided,
];

const lexer = new Lexer(allTokens as TokenType[], {
  positionTracking: "onlyOffset",
  ensureOptimizations: true,
});

/** What lexing a file produces: tokens for the parser, comments, and problems. */
export interface LexResult {
  readonly tokens: IToken[];
  /** Ordinary and doc comments, in source order (doc comments start with `///`). */
  readonly comments: IToken[];
  readonly diagnostics: Diagnostic[];
}

/** Splits a source into tokens. Never throws on any input. */
export function tokenize(source: Source): LexResult {
  const result = lexer.tokenize(source.text);
  // "onlyOffset" tracking records starts only; the parser's node spans need ends.
  for (const t of result.tokens) t.endOffset = t.startOffset + t.image.length - 1;
  const diagnostics: Diagnostic[] = [];
  for (const error of result.errors) {
    const ch = String.fromCodePoint(source.text.codePointAt(error.offset) ?? 0xfffd);
    diagnostics.push(
      diagnostic(
        messages.unexpectedCharacter,
        source,
        { start: error.offset, end: error.offset + error.length },
        { char: displayChar(ch) },
      ),
    );
  }
  const comments = (result.groups["comments"] ?? []) as IToken[];
  for (const c of comments) {
    if (c.tokenType === UnterminatedBlockComment) {
      diagnostics.push(diagnostic(messages.unterminatedComment, source, { start: c.startOffset, end: c.startOffset + 2 }));
    }
  }
  for (const t of result.tokens) {
    if (t.tokenType === UnterminatedString) {
      diagnostics.push(diagnostic(messages.unterminatedString, source, tokenSpan(t)));
    } else if (t.tokenType === StringTok) {
      checkEscapes(source, t, diagnostics);
    } else if (t.tokenType === SingleQuotedString) {
      const body = t.image.slice(1, -1).replace(/\\'/g, "'").replace(/(^|[^\\])"/g, '$1\\"');
      diagnostics.push(diagnostic(messages.singleQuotedString, source, tokenSpan(t), {}, { help: [`write "${body}"`] }));
    } else if (t.tokenType === DotNumber) {
      diagnostics.push(diagnostic(messages.leadingDotNumber, source, tokenSpan(t), { fixed: `0${t.image}` }));
    }
  }
  return { tokens: result.tokens, comments, diagnostics };
}

/** How a stray character is named in a message: quoted if printable, else by code point. */
function displayChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp === 0xfffd || (cp >= 0xd800 && cp <= 0xdfff)) {
    return hex;
  }
  return `'${ch}' (${hex})`;
}

/** The half-open span of a token. */
export function tokenSpan(t: IToken): Span {
  return { start: t.startOffset, end: t.startOffset + t.image.length };
}

const ESCAPE = /\\(u\{[0-9A-Fa-f]{1,6}\}|.)/g;

/** Reports escape sequences other than `\" \\ \n \t \u{...}`. */
function checkEscapes(source: Source, t: IToken, out: Diagnostic[]): void {
  for (const m of t.image.matchAll(ESCAPE)) {
    const body = m[1]!;
    if (body === '"' || body === "\\" || body === "n" || body === "t") continue;
    if (body.startsWith("u{") && Number.parseInt(body.slice(2, -1), 16) <= 0x10ffff) continue;
    const start = t.startOffset + m.index;
    out.push(diagnostic(messages.invalidEscape, source, { start, end: start + m[0].length }, { escape: m[0] }));
  }
}

/** The value of a string literal token (closed or not): quotes removed, escapes resolved. */
export function decodeString(image: string, closed: boolean): string {
  const body = image.slice(1, closed ? -1 : undefined);
  return body.replace(ESCAPE, (whole, e: string) => {
    switch (e) {
      case "n":
        return "\n";
      case "t":
        return "\t";
      case '"':
        return '"';
      case "\\":
        return "\\";
      default: {
        if (e.startsWith("u{")) {
          const cp = Number.parseInt(e.slice(2, -1), 16);
          if (cp <= 0x10ffff) return String.fromCodePoint(cp);
        }
        return whole;
      }
    }
  });
}

/** Turns comment tokens into AST comments (doc comments included, as line comments). */
export function toComment(t: IToken): Comment {
  const block = t.tokenType === BlockComment || t.tokenType === UnterminatedBlockComment;
  return { kind: "Comment", style: block ? "block" : "line", text: t.image, span: tokenSpan(t) };
}
