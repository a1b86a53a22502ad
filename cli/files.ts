import { readFileSync, renameSync, writeFileSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { messages } from "../language/diagnostics/messages.js";
import { UserError } from "./errors.js";

/** Reads a UTF-8 text file, turning file-system failures into a user error that names the file. */
export function readTextFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw UserError.from(messages.cannotRead, { path, reason: describeFsError(err) });
  }
}

/**
 * Replaces a file's contents atomically: write a temporary file beside it, then
 * rename over the original, so a crash never leaves a half-written file.
 */
export function writeFileAtomic(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, text, "utf8");
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // The temporary file may not exist; nothing to clean up then.
    }
    throw UserError.from(messages.cannotWrite, { path, reason: describeFsError(err) });
  }
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EISDIR":
      return "it is a directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
