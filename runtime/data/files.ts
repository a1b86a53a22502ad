/**
 * Reading files for the data layer: every failure of the file system or of
 * gzip becomes a DataError that names the path as the user wrote it.
 */
import { readdir, stat } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { DataError } from "./errors.js";
import { firstInvalidUtf8 } from "../io/utf8.js";
import { describeKind, NotRegularFileError, readRegularFile } from "../io/regular-file.js";

/** Whether bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The reason an fs call failed, in words, for a message. */
function ioReason(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "ENOENT") return "no such file or folder";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "is a folder, not a file";
  if (code === "ENOTDIR") return "a part of the path is not a folder";
  return error instanceof Error ? error.message : String(error);
}

/**
 * The bytes of a regular file; `shown` is the path for messages, `path` the
 * one to open. A FIFO or a device (which could block or never end) is refused.
 */
export async function readBytes(path: string, shown: string): Promise<Uint8Array> {
  try {
    const buffer = await readRegularFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    if (error instanceof NotRegularFileError) throw new DataError(shown, `is ${error.what}, not a regular file.`, "io", { cause: error });
    throw new DataError(shown, `cannot be read: ${ioReason(error)}.`, "io", { cause: error });
  }
}

/** The bytes of a file, decompressed when they start with the gzip magic number. */
export async function readMaybeGzipped(path: string, shown: string): Promise<Uint8Array> {
  return gunzipIfNeeded(await readBytes(path, shown), shown);
}

/** `bytes` decompressed if they are gzip, else `bytes` themselves. */
export function gunzipIfNeeded(bytes: Uint8Array, shown: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    const out = gunzipSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (error) {
    throw new DataError(shown, `starts like a gzip file but cannot be decompressed: ${(error as Error).message}.`, "format", {
      cause: error,
    });
  }
}

/** Whether a path is a folder, a regular file, or neither; a DataError naming it when it does not exist. */
export async function pathKind(path: string, shown: string): Promise<"folder" | "file"> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new DataError(shown, `cannot be read: ${ioReason(error)}.`, "io", { cause: error });
  }
  if (info.isDirectory()) return "folder";
  if (info.isFile()) return "file";
  throw new DataError(shown, `is ${describeKind(info)}, neither a regular file nor a folder.`, "io");
}

/** The entries of a folder, sorted by name (code-unit order, the same in every locale), hidden ones left out. */
export async function listFolder(path: string, shown: string): Promise<Array<{ name: string; folder: boolean }>> {
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (error) {
    throw new DataError(shown, `cannot be read: ${ioReason(error)}.`, "io", { cause: error });
  }
  return entries
    .filter((e) => !e.name.startsWith("."))
    .map((e) => ({ name: e.name, folder: e.isDirectory() }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** UTF-8 text of bytes, a DataError naming the file when they are not valid UTF-8. A leading BOM is dropped. */
export function decodeUtf8(bytes: Uint8Array, shown: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    const at = firstInvalidUtf8(bytes) ?? bytes.length;
    throw new DataError(shown, `is not valid UTF-8 text (the first invalid byte is at offset ${at}).`, "format", { cause: error });
  }
}
