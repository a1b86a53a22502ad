/**
 * A worker whose part of a call throws (here a WebAssembly trap) does not
 * leave the calling thread waiting forever: it still counts down, and the
 * call throws an error naming the thread and the function (`threads.ts`,
 * FAILED). With real worker_threads (the Node entry's host).
 */
import { describe, expect, it } from "vitest";
import "../../runtime/node.js";
import { threaded, threadsAvailable, workerParts } from "../../runtime/backends/cpu/threads.js";
import { wasmApi } from "../../runtime/backends/cpu/wasm.js";

/** A module exporting `trap(start, end)`, which traps (`unreachable`). */
const TRAPPING = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  // types: (i32, i32) -> ()
  0x01, 0x06, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x00,
  // functions: one, of type 0
  0x03, 0x02, 0x01, 0x00,
  // exports: "trap" = function 0
  0x07, 0x08, 0x01, 0x04, 0x74, 0x72, 0x61, 0x70, 0x00, 0x00,
  // code: no locals, unreachable, end
  0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b,
]);

describe("a worker whose part throws", () => {
  it("makes the call throw, naming the thread and the function, instead of hanging", () => {
    expect(threadsAvailable()).toBe(true);
    const api = wasmApi()!;
    const memory = new (api.Memory as new (d: { initial: number; maximum: number; shared: boolean }) => object)({ initial: 1, maximum: 1, shared: true });
    const pool = threaded(new api.Module(TRAPPING), memory, ["trap"], 2, 0)!;
    expect(pool.threads).toBe(2);
    const call = { fn: 0, args: [], range: 1 << 20, unit: 1, scratch: false, work: 1 };
    // Twice: the worker lives on, and each call reports its own failure.
    for (let i = 0; i < 2; i++) {
      const before = workerParts();
      // The calling thread's part waits until the worker has run its own (so the caller cannot take it back).
      const local = (start: number) => {
        if (start !== 0) throw new Error("the caller took the worker's part");
        while (workerParts() === before) continue;
      };
      expect(() => pool.call(local, call)).toThrow(/^CPU worker thread 1 failed running its part of trap \(its error is in the worker's console\)$/);
    }
  }, 60_000);
});
