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
  /** Extra sentences shown after the snippet ("did you mean ...", hints). */
  readonly notes: readonly string[];
}

/** Values substituted for `{name}` placeholders in a message template. */
export type MessageArgs = Readonly<Record<string, string | number>>;

/** Fills a template's `{placeholders}`; a missing value is a broken invariant. */
export function formatMessage(template: MessageTemplate, args: MessageArgs): string {
  return template.text.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = args[key];
    if (value === undefined) throw new Error(`message ${template.code} needs a value for {${key}}`);
    return String(value);
  });
}

/** Builds a diagnostic from a template in the message table. */
export function diagnostic(
  template: MessageTemplate,
  source: Source,
  span: Span,
  args: MessageArgs = {},
  extra: { related?: readonly RelatedSpan[]; notes?: readonly string[] } = {},
): Diagnostic {
  return {
    code: template.code,
    severity: template.severity,
    message: formatMessage(template, args),
    source,
    span,
    related: extra.related ?? [],
    notes: extra.notes ?? [],
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
