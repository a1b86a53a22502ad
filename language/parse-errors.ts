import {
  EOF,
  tokenMatcher,
  type IParserErrorMessageProvider,
  type IRecognitionException,
  type IToken,
  type TokenType,
} from "chevrotain";
import * as T from "./lexer.js";
import type { Span } from "./ast.js";
import type { Source } from "./source.js";
import { diagnostic, type Diagnostic } from "./diagnostics/diagnostic.js";
import { messages, type MessageName } from "./diagnostics/messages.js";

/**
 * Turns Chevrotain's parse errors into repr diagnostics with human messages:
 * `expected '=' after the part name, found 'dense'`.
 *
 * Chevrotain asks a message provider for a string while it parses; the provider
 * here returns an encoded pair (message name, expected text), and
 * `toDiagnostic` fills in what was found once the error's token is known.
 */

const SEP = "\u0001";

/** How a token type is named where it was expected. */
const expectedNames: Record<string, string> = {
  AnyName: "a name",
  Ident: "a name",
  Number: "a number",
  String: "a string",
  StringLiteral: "a string",
  UnterminatedString: "a string",
  EOF: "end of file",
  Arrow: "'->'",
  Plus: "'+'",
  Minus: "'-'",
  BinaryOp: "an operator",
  Star: "'*'",
  Slash: "'/'",
  LCurly: "'{'",
  RCurly: "'}'",
  LParen: "'('",
  RParen: "')'",
  LBracket: "'['",
  RBracket: "']'",
  Comma: "','",
  Colon: "':'",
  Equals: "'='",
  Dot: "'.'",
};

/** Expected-token phrases that depend on the rule: `rule:Token` → text. */
const contextual: Record<string, string> = {
  "importDecl:AnyName": "a name to import",
  "importDecl:RCurly": "',' or '}'",
  "importDecl:From": "'from' after the imported names",
  "importDecl:StringLiteral": "a file path string",
  "blockDecl:AnyName": "a block name",
  "blockDecl:LParen": "'(' after the block name",
  "blockDecl:RParen": "',' or ')' after the parameters",
  "blockDecl:LCurly": "'{' to start the block body",
  "param:AnyName": "a parameter name",
  "param:Colon": "':' and a type after the parameter name",
  "modelDecl:AnyName": "a model name",
  "modelDecl:LCurly": "'{' after the model name",
  "inputDecl:AnyName": "an input name",
  "partDecl:AnyName": "a part name",
  "partDecl:Equals": "'=' after the part name",
  "maskDecl:AnyName": "a mask name",
  "maskDecl:Equals": "'=' after the mask name",
  "viewsDecl:AnyName": "a view name",
  "viewsDecl:Comma": "',' and a second view name",
  "viewsDecl:Equals": "'=' after the view names",
  "letDecl:AnyName": "a name for the value",
  "letDecl:Equals": "'=' after the name",
  "lossDecl:AnyName": "a loss name",
  "lossDecl:Equals": "'=' after the loss name",
  "dataDecl:AnyName": "a data set name",
  "dataDecl:LCurly": "'{' after the data set name",
  "field:Colon": "':' and a type after the field name",
  "pipelineDecl:AnyName": "a pipeline name",
  "pipelineDecl:LCurly": "'{' after the pipeline name",
  "pretrainStep:AnyName": "the name of the model to pretrain",
  "pretrainStep:On": "'on' and the training data after the model name",
  "layerTarget:AnyName": "a part name",
  "layerTarget:Number": "a layer number after '..'",
  "replaceStep:AnyName": "the name of the part to replace",
  "replaceStep:With": "'with' after the part name",
  "adaptStep:On": "'on' after 'adapt'",
  "testStep:On": "'on' after 'test'",
  "suffix:RParen": "',' or ')'",
  "suffix:RBracket": "',' or ']'",
  "suffix:AnyName": "a member name after '.'",
  "arg:Colon": "':'",
  "operand:RParen": "')'",
  "list:RBracket": "',' or ']'",
  "entry:AnyName": "a key",
  "entry:Colon": "':' after the key",
  "map:RCurly": "a 'key: value' entry or '}'",
};

