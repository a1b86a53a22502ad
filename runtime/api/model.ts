/**
 * `Model`: a compiled model (a `ModelPlan`) with its weights, on a backend —
 * what a generated module wraps and what an app calls. It runs the plan's
 * functions on any number of examples, trains with the plan's training
 * steps, and saves and loads its weights as safetensors. It knows nothing of
 * `.repr` files: everything it runs comes from the plan.
 *
 * Everything that runs a graph or reads weights returns a promise, because
 * a GPU answers asynchronously; a model runs one such operation at a time,
 * in the order they were asked for, so calls need not be awaited one by one.
 */
import { sampleModel, type SampleOptions } from "./sample.js";
import { shuffledOrder } from "../data/shuffle.js";
import { suggestName } from "../checkpoint/match.js";
import { openHome, type BackendChoice } from "./backends.js";
import { ReprError } from "./errors.js";
import { FunctionRunner } from "./function.js";
import { checkInputs, exampleSize, nonFiniteCheck, type Inputs } from "./inputs.js";
import type { HomeData, HomeTensor, TensorHome } from "./home.js";
import { initialTensors, zeroTensor } from "./init.js";
import { checkPlan } from "./plan-check.js";
import type { ModelPlan } from "./plan.js";
import { noiseFeeds, stepFeeds } from "./step-feeds.js";
import { REPR_VERSION } from "./version.js";
import { runTrainLoop, runWindowedTrainLoop, type TrainLoopResult } from "../train/loop.js";
import { TrainingRunner } from "../train/training-runner.js";
import { encodeWeights, readWeights, type ModelTensor, type Weights } from "./weights.js";

/** How to make a model. */
export interface ModelOptions {
  /** The backend (default `auto`: WebGPU where a GPU adapter is available, else the CPU). */
  readonly backend?: BackendChoice;
  /** Initial weights: safetensors bytes (as `repr train` or `save` writes them) or tensors by name. Without them, the plan's initialization with `seed`. */
  readonly weights?: Weights;
  /** The seed of the initial weights, of `replaceHead` and of the training steps' random draws (default 0); a whole number in [0, 2^32). */
  readonly seed?: number;
}

/** How `fit` runs. */
export interface FitOptions {
  /** Examples per update (default: the step's `batch` setting, at most N); the last batch of a pass may be smaller. */
  readonly batch?: number;
  /** Passes over the data; each takes ⌈N / batch⌉ updates. */
  readonly epochs?: number;
  /** Updates to run (instead of `epochs`); by default the step's own setting: its `steps`, else its `epochs` (`PlanTraining.updates`, `.epochs`). */
  readonly updates?: number;
  /** The seed of the shuffles (default: the model's seed). */
  readonly seed?: number;
  /** Called after each update with its number (from 0, within this `fit`) and loss; returning `false` stops training. */
  readonly onUpdate?: (update: number, loss: number) => void | boolean;
  /** Aborting it stops training after the update in progress, like `onUpdate` returning `false`. */
  readonly signal?: AbortSignal;
  /**
   * On a GPU, how many updates are queued before their losses are read back
   * (default 1 when `onUpdate` is given, else 32). `onUpdate` is then called
   * for each once its window is read, and a stop (`onUpdate` returning
   * `false`, the signal) takes effect at the end of the window. The NaN
   * guard is exact whatever the window: the first update whose loss is not
   * finite is named and not applied, nor any after it. Host backends read
   * every loss as it comes.
   */
  readonly readEvery?: number;
}

/** What `fit` did. */
export interface FitResult {
  /** The updates applied. */
  readonly updates: number;
  /** The loss of each. */
  readonly losses: Float32Array;
}

