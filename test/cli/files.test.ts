/**
 * Files and options (issue 10, item 4): a closed output pipe, a FIFO in place
 * of a source, unreadable files under `check --json`, and imports that lead
 * out of the project. Each case failed before: a stack trace, a hang, no JSON
 * at all, or the lines of a file outside the project echoed in a diagnostic.
 */
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { execFileSync, spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hasStackTrace, repoRoot, runCli } from "./run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "repr-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MODEL = `model M {
  input x: f32[4]
  encoder f = dense(4)
  loss l = mse(f(x), x)
}
`;

/** Makes a FIFO (named pipe); nothing ever writes to it, so a reader that opens it waits forever. */
function fifo(path: string): string {
  execFileSync("mkfifo", [path]);
  return path;
}

/**
 * A write end of a pipe whose read end is already closed: any write to it
 * fails with EPIPE, the same as `repr ... | head -1` once head has exited,
 * but decided before the CLI starts instead of raced.
 */
function closedPipe(): number {
  const path = fifo(join(mkdtempSync(join(dir, "pipe-")), "p"));
  const reader = openSync(path, "r+"); // read-write: opening does not wait for the other end
  const writer = openSync(path, "w");
  closeSync(reader);
  return writer;
}

/** Runs the CLI with stdout or stderr going to a closed pipe. */
function runClosed(args: readonly string[], which: "stdout" | "stderr"): { status: number | null; other: string } {
  const fd = closedPipe();
  try {
    const stdio = which === "stdout" ? (["ignore", fd, "pipe"] as const) : (["ignore", "pipe", fd] as const);
    const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "cli", "main.ts"), ...args], { cwd: repoRoot, stdio: [...stdio], encoding: "utf8", timeout: 60_000 });
    return { status: r.status, other: (which === "stdout" ? r.stderr : r.stdout) ?? "" };
  } finally {
    closeSync(fd);
  }
}

describe("a closed output pipe", () => {
  const file = join(dir, "m.repr");
  writeFileSync(file, MODEL);

  it("ends `check --shapes` quietly with 141 (SIGPIPE's status), no stack trace", () => {
    const r = runClosed(["check", "--shapes", file], "stdout");
    expect(r.other).toBe("");
    expect(r.status).toBe(141);
  });

  it("ends quietly when stderr is closed while reporting errors", () => {
    const bad = join(dir, "bad.repr");
    writeFileSync(bad, "model M {\n  input x: f32[4]\n  encoder f = nope(4)\n}\n");
    const r = runClosed(["check", bad], "stderr");
    expect(r.other).not.toSatisfy(hasStackTrace);
    expect(r.status).toBe(141);
  });

  it("stops a training run whose output closes as a signal would: its resume checkpoint written, its folder unlocked", () => {
    const model = join(dir, "train.repr");
    writeFileSync(
      model,
      `${MODEL.replace("model M", "model T")}\ndata rows {\n  x: f32[4]\n}\n\npipeline P {\n  pretrain T on rows.train { steps: 50, batch: 4 }\n}\n`,
    );
    const csv = join(dir, "rows.csv");
    writeFileSync(csv, "x_0,x_1,x_2,x_3\n" + Array.from({ length: 20 }, (_, i) => `${i},1,2,3`).join("\n") + "\n");
    const out = join(dir, "closed-run");
    const r = runClosed(["train", model, "--data", `rows=${csv}`, "--out", out, "--plain"], "stderr");
    expect(r.status).toBe(141);
    expect(existsSync(join(out, "resume.safetensors"))).toBe(true);
    expect(existsSync(join(out, "repr-run.lock"))).toBe(false);
    const resumed = runCli(["train", model, "--data", `rows=${csv}`, "--out", out, "--plain", "--resume"]);
    expect(resumed.stderr).toContain("resuming pipeline P");
    expect(resumed.status, resumed.stderr).toBe(0);
  });

  it("reports output that cannot be written (a full disk) as a user error", () => {
    const out = openSync("/dev/full", "w");
    try {
      const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "cli", "main.ts"), "check", "--shapes", file], { cwd: repoRoot, stdio: ["ignore", out, "pipe"], encoding: "utf8", timeout: 60_000 });
      expect(r.stderr).toContain("error RC802: cannot write 'standard output': no space left on the device");
      expect(r.stderr).not.toSatisfy(hasStackTrace);
      expect(r.status).toBe(1);
    } finally {
      closeSync(out);
    }
  });
});

describe("files that are not regular files", () => {
  it("refuses a FIFO named as the entry file, instead of waiting on it forever", () => {
    const path = fifo(join(dir, "entry-fifo.repr"));
    const r = runCli(["check", path]);
    expect(r.stderr).toContain(`error RC808: cannot read '${path}': it is a FIFO (named pipe), not a regular file`);
    expect(r.status).toBe(1);
  });

  it("refuses an imported FIFO at the import", () => {
    const sub = join(dir, "fifo-import");
    mkdirSync(sub);
    fifo(join(sub, "x.repr"));
    writeFileSync(join(sub, "main.repr"), `import "./x"\n${MODEL}`);
    const r = runCli(["check", join(sub, "main.repr")]);
    expect(r.stderr).toContain(`main.repr:1:8: error RC808: cannot read '${join(sub, "x.repr")}': it is a FIFO (named pipe), not a regular file`);
    expect(r.status).toBe(1);
  });

  it("refuses a folder named as a source", () => {
    const r = runCli(["check", dir]);
    expect(r.stderr).toContain(`error RC808: cannot read '${dir}': it is a folder, not a regular file`);
    expect(r.status).toBe(1);
  });
});

