import type { CstNode, IToken } from "chevrotain";
import type { Comment, FileNode } from "./ast.js";
import type { Source } from "./source.js";
import type { Diagnostic } from "./diagnostics/diagnostic.js";
import { DocComment, toComment, tokenize } from "./lexer.js";
import { ReprGrammar } from "./grammar.js";
import { toDiagnostic } from "./parse-errors.js";
import { AstBuilder } from "./cst-to-ast.js";
import { DocTable } from "./doc-comments.js";
import { limitBracketNesting } from "./nesting.js";
import { labelUnclosed, unclosedBrackets } from "./brackets.js";
import { messages } from "./diagnostics/messages.js";

/** What parsing produces: always a tree, plus every problem found. */
export interface ParseResult {
  readonly ast: FileNode;
  readonly diagnostics: Diagnostic[];
}

/** One grammar instance for the whole process (building one analyses the grammar). */
let grammar: ReprGrammar | null = null;

/**
 * Parses a `.repr` file. Parsing never fails: the result always has a tree
 * (with `ErrorExpr` where the parser recovered) and lists every lexical and
 * syntax error, in source order.
 */
export function parse(source: Source): ParseResult {
  const lexed = tokenize(source);
  // Checked before parsing: the parser recurses once per bracket.
  const nesting = limitBracketNesting(source, lexed.tokens);
  const g = (grammar ??= new ReprGrammar());
  let cst: CstNode | undefined;
  let parseErrors: Diagnostic[];
  try {
    g.input = nesting.tokens;
    cst = g.file();
    parseErrors = g.errors.map((e) => toDiagnostic(source, e, nesting.tokens));
    g.input = [];
  } catch (error) {
    // A broken invariant: do not reuse a parser left in an unknown state.
    grammar = null;
    throw error;
  }

  const docs = new DocTable(source.text, lexed.comments);
  const builder = new AstBuilder(docs, source);
  const ast = builder.file(cst, source.text.length, []);
  const comments = ordinaryComments(source.text, lexed.tokens, lexed.comments, docs.leftovers());
  const diagnostics = labelUnclosed(
    source,
    dedupe([...lexed.diagnostics, ...nesting.diagnostics, ...withoutEchoes(parseErrors, lexed.diagnostics, nesting.tokens), ...builder.diagnostics]),
    unclosedBrackets(lexed.tokens),
  );
  return { ast: { ...ast, comments }, diagnostics };
}

/**
 * Non-doc comments plus doc comments that documented nothing, in source order,
 * each marked `trailing` when code precedes it on its line.
 */
function ordinaryComments(
  text: string,
  code: readonly IToken[],
  all: readonly IToken[],
  strayDocs: readonly IToken[],
): Comment[] {
  const stray = new Set(strayDocs);
  const out: Comment[] = [];
  let i = 0;
  let lastCodeEnd = -1;
  for (const t of all) {
    if (t.tokenType === DocComment && !stray.has(t)) continue;
    while (i < code.length && code[i]!.startOffset < t.startOffset) {
      lastCodeEnd = code[i]!.startOffset + code[i]!.image.length;
      i++;
    }
    const trailing = lastCodeEnd >= 0 && !/[\n\r]/.test(text.slice(lastCodeEnd, t.startOffset));
    out.push({ ...toComment(t), trailing });
  }
  return out;
}

/**
 * Drops syntax errors that only echo a stray character: the lexer dropped it,
 * so the parser may stumble on the very next token. That token's error adds
 * nothing to "unexpected character".
 */
function withoutEchoes(parseErrors: Diagnostic[], lexErrors: readonly Diagnostic[], tokens: readonly IToken[]): Diagnostic[] {
  const strays = lexErrors.filter((d) => d.code === messages.unexpectedCharacter.code);
  if (strays.length === 0) return parseErrors;
  const shadows: Array<[number, number]> = strays.map((d) => {
    const next = tokens.find((t) => t.startOffset >= d.span.end);
    return [d.span.start, next ? next.startOffset + next.image.length : Infinity];
  });
  return parseErrors.filter((e) => !shadows.some(([from, to]) => e.span.start >= from && e.span.start <= to));
}

/** Sorts by position and drops a second error at the same place as an earlier one. */
function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const sorted = [...ds].sort((a, b) => a.span.start - b.span.start);
  const out: Diagnostic[] = [];
  for (const d of sorted) {
    const prev = out[out.length - 1];
    if (prev && prev.span.start === d.span.start && prev.code.startsWith("RC1") && d.code.startsWith("RC1")) continue;
    out.push(d);
  }
  return out;
}
