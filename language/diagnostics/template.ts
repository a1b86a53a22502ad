/** How serious a diagnostic is. */
export type Severity = "error" | "warning" | "note";

/** One entry of the message table: a stable code and a `{placeholder}` template. */
export interface MessageTemplate {
  readonly code: string;
  readonly severity: Severity;
  readonly text: string;
}
