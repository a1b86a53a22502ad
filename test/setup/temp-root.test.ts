/** The run's temporary folder and its leak check (test/setup/temp-root.ts, vitest's global setup). */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { useRunTempRoot } from "./temp-root.js";

describe("the run's temporary folder", () => {
  it("is where this test file's os.tmpdir() points, and where child processes' point", () => {
    expect(basename(tmpdir())).toMatch(/^repr-test-run-/);
    const child = spawnSync(process.execPath, ["-e", "process.stdout.write(require('node:os').tmpdir())"], { encoding: "utf8" });
    expect(child.stdout).toBe(tmpdir());
  });

  it("passes when the tests took away what they made, and removes what tools left", () => {
    const env: NodeJS.ProcessEnv = {};
    const check = useRunTempRoot(env);
    const root = env["TMPDIR"]!;
    mkdirSync(join(root, "tsx-0"));
    writeFileSync(join(root, "other.txt"), "");
    // A test that cleans up after itself.
    mkdirSync(join(root, "repr-x-abc123"));
    rmSync(join(root, "repr-x-abc123"), { recursive: true });
    expect(check).not.toThrow();
    expect(existsSync(root)).toBe(false);
    expect(env["TMPDIR"]).toBeUndefined();
  });

  it("fails naming each repr-* entry a test left behind, and still removes the folder", () => {
    const env: NodeJS.ProcessEnv = { TMPDIR: tmpdir() };
    const check = useRunTempRoot(env);
    const root = env["TMPDIR"]!;
    expect(root).not.toBe(tmpdir());
    mkdirSync(join(root, "repr-cli-Ab12Cd"));
    writeFileSync(join(root, "repr-probe.bin"), "");
    expect(check).toThrow(/left 2 temporary entries behind: repr-cli-Ab12Cd, repr-probe\.bin/);
    expect(existsSync(root)).toBe(false);
    expect(env["TMPDIR"]).toBe(tmpdir());
  });
});
