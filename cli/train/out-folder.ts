/**
 * The `--out` folder of a training run, and what keeps two runs from sharing
 * it. Before anything is written, the folder is checked (an existing file or
 * a device is refused, naming the option) and locked: `repr-run.lock`,
 * created exclusively (`wx`), holds the run's pid, host and start time. A
 * second run into the same folder is refused (RC810), naming the folder and
 * the other run's pid, instead of replacing that run's weights and deleting
 * its resume file. A lock left by a run that was killed (its pid is no longer
 * alive on this host) is taken over, with a note; a lock from another host, or
 * one that cannot be read, is never taken over, since whether its run is alive
 * cannot be told from here.
 *
 * With the lock held, temporary files that a killed run left behind are
 * removed: only repr's own names (`.<name>.<pid>.tmp` and
 * `.<name>.<pid>.<12 hex digits>.tmp`, see `writeFileAtomic` and
 * `writeCheckpointAtomic`), only regular files, only in the folder itself,
 * and only when the pid in the name is not a live process.
 *
 * Checkpoints are written through `runFileSystem`, which turns a failed write
 * into a user error (RC802, exit 1) and gives the tests a pause point
 * (`write:NAME`) between a checkpoint's temporary file and its rename.
 */
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import { messages } from "../../language/diagnostics/messages.js";
import { CheckpointError, nodeFileSystem, writeCheckpointAtomic, type CheckpointFileSystem } from "../../runtime/checkpoint/index.js";
import { describeKind } from "../../runtime/io/regular-file.js";
import { UserError } from "../errors.js";
import { testPause } from "./test-pause.js";

/** The lock file's name inside `--out`. */
export const LOCK_FILE = "repr-run.lock";

/** What the lock file holds (JSON). */
export interface LockInfo {
  readonly pid: number;
  readonly host: string;
  /** When the run started, ISO 8601. */
  readonly started: string;
  /** The `.repr` file the run trains. */
  readonly file: string;
}

/** repr's temporary file names: `.NAME.PID.tmp` (text files) and `.NAME.PID.HEX12.tmp` (checkpoints). */
const TEMP_NAME = /^\..+\.(\d+)(?:\.[0-9a-f]{12})?\.tmp$/;

/** Whether a process with this pid is alive on this host (one that exists but is another user's counts). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Creates the folder, or refuses a path that cannot be one (RC809, naming `--out`). */
function makeFolder(out: string): void {
  let kind: string | null = null;
  try {
    const stats = statSync(out);
    if (!stats.isDirectory()) kind = describeKind(stats);
  } catch {
    // It does not exist yet (or cannot be looked at): mkdir says which.
  }
  if (kind !== null) throw UserError.from(messages.badOutFolder, { path: out, reason: `it is ${kind}, not a folder` });
  try {
    mkdirSync(out, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOTDIR" || code === "EEXIST"
        ? "a part of the path is a file, not a folder"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : code === "EROFS"
            ? "the file system is read-only"
            : code === "ENOSPC"
              ? "no space left on the device"
              : (err as Error).message;
    throw UserError.from(messages.badOutFolder, { path: out, reason });
  }
}

/** The lock's contents, or null when it cannot be read as a lock (empty, damaged, not JSON). */
function readLock(path: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(path, "utf8")) as Partial<LockInfo>;
    if (typeof info.pid !== "number" || typeof info.host !== "string" || typeof info.started !== "string") return null;
    return { pid: info.pid, host: info.host, started: info.started, file: typeof info.file === "string" ? info.file : "?" };
  } catch {
    return null;
  }
}

/** A run's hold on its `--out` folder; `release` removes the lock (if it is still this run's). */
export interface OutFolder {
  readonly path: string;
  release(): void;
}

/**
 * Checks and creates `--out`, takes its lock and removes the temporary files
 * of killed runs. `print` shows notes (a stale lock taken over, files removed).
 */
