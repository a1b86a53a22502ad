import type { MessageTemplate } from "../messages.js";

/** RC1xx: lexing and parsing. */
export const parseMessages = {
  unexpectedCharacter: { code: "RC101", severity: "error", text: "unexpected character {char}" },
  unterminatedString: { code: "RC102", severity: "error", text: "unterminated string literal" },
  unterminatedComment: { code: "RC103", severity: "error", text: "unterminated block comment" },
  unexpectedToken: { code: "RC104", severity: "error", text: "expected {expected}, found {found}" },
} satisfies Record<string, MessageTemplate>;