/** A copy of one of the model's tensors. */
export interface TensorCopy {
  readonly dtype: "f32" | "i32";
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

/** How often `fit` lets the event loop run, in milliseconds. */
const YIELD_EVERY_MS = 50;

/** How many updates `fit` queues on a GPU before it reads their losses, by default (without `onUpdate`). */
const READ_EVERY = 32;

/** `Symbol.dispose`, where the engine has it; the registered symbol that polyfills use otherwise. */
const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for("Symbol.dispose");

function checkSeed(what: string, seed: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new ReprError(`${what} must be a whole number in [0, 2^32), got ${seed}`);
  return seed;
}

function checkPositive(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new ReprError(`${what} must be a whole number ≥ 1, got ${n}`);
  return n;
}

function checkCount(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new ReprError(`${what} must be a whole number ≥ 0, got ${n}`);
  return n;
}

/**
 * A model ready to run: `call` its functions, train it with `trainStep` and
 * `fit`, `save` and `load` its weights. Make one with `Model.create`; release
 * it with `dispose()` (or `using`).
 */
export class Model implements Disposable {
  /** The plan it runs. */
  readonly plan: ModelPlan;
  /** The backend it runs on: `webgpu`, `cpu` or `reference`. */
  readonly backend: string;
  /** The seed of its initial weights, `replaceHead` and its training steps' random draws. */
  readonly seed: number;
  private readonly home: TensorHome;
  private readonly tensors: Map<string, HomeTensor>;
  private readonly frozenParts = new Set<string>();
  private readonly functionRunners = new Map<string, FunctionRunner>();
  private readonly stepRunners = new Map<string, TrainingRunner>();
  /** Updates applied since the weights were initialized (counting those of a loaded checkpoint). */
  private updates = 0;
  /** The training step that last ran (or the loaded checkpoint's phase). */
  private phase = "init";
  /** The seed that fixed the initial weights (a loaded checkpoint's `repr.seed`), which `save` records. */
  private initSeed = 0;
  private disposed = false;
  /** The operations asked for so far, settled or not: each new one runs after them. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(plan: ModelPlan, home: TensorHome, tensors: Map<string, HomeTensor>, seed: number) {
    this.plan = plan;
    this.home = home;
    this.backend = home.backend;
    this.tensors = tensors;
    this.seed = seed;
  }

  /**
   * Makes a model from a plan: checks the plan's format, picks the backend,
   * and sets its tensors from `weights` (every tensor of the plan must be
   * there with its shape and dtype) or else from the plan's initialization
   * with `seed`. Graphs are compiled on first use.
   */
  static async create(plan: ModelPlan, options: ModelOptions = {}): Promise<Model> {
    checkPlan(plan);
    const seed = checkSeed("the seed", options.seed ?? 0);
    let values: Map<string, ModelTensor>;
    let info: { step?: number; phase?: string; seed?: number } = {};
    if (options.weights !== undefined) {
      const read = readWeights(plan.tensors, options.weights);
      info = read.info;
      values = new Map();
      // Tensors the weights may leave out (`num_batches_tracked`) start at zero.
      for (const t of plan.tensors) {
        values.set(t.name, read.tensors.get(t.name) ?? zeroTensor(t));
      }
    } else values = initialTensors(plan, seed);
    const home = await openHome(options.backend ?? "auto", plan.training);
    const tensors = new Map(plan.tensors.map((t) => [t.name, home.create(t.shape, t.dtype === "i32" ? "i32" : "f32", values.get(t.name)!.data)]));
    const model = new Model(plan, home, tensors, seed);
    model.updates = info.step ?? 0;
    model.phase = info.phase ?? (options.weights !== undefined ? "weights" : "init");
    model.initSeed = info.seed ?? seed;
    return model;
  }

  /**
   * A model on `home` holding `values` (every tensor of the plan): what a
   * pipeline run hands back (runtime/api/pipeline.ts). Internal.
   */
  static fromValues(plan: ModelPlan, home: TensorHome, values: ReadonlyMap<string, ModelTensor>, seed: number, info: { step: number; phase: string }): Model {
    const tensors = new Map(plan.tensors.map((t) => [t.name, home.create(t.shape, t.dtype === "i32" ? "i32" : "f32", (values.get(t.name) ?? zeroTensor(t)).data)]));
    const model = new Model(plan, home, tensors, seed);
    model.updates = info.step;
    model.phase = info.phase;
    model.initSeed = seed;
    return model;
  }

  /** The names of the functions `call` runs. */
  get functions(): readonly string[] {
    return this.plan.functions.map((f) => f.name);
  }