export function openOutFolder(out: string, file: string, print: (line: string) => void): OutFolder {
  makeFolder(out);
  const lockPath = join(out, LOCK_FILE);
  const mine: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString(), file };
  if (!createLock(out, lockPath, mine)) {
    const held = readLock(lockPath);
    if (held === null || held.host !== mine.host || processAlive(held.pid)) throw locked(out, held, lockPath);
    print(`note: taking over ${lockPath}: the run that held it (pid ${held.pid}, started ${held.started}) is no longer running`);
    try {
      unlinkSync(lockPath);
    } catch {
      // Another run took it over first; the exclusive create below decides.
    }
    if (!createLock(out, lockPath, mine)) throw locked(out, readLock(lockPath), lockPath);
  }
  const release = (): void => {
    process.off("exit", release);
    // Only this run's own lock: never one another run has taken over since.
    const now = readLock(lockPath);
    if (now !== null && now.pid === mine.pid && now.started === mine.started) unlinkSync(lockPath);
  };
  // A run that ends by process.exit (its output pipe closed) still lets go of the folder.
  process.on("exit", release);
  const removed = removeOrphans(out);
  if (removed.length > 0) {
    print(`note: removed ${removed.length} temporary file${removed.length === 1 ? "" : "s"} left in ${out} by a run that was killed: ${removed.join(", ")}`);
  }
  return { path: out, release };
}

/**
 * Creates the lock file exclusively (`wx`) with `info`; false when it exists.
 * A lock that cannot be written whole is removed, so no half-written one is
 * left for the next run to refuse.
 */
function createLock(out: string, lockPath: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(lockPath, "wx");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw UserError.from(messages.badOutFolder, { path: out, reason: `cannot create its lock file ${LOCK_FILE}: ${(err as Error).message}` });
  }
  try {
    writeSync(fd, JSON.stringify(info) + "\n");
  } catch (err) {
    closeSync(fd);
    unlinkSync(lockPath);
    throw UserError.from(messages.badOutFolder, { path: out, reason: `cannot write its lock file ${LOCK_FILE}: ${(err as Error).message}` });
  }
  closeSync(fd);
  return true;
}

/** The error for a folder another run holds (RC810). */
function locked(out: string, held: LockInfo | null, lockPath: string): UserError {
  if (held === null) {
    return UserError.from(messages.outFolderLocked, {
      path: out,
      who: `a run that left an unreadable lock file ${lockPath}`,
      what: "if no repr run is writing there, delete that file",
    });
  }
  return UserError.from(messages.outFolderLocked, {
    path: out,
    who: `another run (pid ${held.pid} on ${held.host}, training ${held.file}, started ${held.started})`,
    what: `wait for it to finish, stop it, or choose another --out; if that run is gone, delete ${lockPath}`,
  });
}

/** Removes repr's temporary files whose writer is dead; returns their names. */
function removeOrphans(out: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(out)) {
    const match = TEMP_NAME.exec(name);
    if (!match || processAlive(Number(match[1]))) continue;
    const path = join(out, name);
    try {
      if (!lstatSync(path).isFile()) continue;
      unlinkSync(path);
      removed.push(name);
    } catch {
      // Gone already, or not ours to remove: leave it.
    }
  }
  return removed;
}

/** Node's file system, with the test pause point `write:NAME` before a checkpoint is renamed into place. */
const runFileSystem: CheckpointFileSystem = {
  ...nodeFileSystem,
  async rename(from, to) {
    await testPause(`write:${basename(to)}`);
    return nodeFileSystem.rename(from, to);
  },
};

/** Writes a checkpoint of the run atomically; a failed write is a user error (RC802) that says nothing was lost. */
export async function saveCheckpoint(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeCheckpointAtomic(path, bytes, runFileSystem);
  } catch (err) {
    if (err instanceof CheckpointError) throw UserError.from(messages.cannotWrite, { path, reason: err.problem });
    throw err;
  }
}
