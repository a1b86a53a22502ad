import type { MessageTemplate } from "../messages.js";

/** RC2xx: name resolution and imports. */
export const nameMessages = {
} satisfies Record<string, MessageTemplate>;
