import type { MessageTemplate } from "../template.js";

/** RC8xx: files, options and the command line. */
export const toolMessages = {
  cannotRead: { code: "RC801", severity: "error", text: "cannot read '{path}': {reason}" },
  notUtf8: { code: "RC803", severity: "error", text: "'{path}' is not UTF-8 text (invalid byte at offset {offset})" },
  cannotWrite: { code: "RC802", severity: "error", text: "cannot write '{path}': {reason}" },
} satisfies Record<string, MessageTemplate>;
