/**
 * `Model.call` allocates only its result: a million single-example calls
 * leave the heap where it was. Measured in a child process with
 * `--expose-gc` (memory-loop.ts), so garbage is collected before each
 * measurement.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

describe("Model.call memory", () => {
  it("does not grow over 1,000,000 calls", () => {
    const script = join(import.meta.dirname, "memory-loop.ts");
    const run = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", script, "1000000"], { encoding: "utf8", timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout.trim()) as { calls: number; before: number; after: number; seconds: number; finite: boolean };
    expect(result.calls).toBe(1_000_000);
    expect(result.finite).toBe(true);
    expect(result.after - result.before, JSON.stringify(result)).toBeLessThan(2 * 1024 * 1024);
  }, 120_000);
});
