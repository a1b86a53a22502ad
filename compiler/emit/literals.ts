/**
 * Literals of a generated module. User text reaches code only as a string
 * literal made here: pure ASCII, every other character escaped, so no input
 * can end the literal, start a line, carry an invisible or bidirectional
 * character into the file, or change on the way through an encoder (a lone
 * surrogate stays a `\uD800` escape).
 */
const SHORT_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\x5C" };

// What a literal in each kind of quotes cannot hold as it is: controls, DEL, everything past ASCII, backslashes, its quote.
const NEEDS_ESCAPE = { '"': /[\u0000-\u001F\u007F-\uFFFF\\"]/g, "'": /[\u0000-\u001F\u007F-\uFFFF\\']/g } as const;

function escapeChar(ch: string, quote: string): string {
  if (ch === quote) return `\\${quote}`;
  const short = SHORT_ESCAPES[ch];
  if (short !== undefined) return short;
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).toUpperCase().padStart(2, "0")}` : `\\u${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * A JavaScript string literal whose value is exactly `text`, in `quote`s.
 * Backslashes are written `\x5C` rather than `\\`, so the text never holds a
 * backslash before a quote that does not escape it (which naive string
 * trackers, like the one in ts-morph's writer, would misread).
 */
export function stringLiteral(text: string, quote: '"' | "'" = '"'): string {
  return quote + text.replace(NEEDS_ESCAPE[quote], (ch) => escapeChar(ch, quote)) + quote;
}

/** A number as JavaScript source, −0, NaN and the infinities included; anything but a number is a broken plan. */
export function numberLiteral(n: number): string {
  if (typeof n !== "number") throw new Error(`internal error: expected a number in the plan, got ${typeof n}`);
  if (Object.is(n, -0)) return "-0";
  return String(n);
}
