/**
 * Every test run gets a temporary folder of its own: vitest's global setup
 * points TMPDIR at a fresh `repr-test-run-*` folder, so what the tests and
 * their child processes put in `os.tmpdir()` lands there, apart from other
 * runs on the same machine. At the end, anything named `repr-*` still in it
 * is a test that did not clean up after itself, and the run fails naming it;
 * then the folder goes, whatever tools (tsx's cache, Chromium's profile) left.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The prefix of the folders and files tests make in the temporary folder. */
export const TEST_TEMP_PREFIX = "repr-";

/** The entries of `root` a test left behind: those named `repr-*`, sorted. */
export function leftBehind(root: string): string[] {
  return readdirSync(root)
    .filter((name) => name.startsWith(TEST_TEMP_PREFIX))
    .sort();
}

/** Makes the run's temporary folder and points TMPDIR at it; returns the check that runs at the end. */
export function useRunTempRoot(env: NodeJS.ProcessEnv = process.env): () => void {
  const previous = env["TMPDIR"];
  const root = mkdtempSync(join(tmpdir(), "repr-test-run-"));
  env["TMPDIR"] = root;
  return () => {
    if (previous === undefined) delete env["TMPDIR"];
    else env["TMPDIR"] = previous;
    let leaks: string[];
    try {
      leaks = leftBehind(root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    if (leaks.length > 0) {
      throw new Error(
        `the tests left ${leaks.length} temporary ${leaks.length === 1 ? "entry" : "entries"} behind: ${leaks.join(", ")}. ` +
          "Remove what a test makes in os.tmpdir() (tempDir() in test/train/helpers.ts does it after the file's tests).",
      );
    }
  };
}

/** vitest's global setup: runs once per run, before any worker starts; the function it returns runs after every test file. */
export default function setup(): () => void {
  const check = useRunTempRoot();
  return () => {
    try {
      check();
    } catch (error) {
      // vitest reports an error thrown here but still exits 0 unless told otherwise.
      process.exitCode = 1;
      throw error;
    }
  };
}
