/**
 * The windowed training loop (runtime/train/loop.ts, `runWindowedTrainLoop`:
 * what `Model.fit` runs on WebGPU, updates queued on the device and their
 * losses read back per window) against the plain loop: for random sizes,
 * windows, starts and a loss that turns non-finite at a random update, the
 * same updates see the same examples, `onUpdate` sees the same calls, and
 * the result is the same; a window never spans more than `window` updates,
 * and each pass's order is handed over once, with the first update that uses it.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { runTrainLoop, runWindowedTrainLoop, type TrainLoopResult, type WindowUpdate } from "../../runtime/train/loop.js";

/** A permutation of 0 .. n−1 that depends on the pass. */
function order(n: number, pass: number): Int32Array {
  const o = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = (i * 7919 + pass * 104729) % (i + 1);
    [o[i], o[j]] = [o[j]!, o[i]!];
  }
  return o;
}

/** The loss of update t on `examples` (a float32, as a GPU reads it back): finite unless t is `bad`. */
const lossOf = (t: number, examples: readonly number[], bad: number): number => (t === bad ? NaN : Math.fround(t + examples.reduce((a, b) => a + b, 0) / 1000));

describe("runWindowedTrainLoop", () => {
  test("runs the plain loop's updates on the same examples, with the same NaN guard", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 23 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: -1, max: 35 }),
        async (examples, batch, updates, start, window, bad) => {
          const base = { examples, batch, updates, start: Math.min(start, updates), order: (pass: number) => order(examples, pass) };
          const plain: { t: number; loss: number; n: number }[] = [];
          const ran: number[][] = [];
          const want = await runTrainLoop({
            ...base,
            run: (t, indices) => {
              ran[t] = [...indices];
              return Promise.resolve(lossOf(t, [...indices], bad));
            },
            commit: () => undefined,
            onUpdate: (t, loss, n) => void plain.push({ t, loss, n }),
          });
          const seen: { t: number; loss: number; n: number }[] = [];
          let current: Int32Array | null = null;
          const got: TrainLoopResult = await runWindowedTrainLoop({
            ...base,
            window,
            runWindow: (w: readonly WindowUpdate[]) => {
              expect(w.length).toBeGreaterThan(0);
              expect(w.length).toBeLessThanOrEqual(window);
              return Promise.resolve(
                Float32Array.from(w, (u) => {
                  if (u.order !== null) current = u.order;
                  const indices = [...current!.subarray(u.begin, u.end)];
                  // Every update the plain loop ran sees the same examples.
                  if (ran[u.t] !== undefined) expect(indices).toEqual(ran[u.t]);
                  return lossOf(u.t, indices, bad);
                }),
              );
            },
            onUpdate: (t, loss, n) => void seen.push({ t, loss, n }),
          });
          expect(got).toEqual(want);
          expect(seen).toEqual(plain);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("sees a stop between windows: the updates of the window in flight are applied and reported", async () => {
    const seen: number[] = [];
    let stop = false;
    const result = await runWindowedTrainLoop({
      examples: 10,
      batch: 2,
      updates: 20,
      start: 0,
      order: (pass) => order(10, pass),
      window: 4,
      runWindow: (w) => Promise.resolve(Float32Array.from(w, (u) => u.t)),
      onUpdate: (t) => {
        seen.push(t);
        if (t === 5) stop = true;
      },
      shouldStop: () => stop,
    });
    expect(result).toEqual({ kind: "stopped", next: 8 });
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test("refuses a window that is not a whole number ≥ 1", async () => {
    const base = { examples: 4, batch: 2, updates: 2, start: 0, order: (p: number) => order(4, p), runWindow: () => Promise.resolve(new Float32Array(0)) };
    await expect(runWindowedTrainLoop({ ...base, window: 0 })).rejects.toThrow("window must be a whole number ≥ 1, got 0");
  });
});
