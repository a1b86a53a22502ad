/**
 * The training loop (runtime/train/loop.ts) driving a real, hand-written
 * linear-regression step graph: which examples each update sees, the update
 * counter, resuming, the stop on a non-finite loss, interrupts and pauses.
 */
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { batchOf, NEW_PREFIX, runTrainLoop, type TrainLoopOptions, type TrainLoopResult } from "../../runtime/train/loop.js";
import type { TensorStore } from "../../runtime/train/store.js";
import type { Executable } from "../../runtime/backends/backend.js";
import { dataset, enumerateBatches, executableFor, gather, initialStore, LR, permutation, simulate, type BackendName } from "./regression.js";

/** What one loop run did. */
interface Trace {
  result: TrainLoopResult;
  /** The examples of each executed batch, in order. */
  batches: number[][];
  /** The passes `order` was asked for, in order. */
  orders: number[];
  /** The `step` fed at each run of the executable. */
  steps: number[];
  /** The batch sizes `executable` was asked for. */
  sizes: number[];
  /** onUpdate's arguments. */
  updates: { t: number; loss: number; examples: number }[];
}

type Overrides = Partial<Omit<TrainLoopOptions, "store">> & { backend?: BackendName; withStep?: boolean; y?: Float32Array };

/** Runs the loop over `examples` of the regression data on `store`, recording everything. */
async function train(store: TensorStore, examples: number, batch: number, updates: number, o: Overrides = {}): Promise<Trace> {
  const data = dataset(examples);
  if (o.y) data.y.set(o.y);
  const trace: Trace = { result: { kind: "done", next: -1 }, batches: [], orders: [], steps: [], sizes: [], updates: [] };
  const backend = o.backend ?? "reference";
  const withStep = o.withStep ?? true;
  const { backend: _b, withStep: _w, y: _y, ...rest } = o;
  trace.result = await runTrainLoop({
    examples,
    batch,
    updates,
    start: 0,
    order: (pass) => {
      trace.orders.push(pass);
      return permutation(examples, pass);
    },
    executable: (size): Executable => {
      trace.sizes.push(size);
      const e = executableFor(backend, size, withStep);
      return {
        graph: e.graph,
        run: (feeds, params) => {
          const step = (feeds as Record<string, { data: ArrayLike<number> }>)["step"];
          trace.steps.push(step ? step.data[0]! : NaN);
          return e.run(feeds, params);
        },
      };
    },
    batchFeeds: (indices) => {
      trace.batches.push([...indices]);
      return gather(data, indices);
    },
    fixedFeeds: { lr: { shape: [], data: Float32Array.of(LR) } },
    stepInput: withStep ? "step" : null,
    store,
    onUpdate: (t, loss, n) => void trace.updates.push({ t, loss, examples: n }),
    ...rest,
  });
  return trace;
}

/** The store's tensors as plain arrays, for exact comparison. */
function snapshot(store: TensorStore): Record<string, number[]> {
  return Object.fromEntries(store.names().map((n) => [n, [...store.get(n)!.data]]));
}

