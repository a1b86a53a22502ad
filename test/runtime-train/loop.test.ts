/**
 * The training loop (runtime/train/loop.ts) driving a real, hand-written
 * linear-regression step graph through a `TrainingRunner` on a host home, as
 * the training engine and `Model.fit` drive theirs: which examples each update
 * sees, the update counter, resuming, the stop on a non-finite loss,
 * interrupts and pauses, and what an update writes back.
 */
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { batchOf, runTrainLoop, type TrainLoopOptions, type TrainLoopResult } from "../../runtime/train/loop.js";
import { NEW_PREFIX, TrainingRunner } from "../../runtime/train/training-runner.js";
import { hostHome } from "../../runtime/api/host-home.js";
import type { HomeTensor, TensorHome } from "../../runtime/api/home.js";
import type { ModelTensor } from "../../runtime/api/weights.js";
import { cpuBackend } from "../../runtime/backends/cpu/index.js";
import { referenceBackend } from "../../runtime/backends/reference/executor.js";
import { dataset, enumerateBatches, initialValues, permutation, regressionStep, simulate, TENSORS } from "./regression.js";

type BackendName = "reference" | "cpu";

/** What one loop run did. */
interface Trace {
  result: TrainLoopResult;
  /** The examples of each executed batch, in order. */
  batches: number[][];
  /** The passes `order` was asked for, in order. */
  orders: number[];
  /** The `step` each run of the graph read (NaN for a graph that reads none). */
  steps: number[];
  /** The batch size of each run of the graph. */
  sizes: number[];
  /** onUpdate's arguments. */
  updates: { t: number; loss: number; examples: number }[];
}

/** A model's tensors on a host home whose graphs record each run (the `step` they read, their batch size). */
class Tensors {
  readonly home: TensorHome;
  readonly tensors = new Map<string, HomeTensor>();
  /** Where the runs of the current loop are recorded. */
  trace: Trace | null = null;

  constructor(values: ReadonlyMap<string, ModelTensor>, backend: BackendName = "reference") {
    const inner = hostHome(backend === "cpu" ? cpuBackend : referenceBackend);
    this.home = {
      ...inner,
      compile: (graph, params) => {
        const exe = inner.compile(graph, params);
        const readsStep = graph.inputs.some((i) => i.name === "step");
        return {
          ...exe,
          run: (feeds, read) => {
            this.trace?.steps.push(readsStep ? feeds.get("step")!.data[0]! : NaN);
            this.trace?.sizes.push(feeds.get("x")!.shape[0]!);
            return exe.run(feeds, read);
          },
        };
      },
    };
    for (const [name, v] of values) this.tensors.set(name, inner.create(v.shape, v.data instanceof Int32Array ? "i32" : "f32", v.data));
  }
}

/** The regression model at its initial values. */
function initialTensors(backend: BackendName = "reference"): Tensors {
  return new Tensors(initialValues(), backend);
}

type Overrides = Partial<Omit<TrainLoopOptions, "run" | "commit">> & { withStep?: boolean; y?: Float32Array };

/** Runs the loop over `examples` of the regression data on `model`'s tensors (update counter at `start`), recording everything. */
async function train(model: Tensors, examples: number, batch: number, updates: number, o: Overrides = {}): Promise<Trace> {
  const data = dataset(examples);
  if (o.y) data.y.set(o.y);
  const trace: Trace = { result: { kind: "done", next: -1 }, batches: [], orders: [], steps: [], sizes: [], updates: [] };
  const withStep = o.withStep ?? true;
  const { withStep: _w, y: _y, ...rest } = o;
  const start = o.start ?? 0;
  const runner = new TrainingRunner(regressionStep(withStep), model.home, model.tensors, TENSORS, 0);
  runner.counter = start;
  model.trace = trace;
  try {
    trace.result = await runTrainLoop({
      examples,
      batch,
      updates,
      start,
      order: (pass) => {
        trace.orders.push(pass);
        return permutation(examples, pass);
      },
      run: (_t, indices) => {
        trace.batches.push([...indices]);
        return runner.run(data, indices);
      },
      commit: () => runner.commit(),
      onUpdate: (t, loss, n) => void trace.updates.push({ t, loss, examples: n }),
      ...rest,
    });
  } finally {
    model.trace = null;
    runner.destroy();
  }
  return trace;
}

/** The tensors' values as plain arrays, for exact comparison. */
async function snapshot(model: Tensors): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, t] of model.tensors) out[name] = [...(await model.home.read(t))];
  return out;
}

/** The values of tensor `name`. */
async function valueOf(model: Tensors, name: string): Promise<Float32Array | Int32Array> {
  return model.home.read(model.tensors.get(name)!);
}

