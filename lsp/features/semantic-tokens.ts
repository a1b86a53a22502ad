/**
 * Semantic tokens: every token of a document classified by what it is, so
 * an editor can colour a part differently from a built-in layer, a value
 * or an argument name. Keywords, numbers, strings, comments and operators
 * come from the lexer; names from the symbol index.
 */
import { SemanticTokensBuilder, type SemanticTokens, type SemanticTokensLegend } from "vscode-languageserver";
import type { IToken } from "chevrotain";
import * as T from "../../language/lexer.js";
import type { Document } from "../documents.js";
import type { Workspace } from "../workspace.js";
import type { Reference, Target } from "../analysis/symbols.js";

const tokenTypes = ["namespace", "type", "class", "struct", "function", "parameter", "variable", "property", "enumMember", "keyword", "comment", "string", "number", "operator"] as const;
const tokenModifiers = ["declaration", "documentation", "defaultLibrary", "readonly"] as const;
type TokenType = (typeof tokenTypes)[number];
type Modifier = (typeof tokenModifiers)[number];

/** The legend the server announces. */
export const semanticTokensLegend: SemanticTokensLegend = { tokenTypes: [...tokenTypes], tokenModifiers: [...tokenModifiers] };

const keywordTypes = new Set(T.keywordTokens);

/** How a declared or referred-to name is classified. */
function classify(target: Target | null, role: Reference["role"] | "declaration"): [TokenType, Modifier[]] | null {
  if (role === "argument") return ["parameter", []];
  if (role === "key" || role === "member") return ["property", []];
  if (role === "enum") return ["enumMember", []];
  if (!target) return null;
  const mods: Modifier[] = role === "declaration" ? ["declaration"] : [];
  if (target.kind === "builtin") {
    const c = target.builtin.category;
    return [c === "dtype" || c === "datatype" ? "type" : "function", [...mods, "defaultLibrary"]];
  }
  switch (target.kind) {
    case "model":
      return ["class", mods];
    case "data":
      return ["struct", mods];
    case "pipeline":
      return ["namespace", mods];
    case "block":
    case "part":
      return ["function", mods];
    case "param":
      return ["parameter", mods];
    case "field":
    case "loss":
      return ["property", mods];
    default:
      return ["variable", [...mods, "readonly"]];
  }
}

/** The semantic tokens of a whole document. */
export function semanticTokens(ws: Workspace, doc: Document): SemanticTokens {
  const symbols = ws.symbolsOf(doc.path);
  const byStart = new Map<number, [TokenType, Modifier[]] | null>();
  for (const r of symbols?.references ?? []) byStart.set(r.span.start, classify(r.target, r.role));
  for (const d of symbols?.definitions ?? []) byStart.set(d.span.start, classify(d, "declaration"));
  const lexed = T.tokenize(doc.asSource);
  const all: IToken[] = [...lexed.tokens, ...lexed.comments].sort((a, b) => a.startOffset - b.startOffset);
  const builder = new SemanticTokensBuilder();
  const push = (start: number, length: number, type: TokenType, mods: readonly Modifier[]) => {
    // A token may not span lines: a block comment is pushed line by line.
    let from = start;
    const end = start + length;
    while (from < end) {
      const nl = doc.text.indexOf("\n", from);
      const stop = nl < 0 || nl >= end ? end : nl;
      if (stop > from) {
        const p = doc.lines.positionAt(from);
        builder.push(p.line, p.character, stop - from, tokenTypes.indexOf(type), mods.reduce((bits, m) => bits | (1 << tokenModifiers.indexOf(m)), 0));
      }
      from = stop + 1;
    }
  };
  for (const t of all) {
    const type = t.tokenType;
    const length = t.image.length;
    if (type === T.DocComment) push(t.startOffset, length, "comment", ["documentation"]);
    else if (type === T.LineComment || type === T.BlockComment || type === T.UnterminatedBlockComment) push(t.startOffset, length, "comment", []);
    else if (type === T.StringTok || type === T.UnterminatedString) push(t.startOffset, length, "string", []);
    else if (type === T.NumberTok || type === T.DotNumber) push(t.startOffset, length, "number", []);
    else if (type === T.Arrow || type === T.Plus || type === T.Minus || type === T.Star || type === T.Slash || type === T.Equals) push(t.startOffset, length, "operator", []);
    else if (type === T.Ident || keywordTypes.has(type)) {
      const c = byStart.get(t.startOffset);
      if (c) push(t.startOffset, length, c[0], c[1]);
      else if (keywordTypes.has(type)) push(t.startOffset, length, "keyword", []);
    }
  }
  return builder.build();
}