  /** The names of the training steps `trainStep`, `fit` and `evaluate` run. */
  get trainingSteps(): readonly string[] {
    return this.plan.training.map((t) => t.name);
  }

  /** The names of the model's tensors, in plan order. */
  get tensorNames(): readonly string[] {
    return this.plan.tensors.map((t) => t.name);
  }

  /** The parts `freeze` has frozen. */
  get frozen(): readonly string[] {
    return [...this.frozenParts];
  }

  /**
   * Runs function `fn` on `count` examples (default: as many as the first
   * input's length holds). Each input is flat and row-major, its examples one
   * after another; any count runs, in chunks of at most 1,024 examples.
   * Resolves with a new array, `count × output size` numbers, that the
   * caller owns.
   */
  call(fn: string, inputs: Inputs, count?: number): Promise<Float32Array | Int32Array> {
    return this.serial(() => {
      let runner = this.functionRunners.get(fn);
      if (runner === undefined) {
        const plan = this.plan.functions.find((f) => f.name === fn);
        if (plan === undefined) throw new ReprError(this.unknown("function", fn, this.functions));
        runner = new FunctionRunner(plan, this.home, this.tensors);
        this.functionRunners.set(fn, runner);
      }
      return runner.call(inputs, count);
    });
  }

  /**
   * Samples from the model as its plan's `sampling` says (spec/sampling.md):
   * a language model extends a prompt token by token (with `temperature`,
   * `topK` and `seed`) and resolves with `count × tokens` new ids; a model
   * with a variational bottleneck decodes `count` draws from its prior. The
   * draws are the shared generator's: the same seed gives the same samples.
   * Rejects with a `ReprError` when the model cannot be sampled.
   */
  sample(options: SampleOptions = {}): Promise<Int32Array | Float32Array> {
    const sampling = this.plan.sampling;
    if (sampling === null) {
      return Promise.reject(new ReprError(`sample: model '${this.plan.model}' cannot be sampled: it is neither a next-token language model nor has a variational bottleneck with a decoder`));
    }
    return sampleModel(sampling, (fn, inputs, count) => this.call(fn, inputs, count), options);
  }

  /**
   * One update of training step `step` on the examples of `batch` (any
   * number of them; default: as many as the first input holds); resolves
   * with the loss. A non-finite loss rejects with a `ReprError` and leaves
   * every tensor as it was. Parts frozen with `freeze` are not updated (see
   * `freeze`).
   */
  trainStep(step: string, batch: Inputs, count?: number): Promise<number> {
    return this.serial(async () => {
      const runner = this.stepRunner(step);
      const where = `training step '${step}'`;
      // A GPU checks the batch's numbers for finiteness itself, in the step's own submit.
      const onDevice = this.home.checksFinite;
      const n = checkInputs(where, runner.step.inputs, batch, count, { finite: !onDevice });
      if (n === 0) throw new ReprError(`${where}: a batch needs at least one example`);
      runner.ensureFeeds(batch);
      return this.applied(runner, await runner.runFirst(batch, n, onDevice ? nonFiniteCheck(where, runner.step.inputs, batch) : undefined), true);
    });
  }

