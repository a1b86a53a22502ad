import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CheckpointError } from "../../runtime/checkpoint/errors.js";
import {
  nodeFileSystem,
  readCheckpoint,
  writeCheckpointAtomic,
  type CheckpointFileSystem,
  type WritableFile,
} from "../../runtime/checkpoint/files.js";
import { encodeSafetensors } from "../../runtime/checkpoint/safetensors.js";

/**
 * How this machine can make a directory refuse new files: `chmod` for an
 * ordinary user; as root, which ignores permissions, the immutable attribute
 * (`chattr +i`), where the file system and the container allow it.
 */
const readOnly: { how: "chmod" | "chattr" | null; why: string } = (() => {
  if (process.getuid?.() !== 0) return { how: "chmod", why: "" };
  const probe = mkdtempSync(join(tmpdir(), "repr-probe-"));
  try {
    const set = spawnSync("chattr", ["+i", probe]);
    if (set.status !== 0) return { how: null, why: "running as root, which ignores permissions, and chattr +i is not available" };
    spawnSync("chattr", ["-i", probe]);
    return { how: "chattr", why: "" };
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

function setReadOnly(path: string, on: boolean): void {
  if (readOnly.how === "chattr") spawnSync("chattr", [on ? "+i" : "-i", path]);
  else chmodSync(path, on ? 0o555 : 0o755);
}

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "repr-checkpoint-"));
});
afterEach(async () => {
  if (readOnly.how !== null) setReadOnly(dir, false);
  await rm(dir, { recursive: true, force: true });
});

const checkpoint = (value: number): Uint8Array =>
  encodeSafetensors(new Map([["f.0.weight", { dtype: "F32", shape: [2, 2], data: new Float32Array([value, 1, 2, 3]) }]]), {
    "repr.step": String(value),
  });

/** An errno-style error, as Node's file system throws. */
function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

type Step = "open" | "write" | "write-partly" | "sync" | "close" | "rename";

/** Node's file system, failing at one step of the atomic write (after doing part of it, for `write-partly`). */
function failingAt(step: Step, code = "ENOSPC"): CheckpointFileSystem {
  const fail = () => errno(code, "injected failure");
  return {
    ...nodeFileSystem,
    async open(path, flags) {
      if (step === "open" && flags === "wx") throw fail();
      const file = await nodeFileSystem.open(path, flags);
      const wrapped: WritableFile = {
        async write(buffer, offset, length, position) {
          if (step === "write") throw fail();
          if (step === "write-partly") {
            if (position > 0) throw fail();
            return file.write(buffer, offset, Math.min(length, 5), position);
          }
          return file.write(buffer, offset, length, position);
        },
        async sync() {
          if (step === "sync" && flags === "wx") throw fail();
          return file.sync();
        },
        async close() {
          await file.close();
          if (step === "close" && flags === "wx") throw fail();
        },
      };
      return wrapped;
    },
    async rename(from, to) {
      if (step === "rename") throw fail();
      return nodeFileSystem.rename(from, to);
    },
  };
}

