/**
 * Checkpoint files on disk. Writing is atomic: the bytes go to a temporary file
 * in the same directory, which is flushed to the disk and then renamed over the
 * target, so a reader sees the old checkpoint or the new one, never a part of
 * one; a failed write removes its temporary file and leaves the old checkpoint
 * as it was.
 */
import { open, rename, unlink } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { NotRegularFileError, readRegularFile } from "../io/regular-file.js";
import { CheckpointError } from "./errors.js";
import { decodeSafetensors, type DecodedCheckpoint } from "./safetensors.js";

/** An open file being written: what the atomic write needs of Node's `FileHandle`. */
export interface WritableFile {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file operations checkpoints use. Node's file system by default; tests
 * pass one that fails at a chosen step.
 */
export interface CheckpointFileSystem {
  /** Opens a file; `wx` creates it and fails if it exists, `r` opens to read (used for a directory's fsync). */
  open(path: string, flags: "wx" | "r"): Promise<WritableFile>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
}

/** Node's file system. */
export const nodeFileSystem: CheckpointFileSystem = {
  open: (path, flags) => open(path, flags, 0o666),
  rename,
  unlink,
  // Only a regular file: a FIFO named like a checkpoint would block the read forever.
  readFile: readRegularFile,
};

/** Words for the file-system errors a user can do something about; others keep Node's message. */
function reason(error: unknown, path: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return `the directory '${dirname(path)}' does not exist`;
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "the file system is read-only";
    case "ENOSPC":
      return "no space left on the device";
    case "EDQUOT":
      return "the disk quota is exceeded";
    case "EISDIR":
    case "ENOTEMPTY":
      return `'${path}' is a directory`;
    case "ENOTDIR":
      return `a part of the path '${path}' is not a directory`;
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/** A fresh name in the target's directory, hidden, and unique per process and call. */
function temporaryName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

/** Flushes the directory entry of the rename; some file systems refuse, which loses nothing but durability. */
async function syncDirectory(dir: string, fs: CheckpointFileSystem): Promise<void> {
  let handle: WritableFile | undefined;
  try {
    handle = await fs.open(dir, "r");
    await handle.sync();
  } catch {
    // Not every platform can fsync a directory (Windows cannot open one); the rename itself is done.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Writes `bytes` to `path` atomically: temporary file in the same directory,
 * write everything, fsync, close, rename over `path`, fsync the directory.
 * On failure the temporary file is removed, `path` keeps its old contents (or
 * stays absent), and a `CheckpointError` says why.
 */
export async function writeCheckpointAtomic(
  path: string,
  bytes: Uint8Array,
  fs: CheckpointFileSystem = nodeFileSystem,
): Promise<void> {
  const temporary = temporaryName(path);
  let file: WritableFile | undefined;
  let created = false;
  try {
    file = await fs.open(temporary, "wx");
    created = true;
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await file.write(bytes, written, bytes.length - written, written);
      if (bytesWritten <= 0) throw new Error(`the write stopped after ${written} of ${bytes.length} bytes`);
      written += bytesWritten;
    }
    await file.sync();
    const closing = file;
    file = undefined;
    await closing.close();
    await fs.rename(temporary, path);
    created = false;
  } catch (cause) {
    await file?.close().catch(() => undefined);
    if (created) await fs.unlink(temporary).catch(() => undefined);
    throw new CheckpointError(
      path,
      `cannot write the checkpoint: ${reason(cause, path)}; any previous checkpoint there is unchanged`,
      "io",
      { cause },
    );
  }
  await syncDirectory(dirname(path), fs);
}

/** Reads and decodes a checkpoint file; a missing or unreadable file is a `CheckpointError` too. */
export async function readCheckpoint(path: string, fs: CheckpointFileSystem = nodeFileSystem): Promise<DecodedCheckpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const why = cause instanceof NotRegularFileError ? `it is ${cause.what}, not a regular file` : code === "ENOENT" ? "no such file" : reason(cause, path);
    throw new CheckpointError(path, `cannot read the checkpoint: ${why}`, "io", { cause });
  }
  return decodeSafetensors(bytes, path);
}
