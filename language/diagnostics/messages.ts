import { parseMessages } from "./messages/parse.js";
import { nameMessages } from "./messages/names.js";
import { typeMessages } from "./messages/types.js";
import { shapeMessages } from "./messages/shapes.js";
import { pipelineMessages } from "./messages/pipeline.js";
import { toolMessages } from "./messages/tool.js";

export type { MessageTemplate, Severity } from "./template.js";

/**
 * Every message repr can report, by name. Codes are grouped by phase:
 * RC1xx parse, RC2xx names and imports, RC3xx arguments and types,
 * RC4xx shapes, RC5xx models and pipelines, RC8xx files and tools.
 * Code refers to messages by name (`messages.unknownName`), never by text.
 * A test fails on a duplicate code or a message no code path uses.
 */
export const messages = {
  ...parseMessages,
  ...nameMessages,
  ...typeMessages,
  ...shapeMessages,
  ...pipelineMessages,
  ...toolMessages,
} as const;

export type MessageName = keyof typeof messages;
