import type { MessageTemplate } from "../template.js";

/** RC1xx: lexing and parsing. */
export const parseMessages = {
  unexpectedCharacter: { code: "RC101", severity: "error", text: "unexpected character {char}" },
  unterminatedString: { code: "RC102", severity: "error", text: "unterminated string literal" },
  unterminatedComment: { code: "RC103", severity: "error", text: "unterminated block comment" },
  unexpectedToken: { code: "RC104", severity: "error", text: "expected {expected}, found {found}" },
  invalidEscape: {
    code: "RC105",
    severity: "error",
    text: "unknown escape sequence '{escape}' (a string may use \\\", \\\\, \\n, \\t and \\u{...})",
  },
  expectedDeclaration: {
    code: "RC106",
    severity: "error",
    text: "expected a declaration (import, block, model, data or pipeline), found {found}",
  },
  expectedMember: {
    code: "RC107",
    severity: "error",
    text:
      "expected a model member (input, encoder, bottleneck, decoder, head, part, mask, views, let, loss or output) or '}', found {found}",
  },
  expectedStep: {
    code: "RC108",
    severity: "error",
    text: "expected a pipeline step (pretrain, freeze, unfreeze, replace, adapt or test) or '}', found {found}",
  },
  expectedExpression: { code: "RC109", severity: "error", text: "expected an expression, found {found}" },
  expectedField: {
    code: "RC110",
    severity: "error",
    text: "expected a field ('name: type') or '}', found {found}",
  },
  expectedBlockStatement: {
    code: "RC111",
    severity: "error",
    text: "expected a block statement (input, let, output or a layer expression) or '}', found {found}",
  },
  expectedName: { code: "RC112", severity: "error", text: "expected {expected}, found {found}" },
  nestingTooDeep: {
    code: "RC113",
    severity: "error",
    text: "expression nested too deeply: more than {limit} levels of {what}",
  },
  leadingDotNumber: {
    code: "RC114",
    severity: "error",
    text: "a number must start with a digit: write {fixed}",
  },
  unsafeInteger: {
    code: "RC115",
    severity: "error",
    text: "the integer {raw} is too large: an int literal must be at most 9007199254740991 (2^53 - 1)",
  },
  singleQuotedString: {
    code: "RC116",
    severity: "error",
    text: "a string is written in double quotes, not single quotes",
  },
  badRange: { code: "RC120", severity: "error", text: "'{text}': a range of layers runs from a stage of a part to a stage number, as in 'f.0..2'" },
  misplacedStageName: { code: "RC121", severity: "error", text: "'as {name}' names a stage of a pipe, as in 'dense(64) as {name} -> relu', and only a whole stage" },
} satisfies Record<string, MessageTemplate>;