  /**
   * Trains with step `step` on `data` (N examples per input): `updates`
   * updates (or `epochs` passes, or the step's own setting), in batches of
   * `batch` examples (default: the step's), each pass over the data in its
   * own shuffled order (Philox stream `shuffle/<step>`, pass number as the
   * step); the last batch of a pass takes the examples left, as in `repr
   * train` (runtime/train/loop.ts: the same loop). A step that draws
   * `skipgram` negatives draws them from the token counts of all of `data`,
   * and a `cosine` schedule over the step's `epochs` ends with this run's
   * last update (a later `fit` of the same step continues the update counter
   * and stretches the schedule to end with its own last update). Lets the
   * event loop run every 50 ms. A non-finite loss rejects with a
   * `ReprError`, keeping the weights of the last good update.
   */
  async fit(step: string, data: Inputs, options: FitOptions = {}): Promise<FitResult> {
    this.alive();
    const runner = this.stepRunner(step);
    const where = `training step '${step}'`;
    // A GPU checks the data's numbers for finiteness itself, where it keeps the data.
    const n = checkInputs(where, runner.step.inputs, data, undefined, { finite: !this.home.checksFinite });
    if (n === 0) throw new ReprError(`${where}: the data has no examples`);
    const readEvery = options.readEvery !== undefined ? checkPositive("fit: readEvery", options.readEvery) : options.onUpdate !== undefined ? 1 : READ_EVERY;
    if (options.epochs !== undefined && options.updates !== undefined) throw new ReprError(`fit: give epochs or updates, not both`);
    const batch = Math.min(options.batch !== undefined ? checkPositive("fit: batch", options.batch) : runner.step.batch, n);
    const perPass = Math.ceil(n / batch);
    const updates =
      options.updates !== undefined
        ? checkCount("fit: updates", options.updates)
        : options.epochs !== undefined
          ? checkCount("fit: epochs", options.epochs) * perPass
          : runner.step.updates > 0
            ? runner.step.updates
            : runner.step.epochs * perPass;
    const seed = checkSeed("fit: the seed", options.seed ?? this.seed);
    // The noise of the whole data, and where the run ends, for every update of this run: a schedule
    // over the run's updates ends with this run (the step counter goes on from earlier runs).
    const feeds = stepFeeds(runner.step, data, runner.counter + updates);
    await this.serial(() => Promise.resolve(runner.useFeeds(feeds)));
    // On a GPU the data stays there for the whole run: batches are gathered there, and losses read per window.
    const home = this.home;
    let held: HomeData | null = null;
    if (home.upload !== undefined && updates > 0) {
      const inputs = runner.step.inputs.map((d) => ({ name: d.name, size: exampleSize(d), dtype: d.dtype === "i32" ? ("i32" as const) : ("f32" as const) }));
      held = await this.serial(() => home.upload!(inputs, data, n, readEvery, nonFiniteCheck(where, runner.step.inputs, data)));
    }
    // Where the home checks on the device but keeps no data (too large for a buffer), the host checks.
    if (held === null && home.checksFinite) checkInputs(where, runner.step.inputs, data);
    const losses = new Float32Array(updates);
    let done = 0;
    let stop = false;
    const loop = {
      examples: n,
      batch,
      updates,
      start: 0,
      order: (pass: number) => shuffledOrder(n, seed, pass, step),
      onUpdate: (t: number, loss: number) => {
        losses[done++] = loss;
        if (options.onUpdate?.(t, loss) === false) stop = true;
      },
      shouldStop: () => stop || options.signal?.aborted === true || this.disposed,
      yieldEveryMs: YIELD_EVERY_MS,
    };
    let result: TrainLoopResult;
    try {
      result =
        held === null
          ? await runTrainLoop({
              ...loop,
              // Each update is one operation of the queue, so other calls may run between updates; it commits
              // itself (when its loss is finite), so nothing else can run between its graph and its commit.
              run: (_t, indices) => this.serial(async () => this.applied(runner, await runner.run(data, indices), false)),
              commit: () => undefined,
            })
          : await runWindowedTrainLoop({
              ...loop,
              window: readEvery,
              // Each window is one operation of the queue: its updates are queued on the GPU, committed there
              // while their losses are finite, and their losses read back at once.
              runWindow: (window) => this.serial(() => this.deviceWindow(runner, held!, window)),
            });
    } finally {
      const h = held;
      if (h !== null) void this.queue.then(() => h.free());
    }
    this.alive();
    if (result.kind === "nonfinite") {
      throw new ReprError(
        `${where}: the loss is ${result.loss} at update ${runner.counter + 1}; the update was not applied, ` +
          `so the weights are as they were before it (a smaller learning rate or \`clip\` may help)`,
      );
    }
    return { updates: done, losses: losses.slice(0, done) };
  }

