import type { MessageTemplate } from "../messages.js";

/** RC4xx: tensor shapes. */
export const shapeMessages = {
} satisfies Record<string, MessageTemplate>;
