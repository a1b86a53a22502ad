/**
 * A host whose workers announce each executable they have instantiated
 * (`announcesReady`, as Web Workers do: they read messages only from their
 * event loop): the caller posts a worker parts only of executables it has
 * announced (it raises and notifies the worker's task flag), and runs the
 * others itself. These workers never run: each call completes on the calling
 * thread with the bits of one thread. (Real workers: `web-threads.test.ts`,
 * in Chromium.)
 */
import { describe, expect, it, vi } from "vitest";
import { compileCpu } from "../../runtime/backends/cpu/index.js";
import { installThreadHost, MAX_THREADS, READY, REMAINING, TASK, workerParts, type WorkerMessage } from "../../runtime/backends/cpu/threads.js";
import { outputBits, splitWorkload } from "./split-workload.js";

describe("threads whose workers have not announced the executable", () => {
  it("are posted no part: every split call runs on the calling thread with the bits of one thread", () => {
    const posted: WorkerMessage[] = [];
    let control: Int32Array | undefined;
    installThreadHost({
      announcesReady: true,
      start(_index, c) {
        control = c;
        // A raised task flag here would be a part posted to a worker that cannot run it.
        return { postMessage: (m) => void posted.push(m) };
      },
    });
    const { kg, feeds } = splitWorkload();
    const want = outputBits(compileCpu(kg, { threads: 1 }).run(feeds, {}));
    // The task flags notified (1 ‥ MAX_THREADS − 1: a part posted to that worker).
    const notify = vi.spyOn(Atomics, "notify");
    const postedTo = () => notify.mock.calls.flatMap(([, index]) => (index >= TASK && index < TASK + MAX_THREADS ? [index - TASK] : []));
    try {
      // Neither worker has announced the executable: nothing is posted.
      const exe = compileCpu(kg, { threads: 3 });
      expect(exe.threads).toBe(3);
      expect(outputBits(exe.run(feeds, {}))).toEqual(want);
      expect(exe.splitCalls).toBeGreaterThan(0);
      expect(posted.filter((p) => "id" in p)).toHaveLength(2);
      expect(postedTo()).toEqual([]);
      // Worker 2 announces the next executable (ids count up from 1); worker 1 does not: only worker 2 is posted parts, and the caller takes them back.
      notify.mockClear();
      Atomics.store(control!, READY + 2, 2);
      const next = compileCpu(kg, { threads: 3 });
      expect(outputBits(next.run(feeds, {}))).toEqual(want);
      expect(next.splitCalls).toBeGreaterThan(0);
      expect(new Set(postedTo())).toEqual(new Set([2]));
      expect(workerParts()).toBe(0);
      expect(Atomics.load(control!, REMAINING)).toBe(0);
      for (let t = 0; t < MAX_THREADS; t++) expect(control![TASK + t], `task flag ${t}`).toBe(0);
    } finally {
      notify.mockRestore();
    }
  });
});