/** Rules whose closing token stands for "another item of the list, or the end". */
const listEnds: Record<string, MessageName> = {
  "file:EOF": "expectedDeclaration",
  "modelDecl:RCurly": "expectedMember",
  "pipelineDecl:RCurly": "expectedStep",
  "dataDecl:RCurly": "expectedField",
  "blockDecl:RCurly": "expectedBlockStatement",
};

/** Rules whose "no alternative matched" has its own message. */
const noAltMessages: Record<string, MessageName> = {
  item: "expectedDeclaration",
  member: "expectedMember",
  step: "expectedStep",
  blockStmt: "expectedBlockStatement",
  operand: "expectedExpression",
};

function encode(name: MessageName, expected: string): string {
  return `${name}${SEP}${expected}`;
}

function expectedName(t: TokenType): string {
  const known = expectedNames[t.name];
  if (known) return known;
  return typeof t.PATTERN === "string" ? `'${t.PATTERN}'` : t.name;
}

/** Supplies Chevrotain with encoded messages (see `toDiagnostic`). */
export const errorMessageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, ruleName }) {
    const key = `${ruleName}:${expected.name}`;
    const list = listEnds[key];
    if (list) return encode(list, "");
    const text = contextual[key] ?? expectedName(expected);
    return encode(expected.name === "AnyName" ? "expectedName" : "unexpectedToken", text);
  },
  buildNotAllInputParsedMessage() {
    return encode("expectedDeclaration", "");
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, customUserDescription, ruleName }) {
    const special = noAltMessages[ruleName];
    if (special) return encode(special, "");
    // After '.', a member name or a layer path's number is missing.
    if (ruleName === "suffix") return encode("expectedName", contextual["suffix:AnyName"]!);
    if (ruleName === "layerTarget") return encode("expectedName", "a layer name or number after '.'");
    if (customUserDescription) return encode("unexpectedToken", customUserDescription);
    const firsts = new Set<string>();
    for (const alt of expectedPathsPerAlt) for (const path of alt) if (path[0]) firsts.add(expectedName(path[0]));
    return encode("unexpectedToken", orList([...firsts]));
  },
  buildEarlyExitMessage({ expectedIterationPaths, customUserDescription }) {
    if (customUserDescription) return encode("unexpectedToken", customUserDescription);
    const firsts = new Set<string>();
    for (const path of expectedIterationPaths) if (path[0]) firsts.add(expectedName(path[0]));
    return encode("unexpectedToken", orList([...firsts]));
  },
};

