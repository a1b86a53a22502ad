import { renameSync, statSync, writeFileSync, unlinkSync, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { messages } from "../language/diagnostics/messages.js";
import { describeKind, NotRegularFileError, readRegularFileSync } from "../runtime/io/regular-file.js";
import { firstInvalidUtf8 } from "../runtime/io/utf8.js";

export { firstInvalidUtf8 };
import { UserError } from "./errors.js";

/**
 * Reads a UTF-8 text file, turning file-system failures, files that are not
 * regular files (a FIFO would block forever) and bytes that are not UTF-8
 * into user errors that name the file. A leading byte-order mark is dropped.
 */
export function readTextFile(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(path);
  } catch (err) {
    if (err instanceof NotRegularFileError) throw UserError.from(messages.notRegularFile, { path, what: err.what });
    throw UserError.from(messages.cannotRead, { path, reason: describeFsError(err) });
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad !== null) throw UserError.from(messages.notUtf8, { path, offset: bad });
  const text = bytes.toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Replaces a file's contents atomically: write a temporary file beside it, then
 * rename over the original, so a crash never leaves a half-written file. A
 * path that names something other than a regular file (`/dev/full`, a FIFO, a
 * folder) is refused rather than replaced by a file.
 */
export function writeFileAtomic(path: string, contents: string | Uint8Array): void {
  let existing: Stats | null = null;
  try {
    existing = statSync(path);
  } catch {
    // A new file.
  }
  if (existing !== null && !existing.isFile()) throw UserError.from(messages.cannotWrite, { path, reason: `it is ${describeKind(existing)}, not a regular file` });
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, contents);
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
    case "ENOSPC":
      return "no space left on the device";
    case "EROFS":
      return "the file system is read-only";
    case "ENOTDIR":
      return "a part of the path is not a folder";
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
