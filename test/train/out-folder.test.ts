/**
 * The `--out` folder (issue 10, items 4 and 6): a path that cannot be a
 * folder is refused naming the option; a checkpoint that cannot be written is
 * a user error that loses nothing; two runs into one folder cannot both
 * proceed; and a killed run's lock and temporary files are cleaned up by the
 * next run. Every boundary is provoked with a pause point, never raced.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hasStackTrace, runCli } from "../cli/run-cli.js";
import { digitsProgram, readTensors, startCli, tempDir } from "./helpers.js";

const dir = tempDir("out");

const SMALL = digitsProgram({
  model: "Small",
  encoder: "flatten -> dense(8) -> relu",
  decoder: "dense(784) -> sigmoid -> reshape(shape: [1, 28, 28])",
  steps: ["pretrain Small on digits.train { steps: 20, batch: 16, optimizer: adam(lr: 1e-3) }", "test on digits.test { metrics: [mse] }"],
});

const file = join(dir, "small.repr");
writeFileSync(file, SMALL);
const args = (out: string) => ["train", file, "--out", out, "--limit", "100", "--plain"];

/** repr's temporary files in a folder. */
const temporaries = (out: string) => readdirSync(out).filter((n) => n.endsWith(".tmp"));

describe("--out", () => {
  it("refuses an existing file or a device, naming the option", () => {
    const existing = join(dir, "a-file");
    writeFileSync(existing, "mine\n");
    for (const [out, kind] of [
      [existing, "a regular file"],
      ["/dev/full", "a character device"],
      [join(existing, "sub"), "a part of the path is a file"],
    ] as const) {
      const r = runCli(args(out));
      expect(r.stderr).toContain(`error RC809: --out '${out}' cannot hold the run: `);
      expect(r.stderr).toContain(kind);
      expect(r.stderr).not.toSatisfy(hasStackTrace);
      expect(r.status).toBe(1);
    }
  });

  it("turns a checkpoint that cannot be written into a user error, leaving no temporary file and the lock released", async () => {
    const out = join(dir, "blocked");
    const run = startCli(args(out), ["write:1-pretrain.safetensors"]);
    await run.paused("write:1-pretrain.safetensors");
    expect(temporaries(out)).toHaveLength(1);
    // The checkpoint's place is taken by a folder the rename cannot replace.
    mkdirSync(join(out, "1-pretrain.safetensors", "in-the-way"), { recursive: true });
    run.child.kill("SIGINT");
    expect(await run.exited, run.stderr).toBe(1);
    expect(run.stderr).toContain(`error RC802: cannot write '${join(out, "1-pretrain.safetensors")}': `);
    expect(run.stderr).toContain("any previous checkpoint there is unchanged");
    expect(run.stderr).not.toSatisfy(hasStackTrace);
    expect(temporaries(out)).toEqual([]);
    expect(existsSync(join(out, "repr-run.lock"))).toBe(false);
    expect(existsSync(join(out, "1-pretrain.safetensors", "in-the-way"))).toBe(true);
  });
});

describe("two runs into one --out", () => {
  it("refuses the second while the first runs, naming the folder and the first run's pid; the first keeps its run", async () => {
    const out = join(dir, "shared");
    const first = startCli([...args(out), "--checkpoint-every", "0"], ["update:1:5"]);
    await first.paused("update:1:5");
    expect(existsSync(join(out, "resume.safetensors"))).toBe(true);

    const second = runCli(args(out));
    expect(second.stderr).toContain(`error RC810: --out '${out}' is in use by another run (pid ${first.child.pid} on `);
    expect(second.stderr).toContain(join(out, "repr-run.lock"));
    expect(second.stderr).not.toSatisfy(hasStackTrace);
    expect(second.status).toBe(1);

    first.child.kill("SIGINT");
    expect(await first.exited, first.stderr).toBe(130);
    // The first run's resume file is its own, at update 5, not replaced or deleted by the second.
    expect(readTensors(join(out, "resume.safetensors")).size).toBeGreaterThan(0);
    expect(existsSync(join(out, "repr-run.lock"))).toBe(false);
    const resumed = runCli([...args(out), "--resume"]);
    expect(resumed.stderr).toContain("resuming pipeline Train at step 1, update 6");
    expect(resumed.status, resumed.stderr).toBe(0);
  });

  it("after a run is killed mid-write, the next one takes over its lock and removes only repr's orphaned temporary files", async () => {
    const out = join(dir, "killed");
    const first = startCli(args(out), ["write:1-pretrain.safetensors"]);
    await first.paused("write:1-pretrain.safetensors");
    first.child.kill("SIGKILL");
    expect(await first.exited).toBe(137);
    const orphans = temporaries(out);
    expect(orphans).toHaveLength(1);
    expect(existsSync(join(out, "repr-run.lock"))).toBe(true);
    // Files of the user's that look alike but are not repr's temporary files stay.
    const mine = ["notes.tmp", ".notes.tmp", ".draft.abc.tmp"];
    for (const name of mine) writeFileSync(join(out, name), "mine\n");

    const second = runCli(args(out));
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain(`note: taking over ${join(out, "repr-run.lock")}: the run that held it (pid ${first.child.pid}`);
    expect(second.stderr).toContain(`note: removed 1 temporary file left in ${out} by a run that was killed: ${orphans[0]}`);
    expect(temporaries(out).sort()).toEqual([...mine].sort());
    expect(existsSync(join(out, "1-pretrain.safetensors"))).toBe(true);
    expect(existsSync(join(out, "repr-run.lock"))).toBe(false);
  });
});
