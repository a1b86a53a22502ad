/**
 * The one error type of the runtime's public API: whatever an app or a
 * generated module does wrong — an unknown function, inputs of the wrong
 * length, a checkpoint that does not fit, a disposed model — is a
 * `ReprError` whose message says what was expected and what was given.
 * Anything else that escapes is a bug in repr.
 */

/** A user-facing runtime error: one sentence (or a short report) naming the function, input or tensor concerned. */
export class ReprError extends Error {
  override readonly name = "ReprError";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
