/**
 * The training loop: the one loop every training run goes through — a
 * pipeline's `pretrain` and `adapt` steps (`repr train` and apps alike) and
 * `Model.fit` (spec/optimizers.md, "One training step").
 *
 * `T` updates over a split of `N` examples in batches of `B`, each pass over
 * the split in its own shuffled order, the last batch of a pass smaller when
 * `B` does not divide `N`. Update `t` is pass `⌊t / P⌋`, batch `t mod P` of
 * it, with `P = ⌈N / B⌉` batches per pass — a pure function of `t`, which is
 * what makes a resumed run equal an uninterrupted one.
 *
 * The NaN guard, defined once for every backend: each update runs, its loss
 * is checked, and only a finite loss's update is committed. The first update
 * whose loss is not finite ends the loop *before* it is applied, so the
 * tensors hold the last good state and the result names that update.
 */

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
  /** Runs update `t` on the examples `indices` and resolves with its loss, applying nothing yet. */
  readonly run: (t: number, indices: Int32Array) => Promise<number>;
  /** Applies the update `run` just computed (called only when its loss is finite). */
  readonly commit: () => void;
  /** Called after each applied update with its number and loss; a promise it returns is awaited before the next update. */
  readonly onUpdate?: (t: number, loss: number, examples: number) => void | Promise<void>;
  /** Checked between updates: when it returns true the loop stops (an interrupt). */
  readonly shouldStop?: () => boolean;
  /** Yield to the event loop at least this often, in milliseconds (signals and aborts are seen then). Default 100. */
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

/** The updates of `epochs` passes over `examples` in batches of `batch`. */
export function updatesOfEpochs(epochs: number, examples: number, batch: number): number {
  return epochs * Math.ceil(examples / batch);
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * What both loops do before an update (or a window) starting at `t`: yield to
 * the event loop now and then, say whether a stop was asked for, and else
 * pause for the caller (a checkpoint) when one is due.
 */
function betweenUpdates(o: Pick<TrainLoopOptions, "start" | "yieldEveryMs" | "shouldStop" | "onPause" | "pauseEveryMs">): (t: number) => Promise<boolean> {
  let lastYield = Date.now();
  let lastPause = Date.now();
  const yieldEvery = o.yieldEveryMs ?? 100;
  return async (t) => {
    if (Date.now() - lastYield >= yieldEvery) {
      await yieldToEventLoop();
      lastYield = Date.now();
    }
    if (o.shouldStop?.()) return true;
    if (o.onPause && o.pauseEveryMs !== undefined && t > o.start && Date.now() - lastPause >= o.pauseEveryMs) {
      await o.onPause(t);
      lastPause = Date.now();
    }
    return false;
  };
}

/** Runs updates `start .. T−1`. */
export async function runTrainLoop(o: TrainLoopOptions): Promise<TrainLoopResult> {
  let pass = -1;
  let order: Int32Array = new Int32Array(0);
  const stopBefore = betweenUpdates(o);
  for (let t = o.start; t < o.updates; t++) {
    if (await stopBefore(t)) return { kind: "stopped", next: t };
    const at = batchOf(t, o.examples, o.batch);
    if (at.pass !== pass) {
      pass = at.pass;
      order = o.order(pass);
    }
    const indices = order.subarray(at.begin, at.end);
    const loss = await o.run(t, indices);
    if (!Number.isFinite(loss)) return { kind: "nonfinite", next: t, loss };
    o.commit();
    const pending = o.onUpdate?.(t, loss, indices.length);
    if (pending instanceof Promise) await pending;
  }
  return { kind: "done", next: o.updates };
}

/** One update of a window: its number, the order of its pass when it starts using a new one, and its slice of that order. */
export interface WindowUpdate {
  readonly t: number;
  readonly order: Int32Array | null;
  readonly begin: number;
  readonly end: number;
}

/** What the windowed loop needs besides the plain loop's counts, order and callbacks. */
export interface WindowedTrainLoopOptions extends Omit<TrainLoopOptions, "run" | "commit"> {
  /** The most updates queued before their losses are read back. */
  readonly window: number;
  /**
   * Runs a window's updates on the device and resolves with their losses in
   * order, having applied exactly those before the first loss that is not
   * finite (the NaN guard, kept on the device).
   */
  readonly runWindow: (updates: readonly WindowUpdate[]) => Promise<Float32Array>;
}

/**
 * The training loop with updates queued on a device in windows of
 * `window`, their losses read back once per window: the same updates on the
 * same examples as `runTrainLoop`, and the same NaN guard (the first update
 * whose loss is not finite ends the loop, unapplied, the tensors holding the
 * update before it, and the result names it). `onUpdate` is called for each
 * applied update once its window is read; `shouldStop` and pauses are seen
 * between windows, so a stop asked for within a window takes effect at its
 * end (a window of 1 is `runTrainLoop` exactly).
 */
export async function runWindowedTrainLoop(o: WindowedTrainLoopOptions): Promise<TrainLoopResult> {
  if (!Number.isSafeInteger(o.window) || o.window < 1) throw new RangeError(`window must be a whole number ≥ 1, got ${o.window}`);
  let pass = -1;
  const stopBefore = betweenUpdates(o);
  for (let t = o.start; t < o.updates; ) {
    if (await stopBefore(t)) return { kind: "stopped", next: t };
    const k = Math.min(o.window, o.updates - t);
    const window: WindowUpdate[] = [];
    for (let i = 0; i < k; i++) {
      const at = batchOf(t + i, o.examples, o.batch);
      let order: Int32Array | null = null;
      if (at.pass !== pass) {
        pass = at.pass;
        order = o.order(pass);
      }
      window.push({ t: t + i, order, begin: at.begin, end: at.end });
    }
    const losses = await o.runWindow(window);
    for (let i = 0; i < k; i++) {
      const loss = losses[i]!;
      if (!Number.isFinite(loss)) return { kind: "nonfinite", next: t + i, loss };
      const pending = o.onUpdate?.(t + i, loss, window[i]!.end - window[i]!.begin);
      if (pending instanceof Promise) await pending;
    }
    t += k;
  }
  return { kind: "done", next: o.updates };
}
