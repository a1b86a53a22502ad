import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot, type CliResult } from "./run-cli.js";

/** What a measured run of the CLI gives: its result and its peak resident memory. */
export interface MeasuredResult extends CliResult {
  /** Peak resident set size of the process in bytes (null when it died before reporting it). */
  readonly maxRssBytes: number | null;
  /** True when the hang guard stopped it. */
  readonly timedOut: boolean;
}

const MARK = "repr-test-max-rss-kb: ";

/**
 * Runs the `repr` CLI from source in a child process, as `runCli` does, and
 * reads back the process's peak resident memory (`rss-probe.ts` prints it at
 * exit). `timeoutMs` is a hang guard only; `heapMb` caps V8's heap so a
 * runaway run fails instead of taking the machine's memory.
 */
export function runCliMeasured(args: readonly string[], options: { cwd?: string; timeoutMs?: number; heapMb?: number } = {}): MeasuredResult {
  const result = spawnSync(
    process.execPath,
    [`--max-old-space-size=${options.heapMb ?? 3072}`, "--import", "tsx", join(import.meta.dirname, "rss-probe.ts"), ...args],
    { cwd: options.cwd ?? repoRoot, encoding: "utf8", timeout: options.timeoutMs ?? 30_000, maxBuffer: 64 << 20 },
  );
  const at = result.stderr.lastIndexOf(MARK);
  const maxRssBytes = at < 0 ? null : Number(result.stderr.slice(at + MARK.length).trim()) * 1024;
  const stderr = at < 0 ? result.stderr : result.stderr.slice(0, at).replace(/\n$/, "");
  const timedOut = (result.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT";
  return { status: result.status, stdout: result.stdout, stderr, maxRssBytes, timedOut };
}