function orList(items: string[]): string {
  if (items.length <= 1) return items[0] ?? "something else";
  return `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/** How a found token is named: `'dense'`, `'{'`, `a string`, `end of file`. */
export function foundName(t: IToken): string {
  if (t.tokenType === EOF || !Number.isFinite(t.startOffset)) return "end of file";
  if (t.tokenType.name === "String" || t.tokenType.name === "UnterminatedString") return "a string";
  const image = t.image.length > 24 ? `${t.image.slice(0, 21)}...` : t.image;
  return `'${image}'`;
}

/** The span of a found token; end of file is an empty span at the end of the text. */
function foundSpan(source: Source, t: IToken): Span {
  if (t.tokenType === EOF || !Number.isFinite(t.startOffset)) {
    const end = source.text.length;
    return { start: end, end };
  }
  return { start: t.startOffset, end: t.startOffset + t.image.length };
}

/**
 * Converts one Chevrotain error into a diagnostic; `tokens` are those the
 * parser read, for messages that depend on what came before the error.
 */
export function toDiagnostic(source: Source, error: IRecognitionException, tokens: readonly IToken[] = []): Diagnostic {
  const [rawName, encodedExpected = ""] = error.message.split(SEP);
  let name: MessageName = rawName && rawName in messages ? (rawName as MessageName) : "unexpectedToken";
  let expected = encodedExpected;
  const found = foundName(error.token);
  const input = name === "expectedMember" || name === "expectedBlockStatement" ? untypedInputBefore(error.token, tokens) : null;
  if (input !== null) {
    // `input x f32[16]`: the rest of the statement is the type, missing its ':'.
    name = "unexpectedToken";
    expected = `':' before the type of input '${input}'`;
  }
  const notes: string[] = [];
  if (error.token.image === "true" || error.token.image === "false") {
    if (name === "expectedName") notes.push(`'${error.token.image}' is a keyword and cannot be used as a name`);
  }
  const template = pickTemplate(name);
  const help = name === "expectedMember" || name === "expectedBlockStatement" ? missingArrow(source, error.token, tokens) : [];
  return diagnostic(template, source, foundSpan(source, error.token), { expected: expected || "something else", found }, { notes, help });
}

/** The index of the last token that starts before `t` (-1 when none). */
function indexBefore(t: IToken, tokens: readonly IToken[]): number {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid]!.startOffset < t.startOffset) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * `encoder f = dense(4) relu`: a name right after a layer, on the same line,
 * where a member should start, is a missing `->`. The help writes the pipe:
 * `dense(4) -> relu`.
 */
function missingArrow(source: Source, t: IToken, tokens: readonly IToken[]): string[] {
  if (t.tokenType !== T.Ident) return [];
  const end = indexBefore(t, tokens);
  const last = tokens[end];
  if (!last || /[\n\r]/.test(source.text.slice(last.startOffset + last.image.length, t.startOffset))) return [];
  let start = end;
  if (last.tokenType === T.RParen || last.tokenType === T.RBracket) {
    // Back to the matching bracket, then the callee or indexed name before it.
    let depth = 0;
    for (; start >= 0; start--) {
      const type = tokens[start]!.tokenType;
      if (type === T.RParen || type === T.RBracket) depth++;
      else if (type === T.LParen || type === T.LBracket) depth--;
      if (depth === 0) break;
    }
    if (start < 0) return [];
    if (start > 0 && tokenMatcher(tokens[start - 1]!, T.AnyName)) start--;
  } else if (!tokenMatcher(last, T.AnyName) && last.tokenType !== T.NumberTok) return [];
  const layer = source.text.slice(tokens[start]!.startOffset, last.startOffset + last.image.length);
  if (/[\n\r]/.test(layer) || layer.length > 60) return [`layers are joined with '->': write '-> ${t.image}'`];
  return [`layers are joined with '->': write '${layer} -> ${t.image}'`];
}

/**
 * The name of the input declared by the two tokens before `t` (`input x`),
 * or null. A member or statement cannot start right after them, so the
 * author most likely left out the ':' of the input's type.
 */
function untypedInputBefore(t: IToken, tokens: readonly IToken[]): string | null {
  const at = indexBefore(t, tokens);
  const name = tokens[at];
  const keyword = tokens[at - 1];
  if (!name || !keyword || keyword.tokenType !== T.Input || !tokenMatcher(name, T.AnyName)) return null;
  return name.image;
}

/** Message names map to templates by name, so each template is referenced in code. */
function pickTemplate(name: MessageName) {
  switch (name) {
    case "expectedDeclaration":
      return messages.expectedDeclaration;
    case "expectedMember":
      return messages.expectedMember;
    case "expectedStep":
      return messages.expectedStep;
    case "expectedField":
      return messages.expectedField;
    case "expectedBlockStatement":
      return messages.expectedBlockStatement;
    case "expectedExpression":
      return messages.expectedExpression;
    case "expectedName":
      return messages.expectedName;
    default:
      return messages.unexpectedToken;
  }
}
