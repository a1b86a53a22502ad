import type { MessageTemplate } from "../template.js";

/** RC8xx: files, options and the command line. */
export const toolMessages = {
} satisfies Record<string, MessageTemplate>;