/** Expects |a − e| ≤ tol·(1 + |e|) elementwise. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i]! - expected[i]!) <= tol * (1 + Math.abs(expected[i]!)))) expect.fail(`element ${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}

describe("batchOf", () => {
  test("walks the passes batch by batch, the last batch of a pass smaller (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 120 }), (examples, batch, updates) => {
        for (const e of enumerateBatches(examples, batch, updates)) {
          expect(batchOf(e.t, examples, batch), `t = ${e.t}`).toEqual({ pass: e.pass, begin: e.begin, end: e.end });
        }
      }),
      { numRuns: 300 },
    );
  });

  test("each pass's batches tile 0 … N−1 exactly once (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 0, max: 5 }), (examples, batch, pass) => {
        const perPass = Math.ceil(examples / batch);
        const seen = new Array<number>(examples).fill(0);
        for (let t = pass * perPass; t < (pass + 1) * perPass; t++) {
          const at = batchOf(t, examples, batch);
          expect(at.pass).toBe(pass);
          expect(at.end - at.begin).toBe(t === (pass + 1) * perPass - 1 ? examples - (perPass - 1) * batch : batch);
          for (let i = at.begin; i < at.end; i++) seen[i]!++;
        }
        expect(seen.every((n) => n === 1)).toBe(true);
      }),
    );
  });

  test("hand case: 10 examples in batches of 4", () => {
    expect([0, 1, 2, 3, 5].map((t) => batchOf(t, 10, 4))).toEqual([
      { pass: 0, begin: 0, end: 4 },
      { pass: 0, begin: 4, end: 8 },
      { pass: 0, begin: 8, end: 10 },
      { pass: 1, begin: 0, end: 4 },
      { pass: 1, begin: 8, end: 10 },
    ]);
  });
});

describe("runTrainLoop", () => {
  test("visits every example once per pass, in each pass's order, and applies every update", async () => {
    const store = initialStore();
    const w0 = [...store.get("w")!.data];
    const trace = await train(store, 10, 4, 9);
    expect(trace.result).toEqual({ kind: "done", next: 9 });
    expect(trace.orders).toEqual([0, 1, 2]);
    expect(trace.batches.map((b) => b.length)).toEqual([4, 4, 2, 4, 4, 2, 4, 4, 2]);
    expect(trace.sizes).toEqual([4, 4, 2, 4, 4, 2, 4, 4, 2]);
    for (let pass = 0; pass < 3; pass++) {
      const seen = trace.batches.slice(3 * pass, 3 * pass + 3).flat();
      expect(seen).toEqual([...permutation(10, pass)]);
      expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    expect(trace.steps).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(trace.updates.map((u) => [u.t, u.examples])).toEqual(trace.batches.map((b, t) => [t, b.length]));
    // The numbers: the same step in plain float64 arithmetic, rounded to the store's float32.
    const expected = simulate(dataset(10), w0, 10, 4, 9);
    expectClose(store.get("w")!.data, expected.w, 1e-5);
    expectClose(trace.updates.map((u) => u.loss), expected.losses, 1e-5);
    expect([...store.get("count")!.data]).toEqual([9]);
    // And training reduced the loss.
    expect(trace.updates[8]!.loss).toBeLessThan(trace.updates[0]!.loss);
  });

  test("the batches of any window start … T−1 follow batchOf and the pass orders (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 14 }), fc.integer({ min: 0, max: 20 }), fc.nat(), async (examples, batch, updates, s) => {
        const start = s % (updates + 1);
        const store = initialStore();
        const trace = await train(store, examples, batch, updates, { start });
        const expected = enumerateBatches(examples, batch, updates, start);
        expect(trace.result).toEqual({ kind: "done", next: updates });
        expect(trace.batches).toEqual(expected.map((e) => [...permutation(examples, e.pass).subarray(e.begin, e.end)]));
        expect(trace.orders).toEqual([...new Set(expected.map((e) => e.pass))]);
        expect(trace.steps).toEqual(expected.map((e) => e.t));
        expect(trace.updates.map((u) => u.t)).toEqual(expected.map((e) => e.t));
        expect(store.get("count")!.data[0]).toBe(expected.length);
      }),
      { numRuns: 60 },
    );
  });

  for (const backend of ["reference", "cpu"] as const) {
    test(`${backend}: running 0 … k, then k … T on the same state equals running 0 … T, bit for bit (property)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 14 }), fc.nat(), async (examples, batch, updates, kk) => {
          const k = kk % (updates + 1);
          const whole = initialStore();
          const all = await train(whole, examples, batch, updates, { backend });
          expect(all.result).toEqual({ kind: "done", next: updates });

          // Interrupted after k updates, the state saved (cloned) and resumed from there.
          const first = initialStore();
          let applied = 0;
          const a = await train(first, examples, batch, updates, { backend, shouldStop: () => applied === k, onUpdate: () => void applied++ });
          expect(a.result).toEqual(k < updates ? { kind: "stopped", next: k } : { kind: "done", next: updates });
          const resumed = first.clone();
          const b = await train(resumed, examples, batch, updates, { backend, start: a.result.next });
          expect(b.result).toEqual({ kind: "done", next: updates });

          expect(snapshot(resumed)).toEqual(snapshot(whole));
          expect(new Uint8Array((resumed.get("w")!.data as Float32Array).buffer)).toEqual(new Uint8Array((whole.get("w")!.data as Float32Array).buffer));
          expect([...a.batches, ...b.batches]).toEqual(all.batches);
          expect([...a.steps, ...b.steps]).toEqual(all.steps);
          expect(b.updates.map((u) => u.loss)).toEqual(all.updates.slice(k).map((u) => u.loss));
        }),
        { numRuns: 40 },
      );
    });
  }

  test("cpu and reference agree on the trained weights", async () => {
    const ref = initialStore();
    const cpu = initialStore();
    await train(ref, 7, 3, 10, { backend: "reference" });
    await train(cpu, 7, 3, 10, { backend: "cpu" });
    expectClose(cpu.get("w")!.data, ref.get("w")!.data, 1e-5);
  });

  for (const bad of [NaN, Infinity]) {
    test(`a ${bad} loss stops before its update: the store holds the last good state`, async () => {
      const examples = 10;
      const batch = 3;
      const poisoned = 7;
      const y = dataset(examples).y;
      y[poisoned] = bad;
      // The first update whose batch holds the poisoned example.
      const first = enumerateBatches(examples, batch, 100).find((e) => [...permutation(examples, e.pass).subarray(e.begin, e.end)].includes(poisoned))!.t;
      expect(first).toBeGreaterThan(0);
      const store = initialStore();
      const trace = await train(store, examples, batch, 100, { y });
      expect(trace.result.kind).toBe("nonfinite");
      expect(trace.result.next).toBe(first);
      expect((trace.result as { loss: number }).loss).toBe(bad);
      expect(trace.updates.map((u) => u.t)).toEqual(Array.from({ length: first }, (_, t) => t));
      expect(trace.updates.every((u) => Number.isFinite(u.loss))).toBe(true);
      // Exactly the state after updates 0 … first−1.
      const good = initialStore();
      await train(good, examples, batch, first);
      expect(snapshot(store)).toEqual(snapshot(good));
      expect(store.get("count")!.data[0]).toBe(first);
    });
  }

  test("a non-finite loss at the very first update leaves the store untouched", async () => {
    const y = dataset(4).y;
    y.fill(NaN);
    const store = initialStore();
    const before = snapshot(store);
    const trace = await train(store, 4, 2, 5, { y, start: 2 });
    expect(trace.result.kind).toBe("nonfinite");
    expect(trace.result.next).toBe(2);
    expect(snapshot(store)).toEqual(before);
  });

  test("shouldStop stops between updates with the next update to run", async () => {
    for (const [start, after] of [[0, 0], [0, 4], [3, 2], [5, 0]] as const) {
      const store = initialStore();
      const before = snapshot(store);
      let checks = 0;
      const trace = await train(store, 6, 4, 12, { start, shouldStop: () => checks++ === after });
      expect(trace.result).toEqual({ kind: "stopped", next: start + after });
      expect(trace.updates.map((u) => u.t)).toEqual(Array.from({ length: after }, (_, i) => start + i));
      if (after === 0) {
        expect(snapshot(store)).toEqual(before);
        expect(trace.sizes).toEqual([]);
      }
      expect(store.get("count")!.data[0]).toBe(after);
    }
  });

  test("onPause is called between updates (never before the first) and awaited", async () => {
    const log: string[] = [];
    const counts: number[] = [];
    let store = initialStore();
    const trace = await train(store, 5, 2, 6, {
      start: 2,
      pauseEveryMs: 0,
      onUpdate: (t) => void log.push(`update ${t}`),
      onPause: async (next) => {
        log.push(`pause ${next}`);
        counts.push(store.get("count")!.data[0]!);
        await new Promise((resolve) => setTimeout(resolve, 5));
        log.push(`resumed ${next}`);
      },
    });
    expect(trace.result).toEqual({ kind: "done", next: 6 });
    expect(log).toEqual(["update 2", "pause 3", "resumed 3", "update 3", "pause 4", "resumed 4", "update 4", "pause 5", "resumed 5", "update 5"]);
    // At the pause before update t, the store holds updates start … t−1.
    expect(counts).toEqual([1, 2, 3]);

    // Without pauseEveryMs, or with a long one, no pause.
    let pauses = 0;
    store = initialStore();
    await train(store, 5, 2, 6, { onPause: async () => void pauses++ });
    await train(initialStore(), 5, 2, 6, { pauseEveryMs: 60_000, onPause: async () => void pauses++ });
    expect(pauses).toBe(0);
  });

  test("a promise onUpdate returns is awaited before the next update, and a stop requested meanwhile takes effect", async () => {
    const log: string[] = [];
    let stop = false;
    const trace = await train(initialStore(), 5, 2, 6, {
      shouldStop: () => stop,
      onUpdate: (t) => {
        log.push(`update ${t}`);
        if (t !== 2) return;
        return new Promise<void>((resolve) =>
          setImmediate(() => {
            stop = true;
            log.push("hook done");
            resolve();
          }),
        );
      },
    });
    expect(log).toEqual(["update 0", "update 1", "update 2", "hook done"]);
    expect(trace.result).toEqual({ kind: "stopped", next: 3 });
  });

  test("a stop request wins over a due pause", async () => {
    const paused: number[] = [];
    let applied = 0;
    const trace = await train(initialStore(), 5, 2, 6, {
      pauseEveryMs: 0,
      onPause: async (next) => void paused.push(next),
      onUpdate: () => void applied++,
      shouldStop: () => applied === 3,
    });
    expect(trace.result).toEqual({ kind: "stopped", next: 3 });
    expect(paused).toEqual([1, 2]);
  });

  test("with yieldEveryMs 0 it yields at every update, so a signal handled by the event loop stops it at once", async () => {
    let interrupted = false;
    const trace = await train(initialStore(), 8, 2, 40, {
      yieldEveryMs: 0,
      shouldStop: () => interrupted,
      onUpdate: (t) => {
        if (t === 2) setImmediate(() => (interrupted = true));
      },
    });
    expect(trace.result).toEqual({ kind: "stopped", next: 3 });
  });

  test("a graph without a step input gets no step feed", async () => {
    const store = initialStore();
    const trace = await train(store, 6, 4, 4, { withStep: false });
    expect(trace.result).toEqual({ kind: "done", next: 4 });
    expect(trace.steps.every((s) => Number.isNaN(s))).toBe(true);
    expect(store.get("count")!.data[0]).toBe(4);
  });

  test("only new:<name> outputs are written back, each to the tensor it names", async () => {
    expect(NEW_PREFIX).toBe("new:");
    const store = initialStore();
    // Tensors the graph neither reads nor updates, one named like a plain output.
    store.set("loss", { shape: [], data: Float32Array.of(42) });
    store.set("other", { shape: [2], data: Int32Array.of(7, 8) });
    await train(store, 4, 2, 3);
    expect([...store.get("loss")!.data]).toEqual([42]);
    expect([...store.get("other")!.data]).toEqual([7, 8]);
    expect(store.get("count")!.data[0]).toBe(3);
    expect(store.names()).toEqual(["w", "count", "loss", "other"]);
  });

  test("no updates to run: done at once, nothing called", async () => {
    const store = initialStore();
    const before = snapshot(store);
    const trace = await train(store, 5, 2, 4, { start: 4 });
    expect(trace.result).toEqual({ kind: "done", next: 4 });
    expect(trace.sizes).toEqual([]);
    expect(trace.orders).toEqual([]);
    expect(snapshot(store)).toEqual(before);
  });
});
