import type { MessageTemplate } from "../messages.js";

/** RC8xx: files, options and the command line. */
export const toolMessages = {
} satisfies Record<string, MessageTemplate>;
