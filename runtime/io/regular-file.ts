/**
 * Reading only regular files. A FIFO named `x.repr` (or `data.csv`) blocks a
 * reader forever, and a device such as `/dev/zero` never ends; neither is
 * what a user means by a source, a data file or a checkpoint. The file is
 * opened without blocking (`O_NONBLOCK` makes opening a FIFO return at once;
 * it changes nothing for a regular file) and checked with `fstat` on that
 * same descriptor, so what is checked is what is read. Node only.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from "node:fs";
import { open } from "node:fs/promises";

/** The flags that open any file for reading without waiting for a writer. */
const READ_NOW = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** A path that names something other than a regular file. */
export class NotRegularFileError extends Error {
  override readonly name = "NotRegularFileError";

  constructor(
    readonly path: string,
    /** What it is instead, as a noun phrase: "a FIFO (named pipe)", "a folder". */
    readonly what: string,
  ) {
    super(`'${path}' is ${what}, not a regular file`);
  }
}

/** What a file-system entry is, as a noun phrase for messages. */
export function describeKind(stats: Stats): string {
  if (stats.isFile()) return "a regular file";
  if (stats.isDirectory()) return "a folder";
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  return "not a regular file";
}

/** The bytes of a regular file; a `NotRegularFileError` for anything else, Node's error when it cannot be opened. */
export function readRegularFileSync(path: string): Buffer {
  const fd = openSync(path, READ_NOW);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new NotRegularFileError(path, describeKind(stats));
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** As `readRegularFileSync`, without blocking the thread. */
export async function readRegularFile(path: string): Promise<Buffer> {
  const handle = await open(path, READ_NOW);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new NotRegularFileError(path, describeKind(stats));
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