  /**
   * The mean loss of training step `step` over `data`, computed by the step's
   * own graph without applying its update: the training objective exactly as
   * an update sees it (layers in training mode, masks and noise drawn with
   * the model's seed at the step's current update counter). The examples are
   * taken in order, in batches of `batch` (default: the step's), the last
   * one smaller when needed; each batch's loss counts by its size.
   */
  evaluate(step: string, data: Inputs, options: { readonly batch?: number } = {}): Promise<number> {
    return this.serial(async () => {
      const runner = this.stepRunner(step);
      const where = `training step '${step}'`;
      const n = checkInputs(where, runner.step.inputs, data);
      if (n === 0) throw new ReprError(`${where}: the data has no examples`);
      const batch = Math.min(options.batch !== undefined ? checkPositive("evaluate: batch", options.batch) : runner.step.batch, n);
      runner.useFeeds(noiseFeeds(where, runner.step.noise, data));
      runner.ensureFeeds(data);
      let sum = 0;
      for (let begin = 0; begin < n; begin += batch) {
        const size = Math.min(batch, n - begin);
        const indices = new Int32Array(size);
        for (let i = 0; i < size; i++) indices[i] = begin + i;
        sum += (await runner.run(data, indices)) * size;
      }
      return sum / n;
    });
  }

  /**
   * Freezes parts: training steps leave their tensors (and their optimizer
   * state) exactly as they are. A step whose plan freezes the same parts
   * computes no gradient for them at all; a step whose plan trains them
   * still computes their update (and, for layers whose behaviour depends on
   * it, runs them in training mode), but the update is not written back after
   * each update, so they stay bit-identical.
   */
  freeze(...parts: string[]): void {
    this.alive();
    for (const p of parts) this.frozenParts.add(this.checkPart(p));
  }

  /**
   * Unfreezes parts frozen with `freeze`. It cannot train a part that a
   * step's plan freezes: that step's graph computes no update for it.
   */
  unfreeze(...parts: string[]): void {
    this.alive();
    for (const p of parts) this.frozenParts.delete(this.checkPart(p));
  }

  /**
   * Gives part `part` fresh tensors of the same shapes: the plan's
   * initialization with `seed` (default: the model's seed). Resets every
   * training step's optimizer state and update counter, since they describe
   * the old weights. Runs after the operations asked for before it.
   */
  replaceHead(part: string, seed?: number): Promise<void> {
    return this.serial(() => {
      this.checkPart(part);
      const fresh = initialTensors(this.plan, checkSeed("the seed", seed ?? this.seed));
      for (const t of this.plan.tensors) if (t.owner === part) this.home.write(this.tensors.get(t.name)!, fresh.get(t.name)!.data);
      for (const r of this.stepRunners.values()) r.reset();
      return Promise.resolve();
    });
  }

  /**
   * The model's tensors as safetensors bytes (`F32`, and `I64` for integer
   * tensors) with repr's metadata: `repr.step` counts the updates since the
   * weights were initialized (a loaded checkpoint's count included),
   * `repr.phase` names the training step that ran last, `repr.seed` the seed
   * of the initial weights (a loaded checkpoint's, else the model's).
   * Resolves after the operations asked for before it.
   */
  save(): Promise<Uint8Array> {
    return this.serial(async () => {
      const values = new Map<string, ModelTensor>();
      for (const [name, t] of this.tensors) values.set(name, { shape: [...t.shape], data: await this.home.read(t) });
      return encodeWeights(values, { version: REPR_VERSION, model: this.plan.model, step: this.updates, phase: this.phase, seed: this.initSeed });
    });
  }

  /**
   * Replaces the model's tensors with `weights` (checked as in `create`;
   * nothing changes if they do not fit; a `ReprError` says why, at once)
   * and resets every training step's optimizer state and update counter.
   * Runs after the operations asked for before it.
   */
  load(weights: Weights): Promise<void> {
    return this.serial(() => {
      const read = readWeights(this.plan.tensors, weights);
      for (const [name, t] of read.tensors) this.home.write(this.tensors.get(name)!, t.data);
      for (const r of this.stepRunners.values()) r.reset();
      this.updates = read.info.step ?? 0;
      this.phase = read.info.phase ?? "weights";
      this.initSeed = read.info.seed ?? this.seed;
      return Promise.resolve();
    });
  }

  /** A copy of tensor `name`, after the operations asked for before it. */
  tensor(name: string): Promise<TensorCopy> {
    return this.serial(async () => {
      const t = this.tensors.get(name);
      if (t === undefined) throw new ReprError(this.unknown("tensor", name, this.tensorNames));
      return { dtype: t.dtype, shape: [...t.shape], data: await this.home.read(t) };
    });
  }

