import type { MessageTemplate } from "../template.js";

/** RC8xx: files, options and the command line. */
export const toolMessages = {
  cannotRead: { code: "RC801", severity: "error", text: "cannot read '{path}': {reason}" },
  notUtf8: { code: "RC803", severity: "error", text: "'{path}' is not UTF-8 text (invalid byte at offset {offset})" },
  cannotWrite: { code: "RC802", severity: "error", text: "cannot write '{path}': {reason}" },
  badData: { code: "RC804", severity: "error", text: "{problem}" },
  badCheckpoint: { code: "RC805", severity: "error", text: "{problem}" },
  diverged: { code: "RC806", severity: "error", text: "training stopped: the loss became {value} at update {update} of step {step} ({phase}); {kept}" },
  cannotResume: { code: "RC807", severity: "error", text: "cannot resume from '{path}': {reason}" },
} satisfies Record<string, MessageTemplate>;
