import { DEFAULT_MEMORY_LIMIT, parseBytes, type MemoryLimit } from "../compiler/check/memory.js";
import { UserError } from "./errors.js";

/** The help text of `--max-memory`, shared by the commands that take it. */
export const MAX_MEMORY_HELP =
  "the most memory a model may need for its parameters, their gradients and optimizer state, and the values of a batch, e.g. 8GB or 512MB (default: 4GB)";

/** `--max-memory 8GB` as a limit for the checker; the default when absent. A bad size is a user error naming the option. */
export function memoryLimit(text: string | undefined): MemoryLimit {
  if (text === undefined) return DEFAULT_MEMORY_LIMIT;
  const bytes = parseBytes(text);
  if (bytes === null) throw new UserError(`--max-memory must be a size such as 8GB, 512MB or 1.5GB, got '${text}'`);
  return { bytes, origin: `--max-memory ${text.trim()}` };
}
