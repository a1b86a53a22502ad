/**
 * Reading files for the data layer: every failure of the file system or of
 * gzip becomes a DataError that names the path as the user wrote it.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { DataError } from "./errors.js";

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

/** The bytes of a file; `shown` is the path for messages, `path` the one to open. */
export async function readBytes(path: string, shown: string): Promise<Uint8Array> {
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
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
  throw new DataError(shown, "is neither a regular file nor a folder.", "io");
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
    const at = firstInvalidUtf8(bytes);
    throw new DataError(shown, `is not valid UTF-8 text (the first invalid byte is at offset ${at}).`, "format", { cause: error });
  }
}

/** The offset of the first byte that breaks UTF-8 (RFC 3629), or bytes.length. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const n = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    // Overlong three- and four-byte forms, surrogates and code points past U+10FFFF.
    const c1 = bytes[i + 1] ?? 0;
    if ((b === 0xe0 && c1 < 0xa0) || (b === 0xed && c1 >= 0xa0) || (b === 0xf0 && c1 < 0x90) || (b === 0xf4 && c1 >= 0x90)) return i;
    i += n + 1;
  }
  return bytes.length;
}