/** A copy of the model's tensors on a new home (a saved state). */
async function cloneOf(model: Tensors, backend: BackendName): Promise<Tensors> {
  const values = new Map<string, ModelTensor>();
  for (const [name, t] of model.tensors) values.set(name, { shape: [...t.shape], data: await model.home.read(t) });
  return new Tensors(values, backend);
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
    const store = initialTensors();
    const w0 = [...(await valueOf(store, "w"))];
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
    // The numbers: the same step in plain float64 arithmetic, rounded to the tensors' float32.
    const expected = simulate(dataset(10), w0, 10, 4, 9);
    expectClose(await valueOf(store, "w"), expected.w, 1e-5);
    expectClose(trace.updates.map((u) => u.loss), expected.losses, 1e-5);
    expect([...(await valueOf(store, "count"))]).toEqual([9]);
    // And training reduced the loss.
    expect(trace.updates[8]!.loss).toBeLessThan(trace.updates[0]!.loss);
  });

  test("the batches of any window start … T−1 follow batchOf and the pass orders (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 14 }), fc.integer({ min: 0, max: 20 }), fc.nat(), async (examples, batch, updates, s) => {
        const start = s % (updates + 1);
        const store = initialTensors();
        const trace = await train(store, examples, batch, updates, { start });
        const expected = enumerateBatches(examples, batch, updates, start);
        expect(trace.result).toEqual({ kind: "done", next: updates });
        expect(trace.batches).toEqual(expected.map((e) => [...permutation(examples, e.pass).subarray(e.begin, e.end)]));
        expect(trace.orders).toEqual([...new Set(expected.map((e) => e.pass))]);
        expect(trace.steps).toEqual(expected.map((e) => e.t));
        expect(trace.updates.map((u) => u.t)).toEqual(expected.map((e) => e.t));
        expect((await valueOf(store, "count"))[0]).toBe(expected.length);
      }),
      { numRuns: 60 },
    );
  });

  for (const backend of ["reference", "cpu"] as const) {
    test(`${backend}: running 0 … k, then k … T on the same state equals running 0 … T, bit for bit (property)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 14 }), fc.nat(), async (examples, batch, updates, kk) => {
          const k = kk % (updates + 1);
          const whole = initialTensors(backend);
          const all = await train(whole, examples, batch, updates);
          expect(all.result).toEqual({ kind: "done", next: updates });

          // Interrupted after k updates, the state saved (copied to a new home) and resumed from there.
          const first = initialTensors(backend);
          let applied = 0;
          const a = await train(first, examples, batch, updates, { shouldStop: () => applied === k, onUpdate: () => void applied++ });
          expect(a.result).toEqual(k < updates ? { kind: "stopped", next: k } : { kind: "done", next: updates });
          const resumed = await cloneOf(first, backend);
          const b = await train(resumed, examples, batch, updates, { start: a.result.next });
          expect(b.result).toEqual({ kind: "done", next: updates });

          expect(await snapshot(resumed)).toEqual(await snapshot(whole));
          expect(new Uint8Array((await valueOf(resumed, "w")).buffer)).toEqual(new Uint8Array((await valueOf(whole, "w")).buffer));
          expect([...a.batches, ...b.batches]).toEqual(all.batches);
          expect([...a.steps, ...b.steps]).toEqual(all.steps);
          expect(b.updates.map((u) => u.loss)).toEqual(all.updates.slice(k).map((u) => u.loss));
        }),
        { numRuns: 40 },
      );
    });
  }

  test("cpu and reference agree on the trained weights", async () => {
    const ref = initialTensors("reference");
    const cpu = initialTensors("cpu");
    await train(ref, 7, 3, 10);
    await train(cpu, 7, 3, 10);
    expectClose(await valueOf(cpu, "w"), await valueOf(ref, "w"), 1e-5);
  });

  for (const bad of [NaN, Infinity]) {
    test(`a ${bad} loss stops before its update: the tensors hold the last good state`, async () => {
      const examples = 10;
      const batch = 3;
      const poisoned = 7;
      const y = dataset(examples).y;
      y[poisoned] = bad;
      // The first update whose batch holds the poisoned example.
      const first = enumerateBatches(examples, batch, 100).find((e) => [...permutation(examples, e.pass).subarray(e.begin, e.end)].includes(poisoned))!.t;
      expect(first).toBeGreaterThan(0);
      const store = initialTensors();
      const trace = await train(store, examples, batch, 100, { y });
      expect(trace.result.kind).toBe("nonfinite");
      expect(trace.result.next).toBe(first);
      expect((trace.result as { loss: number }).loss).toBe(bad);
      expect(trace.updates.map((u) => u.t)).toEqual(Array.from({ length: first }, (_, t) => t));
      expect(trace.updates.every((u) => Number.isFinite(u.loss))).toBe(true);
      // Exactly the state after updates 0 … first−1.
      const good = initialTensors();
      await train(good, examples, batch, first);
      expect(await snapshot(store)).toEqual(await snapshot(good));
      expect((await valueOf(store, "count"))[0]).toBe(first);
    });
  }

  test("a non-finite loss at the very first update leaves the tensors untouched", async () => {
    const y = dataset(4).y;
    y.fill(NaN);
    const store = initialTensors();
    const before = await snapshot(store);
    const trace = await train(store, 4, 2, 5, { y, start: 2 });
    expect(trace.result.kind).toBe("nonfinite");
    expect(trace.result.next).toBe(2);
    expect(await snapshot(store)).toEqual(before);
  });

  test("shouldStop stops between updates with the next update to run", async () => {
    for (const [start, after] of [[0, 0], [0, 4], [3, 2], [5, 0]] as const) {
      const store = initialTensors();
      const before = await snapshot(store);
      let checks = 0;
      const trace = await train(store, 6, 4, 12, { start, shouldStop: () => checks++ === after });
      expect(trace.result).toEqual({ kind: "stopped", next: start + after });
      expect(trace.updates.map((u) => u.t)).toEqual(Array.from({ length: after }, (_, i) => start + i));
      if (after === 0) {
        expect(await snapshot(store)).toEqual(before);
        expect(trace.sizes).toEqual([]);
      }
      expect((await valueOf(store, "count"))[0]).toBe(after);
    }
  });

  test("onPause is called between updates (never before the first) and awaited", async () => {
    const log: string[] = [];
    const counts: number[] = [];
    let store = initialTensors();
    const trace = await train(store, 5, 2, 6, {
      start: 2,
      pauseEveryMs: 0,
      onUpdate: (t) => void log.push(`update ${t}`),
      onPause: async (next) => {
        log.push(`pause ${next}`);
        counts.push((await valueOf(store, "count"))[0]!);
        await new Promise((resolve) => setTimeout(resolve, 5));
        log.push(`resumed ${next}`);
      },
    });
    expect(trace.result).toEqual({ kind: "done", next: 6 });
    expect(log).toEqual(["update 2", "pause 3", "resumed 3", "update 3", "pause 4", "resumed 4", "update 4", "pause 5", "resumed 5", "update 5"]);
    // At the pause before update t, the tensors hold updates start … t−1.
    expect(counts).toEqual([1, 2, 3]);

    // Without pauseEveryMs, or with a long one, no pause.
    let pauses = 0;
    store = initialTensors();
    await train(store, 5, 2, 6, { onPause: async () => void pauses++ });
    await train(initialTensors(), 5, 2, 6, { pauseEveryMs: 60_000, onPause: async () => void pauses++ });
    expect(pauses).toBe(0);
  });

  test("a promise onUpdate returns is awaited before the next update, and a stop requested meanwhile takes effect", async () => {
    const log: string[] = [];
    let stop = false;
    const trace = await train(initialTensors(), 5, 2, 6, {
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
    const trace = await train(initialTensors(), 5, 2, 6, {
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
    const trace = await train(initialTensors(), 8, 2, 40, {
      yieldEveryMs: 0,
      shouldStop: () => interrupted,
      onUpdate: (t) => {
        if (t === 2) setImmediate(() => (interrupted = true));
      },
    });
    expect(trace.result).toEqual({ kind: "stopped", next: 3 });
  });

  test("a graph without a step input trains too, reading no counter", async () => {
    const store = initialTensors();
    const trace = await train(store, 6, 4, 4, { withStep: false });
    expect(trace.result).toEqual({ kind: "done", next: 4 });
    expect(trace.steps.every((s) => Number.isNaN(s))).toBe(true);
    expect((await valueOf(store, "count"))[0]).toBe(4);
  });

  test("only new:<name> outputs are written back, each to the tensor it names", async () => {
    expect(NEW_PREFIX).toBe("new:");
    const store = new Tensors(
      new Map<string, ModelTensor>([
        ...initialValues(),
        // Tensors the graph neither reads nor updates, one named like a plain output.
        ["loss", { shape: [], data: Float32Array.of(42) }],
        ["other", { shape: [2], data: Int32Array.of(7, 8) }],
      ]),
    );
    await train(store, 4, 2, 3);
    expect([...(await valueOf(store, "loss"))]).toEqual([42]);
    expect([...(await valueOf(store, "other"))]).toEqual([7, 8]);
    expect((await valueOf(store, "count"))[0]).toBe(3);
    expect([...store.tensors.keys()]).toEqual(["w", "count", "loss", "other"]);
  });

  test("no updates to run: done at once, nothing called", async () => {
    const store = initialTensors();
    const before = await snapshot(store);
    const trace = await train(store, 5, 2, 4, { start: 4 });
    expect(trace.result).toEqual({ kind: "done", next: 4 });
    expect(trace.sizes).toEqual([]);
    expect(trace.orders).toEqual([]);
    expect(await snapshot(store)).toEqual(before);
  });
});
