/**
 * The training loop of one training step (spec/optimizers.md, "One training
 * step"): `T` updates over a split of `N` examples in batches of `B`, each
 * pass over the split in its own shuffled order, the last batch of a pass
 * smaller when `B` does not divide `N`. Update `t` is pass `⌊t / P⌋`, batch
 * `t mod P` of it, with `P = ⌈N / B⌉` batches per pass — a pure function of
 * `t`, which is what makes a resumed run equal an uninterrupted one.
 *
 * Each update runs the step's executable with the batch, the counters and
 * the stored tensors, and copies its `new:<name>` outputs back into the store,
 * unless the loss is not finite: then the loop stops *before* applying that
 * update, so the store holds the last good state.
 */
import type { Executable, TensorFeed } from "../backends/backend.js";
import type { TensorStore } from "./store.js";

/** The prefix of the outputs that are a tensor's new value. */
export const NEW_PREFIX = "new:";

/** What one training step needs to run its updates. */
export interface TrainLoopOptions {
  /** `N`: examples in the split. */
  readonly examples: number;
  /** `B`: examples per batch. */
  readonly batch: number;
  /** `T`: updates in the whole step. */
  readonly updates: number;
  /** The first update to run (0, or where a resumed run stopped). */
  readonly start: number;
  /** The order of pass `pass` over the split: a permutation of `0 .. N−1`. */
  readonly order: (pass: number) => Int32Array;
  /** The executable for batches of `size` examples (the caller caches them). */
  readonly executable: (size: number) => Executable;
  /** The data feeds of the examples `indices` (the step's inputs, without the counters). */
  readonly batchFeeds: (indices: Int32Array) => Record<string, TensorFeed>;
  /** Feeds that are the same at every update: the step's seed, alias tables. */
  readonly fixedFeeds: Record<string, TensorFeed>;
  /** The name of the update-counter input, or null when the graph reads none. */
  readonly stepInput: string | null;
  /** Parameters, running statistics and optimizer state; updated in place. */
  readonly store: TensorStore;
  /** Called after each applied update with its number and loss; a promise it returns is awaited before the next update. */
  readonly onUpdate?: (t: number, loss: number, examples: number) => void | Promise<void>;
  /** Checked between updates: when it returns true the loop stops (an interrupt). */
  readonly shouldStop?: () => boolean;
  /** Yield to the event loop at least this often, in milliseconds (signals are handled then). Default 100. */
  readonly yieldEveryMs?: number;
  /** Called (and awaited) between updates at most this often, in milliseconds: a periodic checkpoint. */
  readonly pauseEveryMs?: number;
  /** What to do at a pause, given the next update to run. */
  readonly onPause?: (next: number) => Promise<void>;
}

/** How a training step's loop ended. */
export type TrainLoopResult =
  | { readonly kind: "done"; readonly next: number }
  | { readonly kind: "stopped"; readonly next: number }
  | { readonly kind: "nonfinite"; readonly next: number; readonly loss: number };

/** The examples of update `t`: which pass, and which slice of its order. */
export function batchOf(t: number, examples: number, batch: number): { pass: number; begin: number; end: number } {
  const perPass = Math.ceil(examples / batch);
  const pass = Math.floor(t / perPass);
  const begin = (t % perPass) * batch;
  return { pass, begin, end: Math.min(examples, begin + batch) };
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs updates `start .. T−1`. */
export async function runTrainLoop(o: TrainLoopOptions): Promise<TrainLoopResult> {
  let pass = -1;
  let order: Int32Array = new Int32Array(0);
  let lastYield = Date.now();
  let lastPause = Date.now();
  const yieldEvery = o.yieldEveryMs ?? 100;
  const stepFeed = { shape: [] as number[], data: new Int32Array(1) };
  for (let t = o.start; t < o.updates; t++) {
    if (Date.now() - lastYield >= yieldEvery) {
      await yieldToEventLoop();
      lastYield = Date.now();
    }
    if (o.shouldStop?.()) return { kind: "stopped", next: t };
    if (o.onPause && o.pauseEveryMs !== undefined && t > o.start && Date.now() - lastPause >= o.pauseEveryMs) {
      await o.onPause(t);
      lastPause = Date.now();
    }
    const at = batchOf(t, o.examples, o.batch);
    if (at.pass !== pass) {
      pass = at.pass;
      order = o.order(pass);
    }
    const indices = order.subarray(at.begin, at.end);
    const feeds: Record<string, TensorFeed> = { ...o.batchFeeds(indices), ...o.fixedFeeds };
    if (o.stepInput !== null) {
      stepFeed.data[0] = t;
      feeds[o.stepInput] = stepFeed;
    }
    const outputs = o.executable(indices.length).run(feeds, o.store.feeds());
    const loss = outputs["loss"]!.data[0]!;
    if (!Number.isFinite(loss)) return { kind: "nonfinite", next: t, loss };
    for (const name in outputs) {
      if (name.startsWith(NEW_PREFIX)) o.store.overwrite(name.slice(NEW_PREFIX.length), outputs[name]!.data);
    }
    const pending = o.onUpdate?.(t, loss, indices.length);
    if (pending instanceof Promise) await pending;
  }
  return { kind: "done", next: o.updates };
}
