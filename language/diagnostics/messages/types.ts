import type { MessageTemplate } from "../messages.js";

/** RC3xx: arguments, parameters and value types. */
export const typeMessages = {
} satisfies Record<string, MessageTemplate>;
