import type { MessageTemplate } from "../messages.js";

/** RC5xx: models, masks, objectives and pipelines. */
export const pipelineMessages = {
} satisfies Record<string, MessageTemplate>;
