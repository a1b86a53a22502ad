import { formatMessage, type MessageArgs } from "../language/diagnostics/diagnostic.js";
import type { MessageTemplate } from "../language/diagnostics/template.js";

/**
 * How the CLI ends. Exit codes are part of repr's contract:
 * 0 success, 1 a user's mistake (bad source, data or options), 2 a bug in repr.
 */
export const ExitCode = { ok: 0, userError: 1, internalError: 2 } as const;

/** A mistake of the user's that is not a diagnostic in a `.repr` file (a missing file, a bad option). */
export class UserError extends Error {
  override readonly name = "UserError";

  constructor(
    message: string,
    /** The message table's code, when the error has one. */
    readonly code: string | null = null,
  ) {
    super(message);
  }

  /** A user error from a template of the message table. */
  static from(template: MessageTemplate, args: MessageArgs): UserError {
    return new UserError(formatMessage(template, args), template.code);
  }
}