describe("writeCheckpointAtomic", () => {
  it("writes the bytes, replaces an older checkpoint, and leaves no temporary file", async () => {
    const path = join(dir, "model.safetensors");
    await writeCheckpointAtomic(path, checkpoint(1));
    await writeCheckpointAtomic(path, checkpoint(2));
    expect(new Uint8Array(await readFile(path))).toEqual(checkpoint(2));
    expect(await readdir(dir)).toEqual(["model.safetensors"]);
    const { tensors, metadata } = await readCheckpoint(path);
    expect(tensors.get("f.0.weight")!.data[0]).toBe(2);
    expect(metadata).toEqual({ "repr.step": "2" });
  });

  it("finishes a write that the file system takes a few bytes at a time", async () => {
    const path = join(dir, "slow.safetensors");
    const trickle: CheckpointFileSystem = {
      ...nodeFileSystem,
      async open(p, flags) {
        const file = await nodeFileSystem.open(p, flags);
        return { ...file, write: (b, o, l, pos) => file.write(b, o, Math.min(l, 3), pos), sync: () => file.sync(), close: () => file.close() };
      },
    };
    await writeCheckpointAtomic(path, checkpoint(7), trickle);
    expect(new Uint8Array(await readFile(path))).toEqual(checkpoint(7));
  });

  it.each<Step>(["open", "write", "write-partly", "sync", "close", "rename"])(
    "keeps the old checkpoint and removes its temporary file when %s fails",
    async (step) => {
      const path = join(dir, "model.safetensors");
      await writeCheckpointAtomic(path, checkpoint(1));
      const error = await writeCheckpointAtomic(path, checkpoint(2), failingAt(step)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as CheckpointError).kind).toBe("io");
      expect((error as Error).message).toBe(
        `${path}: cannot write the checkpoint: no space left on the device; any previous checkpoint there is unchanged`,
      );
      expect(new Uint8Array(await readFile(path))).toEqual(checkpoint(1));
      expect(await readdir(dir)).toEqual(["model.safetensors"]);
    },
  );

  it("creates nothing when the first write fails and there was no checkpoint", async () => {
    const path = join(dir, "new.safetensors");
    await expect(writeCheckpointAtomic(path, checkpoint(1), failingAt("write-partly"))).rejects.toThrow(CheckpointError);
    expect(await readdir(dir)).toEqual([]);
  });

  it("reports a file system that stops accepting bytes", async () => {
    const stuck: CheckpointFileSystem = {
      ...nodeFileSystem,
      async open(p, flags) {
        const file = await nodeFileSystem.open(p, flags);
        return { write: async () => ({ bytesWritten: 0 }), sync: () => file.sync(), close: () => file.close() };
      },
    };
    const path = join(dir, "stuck.safetensors");
    await expect(writeCheckpointAtomic(path, checkpoint(1), stuck)).rejects.toThrow(/the write stopped after 0 of \d+ bytes/);
    expect(await readdir(dir)).toEqual([]);
  });

  it("says which directory is missing", async () => {
    const path = join(dir, "no", "such", "model.safetensors");
    await expect(writeCheckpointAtomic(path, checkpoint(1))).rejects.toThrow(
      `${path}: cannot write the checkpoint: the directory '${join(dir, "no", "such")}' does not exist`,
    );
  });

  it("refuses to replace a directory, and cleans up", async () => {
    const path = join(dir, "taken");
    await mkdir(path);
    await writeFile(join(path, "keep"), "x");
    await expect(writeCheckpointAtomic(path, checkpoint(1))).rejects.toThrow(`${path}: cannot write the checkpoint: '${path}' is a directory`);
    expect((await readdir(dir)).sort()).toEqual(["taken"]);
    expect(await readdir(path)).toEqual(["keep"]);
  });

  it.skipIf(readOnly.how === null)(
    `keeps the old checkpoint in a read-only directory${readOnly.how === null ? ` (skipped: ${readOnly.why})` : ` (made read-only with ${readOnly.how})`}`,
    async () => {
      const path = join(dir, "model.safetensors");
      await writeCheckpointAtomic(path, checkpoint(1));
      setReadOnly(dir, true);
      try {
        const error = await writeCheckpointAtomic(path, checkpoint(2)).catch((e: unknown) => e);
        expect((error as Error).message).toBe(
          `${path}: cannot write the checkpoint: permission denied; any previous checkpoint there is unchanged`,
        );
      } finally {
        setReadOnly(dir, false);
      }
      expect(new Uint8Array(await readFile(path))).toEqual(checkpoint(1));
      expect(await readdir(dir)).toEqual(["model.safetensors"]);
    },
  );

  it("leaves one whole checkpoint when several writes race", async () => {
    const path = join(dir, "race.safetensors");
    await Promise.all([1, 2, 3, 4, 5].map((v) => writeCheckpointAtomic(path, checkpoint(v))));
    const { tensors } = await readCheckpoint(path);
    expect([1, 2, 3, 4, 5]).toContain(tensors.get("f.0.weight")!.data[0]);
    expect(await readdir(dir)).toEqual(["race.safetensors"]);
  });
});

describe("readCheckpoint", () => {
  it("names a missing file", async () => {
    const path = join(dir, "missing.safetensors");
    await expect(readCheckpoint(path)).rejects.toThrow(`${path}: cannot read the checkpoint: no such file`);
  });

  it("names a directory", async () => {
    await expect(readCheckpoint(dir)).rejects.toThrow(`${dir}: cannot read the checkpoint: it is a folder, not a regular file`);
  });

  it("refuses a FIFO at once instead of waiting for a writer", async () => {
    const path = join(dir, "pipe.safetensors");
    spawnSync("mkfifo", [path]);
    await expect(readCheckpoint(path)).rejects.toThrow(`${path}: cannot read the checkpoint: it is a FIFO (named pipe), not a regular file`);
  });

  it("reports a damaged file by its path", async () => {
    const path = join(dir, "cut.safetensors");
    await writeFile(path, checkpoint(1).subarray(0, 50));
    const error = await readCheckpoint(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).kind).toBe("header-length");
    expect((error as Error).message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: the header length says`));
  });
});
