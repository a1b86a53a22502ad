import { spawnSync } from "node:child_process";
import { join } from "node:path";

export const repoRoot = join(import.meta.dirname, "..", "..");

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the `repr` CLI from source (through tsx) as a user would, in a child process. */
export function runCli(args: readonly string[], options: { cwd?: string; input?: string; env?: Readonly<Record<string, string>> } = {}): CliResult {
  const result = spawnSync(
    process.execPath,
    ["--import", "tsx", join(repoRoot, "cli", "main.ts"), ...args],
    { cwd: options.cwd ?? repoRoot, encoding: "utf8", input: options.input ?? "", timeout: 180_000, ...(options.env ? { env: { ...process.env, ...options.env } } : {}) },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** True when output looks like a JavaScript stack trace, which users must never see. */
export function hasStackTrace(text: string): boolean {
  return /\n\s+at .+\(.+:\d+:\d+\)/.test(text) || /\n\s+at .+:\d+:\d+/.test(text);
}