  /**
   * Releases the compiled graphs and the tensors (GPU memory on WebGPU), once
   * the operations already asked for have finished; any later use is a
   * `ReprError`. Calling it again does nothing.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const home = this.home;
    const runners = [...this.functionRunners.values(), ...this.stepRunners.values()];
    void this.queue.then(() => {
      for (const r of runners) r.destroy();
      home.release();
    });
    this.functionRunners.clear();
    this.stepRunners.clear();
    this.tensors.clear();
  }

  /** The same as `dispose()`, for `using model = await Model.create(plan)`. */
  declare [Symbol.dispose]: () => void;

  private alive(): void {
    if (this.disposed) throw new ReprError("the model was disposed");
  }

  /**
   * Runs `work` after every operation asked for before it. Fails (without
   * running it) if the model is or gets disposed; never throws, it rejects.
   */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(new ReprError("the model was disposed"));
    const run = this.queue.then(() => {
      this.alive();
      return work();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private stepRunner(step: string): TrainingRunner {
    this.alive();
    let runner = this.stepRunners.get(step);
    if (runner === undefined) {
      const plan = this.plan.training.find((t) => t.name === step);
      if (plan === undefined) throw new ReprError(this.unknown("training step", step, this.trainingSteps));
      runner = new TrainingRunner(plan, this.home, this.tensors, this.plan.tensors, this.seed);
      this.stepRunners.set(step, runner);
    }
    return runner;
  }

  /**
   * After a run of `runner`'s graph: a finite loss's update is committed
   * (but to frozen parts) and counted; a non-finite one is left unapplied,
   * and with `strict` rejected here (`fit` lets its loop report it).
   */
  private applied(runner: TrainingRunner, loss: number, strict: boolean): number {
    if (!Number.isFinite(loss)) {
      if (!strict) return loss;
      throw new ReprError(
        `training step '${runner.step.name}': the loss is ${loss} at update ${runner.counter + 1}; the update was not applied, ` +
          `so the weights are as they were before it (a smaller learning rate or \`clip\` may help)`,
      );
    }
    runner.commit(this.frozenParts);
    this.updates++;
    this.phase = runner.step.name;
    return loss;
  }

  /** Runs a window of `fit`'s updates on data held on the device; counts those applied (the updates before the first non-finite loss). */
  private async deviceWindow(runner: TrainingRunner, held: HomeData, window: readonly { readonly order: Int32Array | null; readonly begin: number; readonly end: number }[]): Promise<Float32Array> {
    const frozen = new Set(this.frozenParts);
    try {
      for (let i = 0; i < window.length; i++) {
        const u = window[i]!;
        if (u.order !== null) held.order(u.order);
        await runner.enqueue(held, u.begin, u.end, runner.counter + i, frozen);
      }
    } catch (error) {
      // What was queued runs out (and closes the window's error scope); the error is the one to report.
      await held.flush().catch(() => undefined);
      throw error;
    }
    const losses = await held.flush();
    let good = 0;
    while (good < losses.length && Number.isFinite(losses[good]!)) good++;
    runner.advance(good);
    this.updates += good;
    if (good > 0) this.phase = runner.step.name;
    return losses;
  }

  private checkPart(part: string): string {
    const owners = new Set([...this.plan.parts.map((p) => p.name), ...this.plan.tensors.map((t) => t.owner)]);
    if (!owners.has(part)) throw new ReprError(this.unknown("part", part, [...owners]));
    return part;
  }

  private unknown(what: string, name: string, known: readonly string[]): string {
    const suggestion = suggestName(name, known);
    const hint = suggestion !== undefined ? `; did you mean '${suggestion}'?` : ` (${what === "training step" ? "training steps" : `${what}s`}: ${known.join(", ") || "none"})`;
    return `model '${this.plan.model}' has no ${what} '${name}'${hint}`;
  }
}


Object.defineProperty(Model.prototype, disposeSymbol, {
  value: function (this: Model): void {
    this.dispose();
  },
  writable: true,
  configurable: true,
});
