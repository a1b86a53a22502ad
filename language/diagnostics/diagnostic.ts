import type { Span } from "../ast.js";
import type { Source } from "../source.js";
import type { MessageTemplate, Severity } from "./template.js";

export type { Severity };

/** A second place a diagnostic points at ("first defined here"). */
export interface RelatedSpan {
  readonly source: Source;
  readonly span: Span;
  readonly message: string;
}

/** A problem found in a program: a value, never an exception. */
export interface Diagnostic {
  /** Stable code, such as `RC201`; see `messages.ts`. */
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly source: Source;
  readonly span: Span;
  readonly related: readonly RelatedSpan[];
  /** Extra sentences shown after the snippet ("did you mean ...", why). */
  readonly notes: readonly string[];
  /** The fix, where it is known, with the code to write: "write `-> relu`". Shown after the notes. */
  readonly help: readonly string[];
}

/** Values substituted for `{name}` placeholders in a message template. */
export type MessageArgs = Readonly<Record<string, string | number>>;

/** The most characters of one value a message shows; a longer name or snippet is cut with '…'. */
export const MAX_MESSAGE_VALUE = 100;

/**
 * A value as a message shows it: at most `MAX_MESSAGE_VALUE` characters, so a
 * megabyte-long identifier makes a message of one line, not of a megabyte.
 */
export function clipValue(text: string, max = MAX_MESSAGE_VALUE): string {
  if (text.length <= max) return text;
  let end = max - 1;
  // Never split a surrogate pair.
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/** The most characters of a note or a related span's message. */
const MAX_NOTE = 300;

/** Fills a template's `{placeholders}`; a missing value is a broken invariant. */
export function formatMessage(template: MessageTemplate, args: MessageArgs): string {
  return template.text.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = args[key];
    if (value === undefined) throw new Error(`message ${template.code} needs a value for {${key}}`);
    return clipValue(String(value), LONG_VALUES.has(key) ? MAX_LONG_VALUE : MAX_MESSAGE_VALUE);
  });
}

/**
 * Placeholders that hold a path or a sentence the CLI composed (a data or
 * checkpoint problem, a reason): cut only past `MAX_LONG_VALUE`, so a deep
 * path or a full explanation survives while a hostile name stays short.
 */
const LONG_VALUES: ReadonlySet<string> = new Set(["path", "resolved", "root", "real", "problem", "reason", "kept", "who", "what"]);

/** The most characters of a path or composed sentence a message shows (Linux's PATH_MAX). */
const MAX_LONG_VALUE = 4096;

/** Builds a diagnostic from a template in the message table. */
export function diagnostic(
  template: MessageTemplate,
  source: Source,
  span: Span,
  args: MessageArgs = {},
  extra: { related?: readonly RelatedSpan[]; notes?: readonly string[]; help?: readonly string[] } = {},
): Diagnostic {
  return {
    code: template.code,
    severity: template.severity,
    message: formatMessage(template, args),
    source,
    span,
    related: (extra.related ?? []).map((r) => ({ ...r, message: clipValue(r.message, MAX_NOTE) })),
    notes: (extra.notes ?? []).map((note) => clipValue(note, MAX_NOTE)),
    help: (extra.help ?? []).map((line) => clipValue(line, MAX_NOTE)),
  };
}

/** True when any diagnostic is an error. */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Orders diagnostics by file, then position, then code, for stable output. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      a.source.name.localeCompare(b.source.name) ||
      a.span.start - b.span.start ||
      a.code.localeCompare(b.code),
  );
}
