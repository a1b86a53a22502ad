/**
 * Comment text of a generated module. Documentation comes from `///`
 * comments and names from the user, so it is arbitrary text; here it becomes
 * lines that cannot end a comment, start a TSDoc tag or a new source line,
 * or hide anything:
 *
 * - every line terminator (`\r\n`, `\n`, `\r`, U+2028, U+2029) splits a line;
 * - control characters, lone surrogates and the bidirectional formatting
 *   characters (which can make code read differently than it runs) become
 *   U+FFFD;
 * - for doc comments, TSDoc escapes: `\` → `\\`, then `@` → `\@` unless a
 *   letter or digit precedes it (so `a@b.org` stays), then a star before a slash gets a
 *   backslash between them.
 */
import type { ExampleType } from "../../runtime/api/plan.js";

const LINE_BREAK = /\r\n|[\n\r\u2028\u2029]/;
// C0 controls but tab, DEL and C1, lone surrogates, and the bidi formatting characters.
const HIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` with what a comment must not show replaced by U+FFFD, as lines, trailing space trimmed. */
export function plainLines(text: string): string[] {
  return text.split(LINE_BREAK).map((line) => line.replace(HIDDEN, "\uFFFD").trimEnd());
}

/** `text` on one line, for a `//` comment: its lines joined by spaces. */
export function plainLine(text: string): string {
  return plainLines(text)
    .filter((l) => l.trim() !== "")
    .map((l) => l.trim())
    .join(" ");
}

/** One line of doc-comment text with TSDoc's escapes. */
function escapeDocLine(line: string): string {
  return line.replaceAll("\\", "\\\\").replace(/(?<![A-Za-z0-9])@/g, "\\@").replaceAll("*/", "*\\/");
}

/** Doc-comment lines for `text`, leading and trailing blank lines dropped. */
export function docLines(text: string): string[] {
  const lines = plainLines(text).map(escapeDocLine);
  while (lines.length > 0 && lines[0]!.trim() === "") lines.shift();
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === "") lines.pop();
  return lines;
}

/** Doc-comment text for `text` on one line (a name inside a sentence, a tag's text). */
export function docInline(text: string): string {
  return escapeDocLine(plainLine(text));
}

/** An example type as docs show it, batch axis first: `f32[n, 1, 28, 28]`, `i32[32] (10 classes)`. */
export function formatExampleType(type: ExampleType, batch: string | number): string {
  const dims = [String(batch), ...type.shape.map((d) => String(d))].join(", ");
  const range = type.classes !== undefined ? ` (${type.classes} classes)` : type.vocab !== undefined ? ` (vocabulary ${type.vocab})` : "";
  return docInline(`${type.dtype}[${dims}]${range}`);
}
