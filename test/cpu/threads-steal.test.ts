/**
 * A pool whose workers never run (as on a machine with more busy threads than
 * cores, where a worker may not be scheduled for a while): the caller runs
 * every part no worker has claimed, so each call completes, on the calling
 * thread, with the same bits as one thread (`threads.ts`). Without that the
 * run would wait for the workers forever.
 */
import { describe, expect, it } from "vitest";
import { compileCpu } from "../../runtime/backends/cpu/index.js";
import { installThreadHost, type WorkerMessage } from "../../runtime/backends/cpu/threads.js";
import { outputBits, splitWorkload } from "./split-workload.js";

describe("threads whose workers are never scheduled", () => {
  it("every split call completes on the calling thread with the bits of one thread", () => {
    const started: number[] = [];
    const posted: WorkerMessage[] = [];
    installThreadHost({
      start(index) {
        started.push(index);
        return { postMessage: (m) => void posted.push(m) };
      },
    });
    const { kg, feeds } = splitWorkload();
    const want = outputBits(compileCpu(kg, { threads: 1 }).run(feeds, {}));
    const exe = compileCpu(kg, { threads: 3 });
    expect(exe.threads).toBe(3);
    const got = outputBits(exe.run(feeds, {}));
    expect(exe.splitCalls).toBeGreaterThan(0);
    expect(started).toEqual([1, 2]);
    // Each worker was sent the executable's module, and never ran.
    expect(posted.filter((p) => "id" in p)).toHaveLength(2);
    expect(got).toEqual(want);
  });
});