describe("check --json with files that cannot be read", () => {
  it("prints valid JSON with every file's diagnostics, each unreadable file one of them", () => {
    const sub = join(dir, "json");
    mkdirSync(sub);
    const good = join(sub, "good.repr");
    const bad = join(sub, "bad.repr");
    const latin1 = join(sub, "latin1.repr");
    const missing = join(sub, "missing.repr");
    writeFileSync(good, MODEL);
    writeFileSync(bad, "model M {\n  input x: f32[4]\n  encoder f = nope(4)\n  loss l = mse(f(x), x)\n}\n");
    writeFileSync(latin1, Buffer.from([0x2f, 0x2f, 0x20, 0xe9, 0x0a]));
    const r = runCli(["check", "--json", good, missing, bad, latin1]);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; diagnostics: { file: string; code: string; line: number; message: string }[] };
    expect(report.ok).toBe(false);
    const byFile = new Map(report.diagnostics.map((d) => [d.file, d]));
    expect(byFile.get(missing)).toMatchObject({ code: "RC801", line: 1, message: `cannot read '${missing}': no such file or directory` });
    expect(byFile.get(latin1)).toMatchObject({ code: "RC803", line: 1 });
    expect(byFile.get(bad)).toMatchObject({ code: "RC201", line: 3 });
    expect(byFile.has(good)).toBe(false);
    expect(r.stderr).toBe("");
  });

  it("without --json, reports the unreadable file and still checks the others", () => {
    const bad = join(dir, "json", "bad.repr");
    const r = runCli(["check", join(dir, "json", "missing.repr"), bad]);
    expect(r.stderr).toContain("error RC801: cannot read");
    expect(r.stderr).toContain(`${bad}:3:15: error RC201`);
    expect(r.stderr).toContain("checked 2 files: 2 errors");
    expect(r.status).toBe(1);
  });
});

describe("imports stay inside the project", () => {
  // proj/ is a project (it has a package.json); outside/ is not part of it.
  const proj = join(dir, "proj");
  const outside = join(dir, "outside");
  mkdirSync(join(proj, "models"), { recursive: true });
  mkdirSync(join(proj, "shared"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(proj, "package.json"), "{}\n");
  writeFileSync(join(proj, "shared", "blocks.repr"), "block wide() {\n  dense(4)\n}\n");
  const secret = join(outside, "secret.repr");
  writeFileSync(secret, "block leaked() {\n  dense(4)\n}\nthis line is private and must not be shown\n");
  symlinkSync(secret, join(proj, "models", "link.repr"));
  const main = (name: string, imports: string) => {
    const path = join(proj, "models", name);
    writeFileSync(path, `${imports}\n${MODEL}`);
    return path;
  };

  it("allows imports anywhere under the project folder, and the standard library", () => {
    const r = runCli(["check", main("ok.repr", 'import { wide } from "../shared/blocks"\nimport { mlp } from "std"')]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("refuses a relative path, an absolute path and a symlink that lead outside, and shows nothing of the file", () => {
    const file = main("out.repr", `import "../../outside/secret"\nimport "${secret}"\nimport "./link"`);
    const r = runCli(["check", file]);
    expect(r.status).toBe(1);
    const errors = r.stderr.split("\n").filter((l) => l.includes("error RC230"));
    expect(errors).toHaveLength(3);
    expect(errors[0]).toContain(`out.repr:1:8: error RC230: '../../outside/secret' leads outside the project folder '${proj}' (to '${secret}')`);
    expect(errors[2]).toContain(`out.repr:3:8: error RC230: './link' leads outside the project folder '${proj}' (to '${secret}')`);
    expect(r.stderr).not.toContain("private");
  });

  it("refuses a path outside whether or not the file exists, so a refusal tells nothing about outside files", () => {
    const r = runCli(["check", main("probe.repr", 'import "/etc/no-such-file"\nimport "/etc/passwd"')]);
    expect(r.stderr.match(/error RC230/g)).toHaveLength(2);
    expect(r.stderr).not.toContain("RC204");
    expect(r.stderr).not.toContain("root:");
  });

  it("follows them with --allow-import-outside", () => {
    const file = main("allowed.repr", `import { leaked } from "../../outside/secret"`);
    expect(runCli(["check", file]).stderr).toContain("RC230");
    const r = runCli(["check", "--allow-import-outside", file]);
    // The outside file is read now: its last line is a syntax error of that file.
    expect(r.stderr).not.toContain("RC230");
    expect(r.stderr).toContain(`${secret}:4:`);
  });

  it("without a package.json above, the project folder is the entry file's own folder", () => {
    const loose = mkdtempSync(join(tmpdir(), "repr-loose-"));
    try {
      mkdirSync(join(loose, "a"));
      writeFileSync(join(loose, "lib.repr"), "block wide() {\n  dense(4)\n}\n");
      writeFileSync(join(loose, "a", "main.repr"), `import { wide } from "../lib"\n${MODEL}`);
      writeFileSync(join(loose, "main.repr"), `import { wide } from "./lib"\n${MODEL}`);
      expect(runCli(["check", join(loose, "a", "main.repr")]).stderr).toContain(`RC230: '../lib' leads outside the project folder '${join(loose, "a")}'`);
      expect(runCli(["check", join(loose, "main.repr")]).status).toBe(0);
    } finally {
      rmSync(loose, { recursive: true, force: true });
    }
  });
});
