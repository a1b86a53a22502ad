import type { MessageTemplate } from "../template.js";

/** RC8xx: files, options and the command line. */
export const toolMessages = {
  cannotRead: { code: "RC801", severity: "error", text: "cannot read '{path}': {reason}" },
  cannotWrite: { code: "RC802", severity: "error", text: "cannot write '{path}': {reason}" },
  notUtf8: { code: "RC803", severity: "error", text: "'{path}' is not UTF-8 text (invalid byte at offset {offset})" },
  badData: { code: "RC804", severity: "error", text: "{problem}" },
  badCheckpoint: { code: "RC805", severity: "error", text: "{problem}" },
  diverged: { code: "RC806", severity: "error", text: "training stopped: the loss became {value} at update {update} of step {step} ({phase}); {kept}" },
  cannotResume: { code: "RC807", severity: "error", text: "cannot resume from '{path}': {reason}" },
  notRegularFile: { code: "RC808", severity: "error", text: "cannot read '{path}': it is {what}, not a regular file" },
  badOutFolder: { code: "RC809", severity: "error", text: "--out '{path}' cannot hold the run: {reason}" },
  outFolderLocked: { code: "RC810", severity: "error", text: "--out '{path}' is in use by {who}; {what}" },
  cannotSample: { code: "RC850", severity: "error", text: "cannot sample: {why}" },
  badSampleOption: { code: "RC851", severity: "error", text: "{option}: {problem}" },
  nonFiniteResult: { code: "RC811", severity: "error", text: "test step {step} on {data}: {what} '{name}' is {value}, not a finite number; the weights or the data hold values too large for float32" },
} satisfies Record<string, MessageTemplate>;
