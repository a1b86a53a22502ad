/**
 * The training engine: runs a pipeline of a plan (spec/pipelines.md) step by
 * step on a home (CPU, reference or WebGPU), for `repr train` and for apps
 * alike. `pretrain` gives every tensor its initial value from its seed and
 * trains; `freeze`, `unfreeze` are recorded (the later steps' graphs were
 * lowered with them); `replace` installs a fresh head of any shape; `adapt`
 * trains on; `test` evaluates. Training goes through the one loop
 * (`loop.ts`), so the NaN guard, interrupts and periodic checkpoints behave
 * the same everywhere.
 *
 * Where a run stands is a `RunState` — the step and update that come next,
 * the history, and every tensor (with the running step's optimizer state) —
 * which the caller may store (a resume checkpoint) and pass back to continue
 * exactly: update t of a step is a pure function of t.
 *
 * Invariant: a state at update 0 of a step means the step has not started;
 * resuming there starts it afresh on the tensors as they stand.
 */
import type { TensorFeed } from "../backends/backend.js";
import { shuffledOrder } from "../data/shuffle.js";
import { labelFieldOf, shapeSize, type DataSpec } from "../data/spec.js";
import { selectSplit } from "../data/select.js";
import type { Column, Split } from "../data/split.js";
import { DataError } from "../data/errors.js";
import { ReprError } from "../api/errors.js";
import type { HomeTensor, TensorHome } from "../api/home.js";
import { initialTensors } from "../api/init.js";
import type { Inputs } from "../api/inputs.js";
import type { ModelPlan, PlanDataRef, PlanPipeline, PlanStep, PlanTensor } from "../api/plan.js";
import { noiseFeeds, stepFeeds } from "../api/step-feeds.js";
import type { ModelTensor } from "../api/weights.js";
import { Evaluator, type Evaluation, type EvaluationData, type PictureOutputs } from "./evaluate.js";
import { emptyHistory, globalUpdates, type LossSeries, type RunHistory, type StepRecord } from "./history.js";
import { runTrainLoop } from "./loop.js";
import { TrainingRunner } from "./training-runner.js";

/** The two splits of a data declaration, as columns or plain typed arrays by field name. */
export interface DataSplits {
  readonly train: Split | Inputs;
  readonly test: Split | Inputs;
}

/** The data of a run: by declaration name, or a function that loads a declaration's splits when a step first reads them. */
export type PipelineData = Readonly<Record<string, DataSplits>> | ((name: string) => Promise<DataSplits>);

/** What happened, as a run goes (for progress bars and logs). */
export type ProgressEvent =
  | { readonly kind: "step-start"; readonly step: number; readonly phase: PlanStep["kind"]; readonly updates: number; readonly next: number; readonly examples: number }
  | { readonly kind: "update"; readonly step: number; readonly phase: "pretrain" | "adapt"; readonly update: number; readonly updates: number; readonly loss: number; readonly examples: number }
  | { readonly kind: "step-end"; readonly step: number; readonly phase: PlanStep["kind"]; readonly record: StepRecord };

/** What a finished step hands to `onStepEnd`: its record, and for a training step its weights, for a test its pictures. */
export interface StepEnd {
  /** The step's number, from 1. */
  readonly step: number;
  readonly record: StepRecord;
  /** The history so far (this step included). */
  readonly history: RunHistory;
  /** Every tensor of the model as it is now (reads them back from the device). */
  readonly weights: () => Promise<Map<string, ModelTensor>>;
  /** A test step's pictures (the first examples' `picture/…` outputs), or null. */
  readonly pictures: PictureOutputs | null;
}

/** Where a run stands: enough to continue it exactly. */
export interface RunState {
  readonly pipeline: string;
  /** The step (0-based) and its update that come next. */
  readonly stepIndex: number;
  readonly next: number;
  readonly history: RunHistory;
  /** Every tensor of the model and, in the middle of a training step, its optimizer state. */
  readonly tensors: ReadonlyMap<string, ModelTensor>;
}

/** How a run goes. */
export interface PipelineRunOptions {
  readonly data: PipelineData;
  /** Overrides every step's seed (`--seed`). */
  readonly seed?: number;
  /** Overrides every training step's length: updates, or passes over its data. */
  readonly steps?: number;
  readonly epochs?: number;
  /** Overrides every step's batch size. */
  readonly batch?: number;
  /** Uses only the first `limit` examples of each split (after its selection): a quick trial. */
  readonly limit?: number;
  /** Aborting stops the run after the update in progress; the result carries the state to resume from. */
  readonly signal?: AbortSignal;
  /** Called as the run goes; a promise it returns is awaited. */
  readonly onProgress?: (event: ProgressEvent) => void | Promise<void>;
  /** Called (and awaited) after each step, before the run moves on (checkpoints, reports). */
  readonly onStepEnd?: (end: StepEnd) => Promise<void>;
  /** Periodic checkpoints: `save` is called with the run's state at least `everyMs` apart, between updates, and at each step boundary. */
  readonly checkpoint?: { readonly everyMs: number; readonly save: (state: RunState) => Promise<void> };
  /** Continue a stopped run. */
  readonly resume?: RunState;
  /** Start at this step (0-based), the steps before it only setting up the model (`--start-at`). */
  readonly startAt?: number;
  /** Tensors that replace the initial ones where the run starts (`--init`), by name. */
  readonly init?: ReadonlyMap<string, ModelTensor>;
}

/** How a run ended. */
export type PipelineOutcome =
  | { readonly kind: "done"; readonly history: RunHistory }
  | { readonly kind: "stopped"; readonly history: RunHistory; readonly state: RunState };

/** A training step's loss stopped being finite: the update was not applied. */
export class TrainingDiverged extends ReprError {
  constructor(
    readonly loss: number,
    /** The update (from 1) whose loss was not finite. */
    readonly update: number,
    /** The step's number, from 1. */
    readonly step: number,
    readonly phase: string,
    /** The history of the run up to that update. */
    readonly history: RunHistory,
  ) {
    super(`training stopped: the loss became ${loss} at update ${update} of step ${step} (${phase}); the update was not applied`);
  }
}

/** Runs pipeline steps on a home. One engine runs one pipeline once. */
export class PipelineEngine {
  /** The model's tensors as they are now, by name. */
  readonly tensors = new Map<string, HomeTensor>();
  /** The plan's description of each of them. */
  private readonly described = new Map<string, PlanTensor>();
  private history: RunHistory = emptyHistory();
  private readonly splits = new Map<string, Promise<Split>>();
  private readonly loaded = new Map<string, Promise<DataSplits>>();

  constructor(
    readonly plan: ModelPlan,
    readonly pipeline: PlanPipeline,
    readonly home: TensorHome,
    private readonly options: PipelineRunOptions,
  ) {}

  /** The seed of a step: the run's, else its own, else 0. */
  private seedOf(step: { readonly seed: number | null }): number {
    return this.options.seed ?? step.seed ?? 0;
  }

  /** The pretrain step's seed: it fixed the initial weights and seeds fresh heads. */
  private get pretrainSeed(): number {
    const first = this.pipeline.steps[0];
    return first !== undefined && first.kind === "pretrain" ? this.seedOf(first) : (this.options.seed ?? 0);
  }

  /** Runs the pipeline from its start, or from where `options.resume` stopped. */
  async run(): Promise<PipelineOutcome> {
    const steps = this.pipeline.steps;
    const resume = this.options.resume ?? null;
    const startAt = this.options.startAt ?? 0;
    let from = { stepIndex: 0, next: 0 };
    if (resume !== null) {
      if (resume.pipeline !== this.pipeline.name) throw new ReprError(`the state to resume is of pipeline '${resume.pipeline}', not '${this.pipeline.name}'`);
      this.history = structuredClone(resume.history);
      from = { stepIndex: resume.stepIndex, next: resume.next };
      // A run stopped before its first step has no tensors yet: its pretrain makes them.
      const fresh = resume.tensors.size === 0 && resume.next === 0 && steps[resume.stepIndex]?.kind === "pretrain";
      if (!fresh) this.setTensors(this.tensorsAt(resume.stepIndex), resume.tensors);
    }
    for (let i = from.stepIndex; i < steps.length; i++) {
      const step = steps[i]!;
      if (resume === null && i < startAt) {
        this.skip(i, step);
        continue;
      }
      if (this.options.signal?.aborted) return this.stopped(i, 0, null);
      if (resume === null && i === startAt && this.options.init !== undefined && step.kind !== "pretrain") this.applyInit(i);
      const resumed = resume !== null && i === from.stepIndex && from.next > 0;
      const outcome = await this.runStep(i, step, resumed ? from.next : 0, resumed ? resume.tensors : null);
      if (outcome !== null) return outcome;
      if (i + 1 < steps.length && this.options.checkpoint) await this.options.checkpoint.save(await this.state(i + 1, 0, null));
      await this.options.onProgress?.({ kind: "step-end", step: i + 1, phase: step.kind, record: this.history.steps.find((s) => s.step === i + 1)! });
    }
    return { kind: "done", history: this.history };
  }

  /** Evaluates test step `i` with the tensors as they are (`repr test`). */
  async test(i: number): Promise<{ record: StepRecord; pictures: PictureOutputs | null }> {
    const step = this.pipeline.steps[i];
    if (step === undefined || step.kind !== "test") throw new ReprError(`step ${i + 1} of pipeline '${this.pipeline.name}' is not a test step`);
    const { record, evaluation } = await this.evaluate(i, step);
    return { record, pictures: evaluation.pictures };
  }

  /** The tensors the model has at step `i` (after the heads replaced before it). */
  tensorsAt(i: number): PlanTensor[] {
    return tensorsAtStep(this.pipeline, i);
  }

  /** Sets the model's tensors to `described`, with the values of `values` (every one must be there with its shape). */
  setTensors(described: readonly PlanTensor[], values: ReadonlyMap<string, ModelTensor>): void {
    for (const t of this.tensors.values()) this.home.free(t);
    this.tensors.clear();
    this.described.clear();
    for (const d of described) {
      const v = values.get(d.name);
      if (v === undefined) throw new ReprError(`the model's tensor '${d.name}' is missing`);
      if (v.shape.join() !== d.shape.join()) throw new ReprError(`the model's tensor '${d.name}' is [${v.shape.join(", ")}], not [${d.shape.join(", ")}]`);
      this.tensors.set(d.name, this.home.create(d.shape, d.dtype === "i32" ? "i32" : "f32", v.data));
      this.described.set(d.name, d);
    }
  }

  /** A copy of every tensor of the model. */
  async weights(): Promise<Map<string, ModelTensor>> {
    const out = new Map<string, ModelTensor>();
    for (const [name, t] of this.tensors) out.set(name, { shape: [...t.shape], data: await this.home.read(t) });
    return out;
  }

  /** Releases the model's tensors. */
  release(): void {
    for (const t of this.tensors.values()) this.home.free(t);
    this.tensors.clear();
  }

  /** A step before `startAt`: only its effect on the model (fresh weights, a new head). */
  private skip(i: number, step: PlanStep): void {
    if (step.kind === "pretrain") this.setTensors(this.pipeline.start.tensors, initialTensors(this.pipeline.start, this.seedOf(step)));
    if (step.kind === "replace") this.replace(i, step);
  }

  /** `init`: the given tensors replace the current ones where the run starts; each must be one of the model's, with its shape and type. */
  private applyInit(i: number): void {
    const init = this.options.init!;
    const expected = new Map(this.tensorsAt(i).map((t) => [t.name, t]));
    if (this.tensors.size === 0) {
      const first = this.pipeline.steps[0]!;
      this.setTensors(this.pipeline.start.tensors, initialTensors(this.pipeline.start, first.kind === "pretrain" ? this.seedOf(first) : 0));
    }
    for (const [name, t] of init) {
      const p = expected.get(name);
      if (p === undefined) throw new ReprError(`init: the model at step ${i + 1} has no tensor '${name}'`);
      if (p.shape.join() !== t.shape.join()) throw new ReprError(`init: tensor '${name}' has shape [${t.shape.join(", ")}], the model expects [${p.shape.join(", ")}]`);
      const wantsInt = p.dtype === "i32";
      if (wantsInt !== t.data instanceof Int32Array) throw new ReprError(`init: tensor '${name}' is ${wantsInt ? "floating point" : "integer"}, the model expects ${wantsInt ? "integers (i32)" : "f32"}`);
      this.home.write(this.tensors.get(name)!, t.data);
    }
  }

  private async runStep(i: number, step: PlanStep, next: number, resumedTensors: ReadonlyMap<string, ModelTensor> | null): Promise<PipelineOutcome | null> {
    switch (step.kind) {
      case "freeze":
      case "unfreeze": {
        const record: StepRecord = { step: i + 1, kind: step.kind, parts: step.parts };
        this.record(record);
        await this.stepEnd(i, record, null);
        return null;
      }
      case "replace": {
        this.replace(i, step);
        const params = step.head.tensors.reduce((n, t) => n + shapeSize(t.shape), 0);
        const record: StepRecord = { step: i + 1, kind: "replace", part: step.part, params };
        this.record(record);
        await this.stepEnd(i, record, null);
        return null;
      }
      case "test": {
        await this.options.onProgress?.({ kind: "step-start", step: i + 1, phase: "test", updates: 0, next: 0, examples: 0 });
        const { record, evaluation } = await this.evaluate(i, step);
        this.record(record);
        await this.stepEnd(i, record, evaluation.pictures);
        return null;
      }
      case "pretrain":
      case "adapt":
        return this.train(i, step, next, resumedTensors);
    }
  }

  private replace(i: number, step: Extract<PlanStep, { kind: "replace" }>): void {
    for (const [name, t] of [...this.tensors]) {
      if (this.described.get(name)?.owner !== step.part) continue;
      this.home.free(t);
      this.tensors.delete(name);
      this.described.delete(name);
    }
    const fresh = initialTensors(step.head, this.pretrainSeed);
    for (const d of step.head.tensors) {
      this.tensors.set(d.name, this.home.create(d.shape, d.dtype === "i32" ? "i32" : "f32", fresh.get(d.name)!.data));
      this.described.set(d.name, d);
    }
    if (this.tensorsAt(i + 1).length !== this.tensors.size) throw new Error(`internal error: step ${i + 1} leaves ${this.tensors.size} tensors, the plan ${this.tensorsAt(i + 1).length}`);
  }

  private async train(i: number, step: Extract<PlanStep, { kind: "pretrain" | "adapt" }>, next: number, resumedTensors: ReadonlyMap<string, ModelTensor> | null): Promise<PipelineOutcome | null> {
    const training = step.training;
    const split = await this.split(step.data);
    const o = this.options;
    const batch = Math.min(o.batch ?? training.batch, split.length);
    const perPass = Math.ceil(split.length / batch);
    const updates = o.steps ?? (o.epochs !== undefined ? o.epochs * perPass : training.updates > 0 ? training.updates : training.epochs * perPass);
    const seed = this.seedOf(step);
    if (next === 0 && step.kind === "pretrain") this.setTensors(this.pipeline.start.tensors, initialTensors(this.pipeline.start, seed));
    // `init` goes in where the run starts; a pretrain there applies it over its fresh weights.
    if (next === 0 && step.kind === "pretrain" && o.init !== undefined && i === (o.startAt ?? 0) && o.resume === undefined) this.applyInit(i);
    const runner = new TrainingRunner(training, this.home, this.tensors, [...this.described.values()], seed);
    try {
      if (resumedTensors !== null) runner.writeState(resumedTensors);
      runner.counter = next;
      const inputs = inputsOf(split);
      runner.useFeeds(stepFeeds(training, inputs, updates));

      const label = `${i + 1} ${step.kind}`;
      let series = this.history.series.find((s) => s.step === i + 1);
      if (series === undefined || next === 0) {
        this.history.series.splice(0, this.history.series.length, ...this.history.series.filter((s) => s.step !== i + 1));
        series = { step: i + 1, name: label, offset: globalUpdates(this.history), losses: [] } satisfies LossSeries;
        this.history.series.push(series);
      }
      series.losses.length = next;
      await o.onProgress?.({ kind: "step-start", step: i + 1, phase: step.kind, updates, next, examples: split.length });

      const stream = `${step.data.data}.${step.data.split}`;
      const started = Date.now();
      const result = await runTrainLoop({
        examples: split.length,
        batch,
        updates,
        start: next,
        order: (pass) => shuffledOrder(split.length, seed, pass, stream),
        run: (_t, indices) => runner.run(inputs, indices),
        commit: () => runner.commit(),
        onUpdate: (t, loss, examples) => {
          series.losses.push(loss);
          return o.onProgress?.({ kind: "update", step: i + 1, phase: step.kind, update: t, updates, loss, examples });
        },
        shouldStop: () => o.signal?.aborted === true,
        ...(o.checkpoint ? { pauseEveryMs: o.checkpoint.everyMs, onPause: async (at: number) => o.checkpoint!.save(await this.state(i, at, runner)) } : {}),
      });
      if (result.kind === "nonfinite") throw new TrainingDiverged(result.loss, result.next + 1, i + 1, step.kind, structuredClone(this.history));
      // Awaited here, before `finally` releases the runner whose optimizer state the state holds.
      if (result.kind === "stopped") return await this.stopped(i, result.next, runner);
      const lastPass = series.losses.slice(-perPass);
      const record: StepRecord = {
        step: i + 1,
        kind: step.kind,
        data: describeRef(step.data),
        examples: split.length,
        batch,
        updates,
        seconds: (Date.now() - started) / 1000,
        loss: lastPass.reduce((a, b) => a + b, 0) / Math.max(lastPass.length, 1),
        checkpoint: `${i + 1}-${step.kind}.safetensors`,
      };
      this.record(record);
      runner.destroy();
      await this.stepEnd(i, record, null);
      return null;
    } finally {
      runner.destroy();
    }
  }

  private async evaluate(i: number, step: Extract<PlanStep, { kind: "test" }>): Promise<{ record: StepRecord; evaluation: Evaluation }> {
    const split = await this.split(step.data);
    const batch = Math.min(this.options.batch ?? step.batch, split.length);
    const inputs = inputsOf(split);
    const feeds = new Map<string, TensorFeed>(noiseFeeds(`test step ${i + 1}`, step.noise, inputs));
    const evaluator = new Evaluator({ where: `test step ${i + 1}`, graph: step.graph, inputs: step.inputs, feeds }, this.home, this.tensors, this.seedOf(step));
    try {
      const started = Date.now();
      const data = evaluationData(split, step.label);
      const reference = step.reference !== null && step.metrics.some((m) => m.name === "nearest_neighbors") ? evaluationData(await this.split(step.reference), step.label) : null;
      const evaluation = await evaluator.evaluate(data, batch, step.metrics, reference);
      const pictureLoss = evaluation.pictures === null ? undefined : picturedLoss(evaluation.pictures);
      const record: StepRecord = {
        step: i + 1,
        kind: "test",
        data: describeRef(step.data),
        examples: evaluation.examples,
        seconds: (Date.now() - started) / 1000,
        losses: evaluation.losses,
        metrics: evaluation.metrics,
        ...(pictureLoss !== undefined ? { pictures: pictureLoss } : {}),
      };
      return { record, evaluation };
    } finally {
      evaluator.destroy();
    }
  }

  private record(r: StepRecord): void {
    const at = this.history.steps.findIndex((s) => s.step === r.step);
    if (at >= 0) this.history.steps.splice(at, 1);
    this.history.steps.push(r);
  }

  private async stepEnd(i: number, record: StepRecord, pictures: PictureOutputs | null): Promise<void> {
    await this.options.onStepEnd?.({ step: i + 1, record, history: this.history, weights: () => this.weights(), pictures });
  }

  /** The state at step `stepIndex`, update `next`, with the optimizer state of `runner` when in the middle of its step. */
  private async state(stepIndex: number, next: number, runner: TrainingRunner | null): Promise<RunState> {
    const tensors = await this.weights();
    if (runner !== null && next > 0) for (const [name, t] of await runner.readState()) tensors.set(name, t);
    return { pipeline: this.pipeline.name, stepIndex, next, history: structuredClone(this.history), tensors };
  }

  private async stopped(stepIndex: number, next: number, runner: TrainingRunner | null): Promise<PipelineOutcome> {
    const state = await this.state(stepIndex, next, runner);
    return { kind: "stopped", history: this.history, state };
  }

  /** The split a step reads: loaded once, its selection applied, cut to `limit` examples. */
  private split(ref: PlanDataRef): Promise<Split> {
    const key = describeRef(ref);
    let pending = this.splits.get(key);
    if (pending === undefined) {
      pending = this.loadSplit(ref);
      this.splits.set(key, pending);
    }
    return pending;
  }

  private async loadSplit(ref: PlanDataRef): Promise<Split> {
    const spec = this.plan.data.find((d) => d.name === ref.data);
    if (spec === undefined) throw new Error(`internal error: the plan has no data '${ref.data}'`);
    let pending = this.loaded.get(ref.data);
    if (pending === undefined) {
      const data = this.options.data;
      pending = typeof data === "function" ? data(ref.data) : Promise.resolve(givenData(data, ref.data));
      this.loaded.set(ref.data, pending);
    }
    let split = toSplit(spec, ref, (await pending)[ref.split]);
    if (ref.labels !== null || ref.perClass !== null) {
      const label = labelFieldOf(spec);
      if (label === null) throw new Error(`internal error: '${describeRef(ref)}' selects by label, but the data has no label field`);
      split = selectSplit(split, label, { ...(ref.labels !== null ? { labels: ref.labels } : {}), ...(ref.perClass !== null ? { perClass: ref.perClass } : {}) });
    }
    const limit = this.options.limit;
    if (limit !== undefined && limit < split.length) split = cutSplit(split, limit);
    if (split.length === 0) throw new DataError(split.origin, `has no examples for ${describeRef(ref)}.`, "empty");
    return split;
  }
}

/** The tensors a plan's model has at step `i` of a pipeline (after the heads replaced before it). */
export function tensorsAtStep(pipeline: PlanPipeline, i: number): PlanTensor[] {
  let tensors: PlanTensor[] = [...pipeline.start.tensors];
  for (const s of pipeline.steps.slice(0, i)) {
    if (s.kind === "replace") tensors = [...tensors.filter((t) => t.owner !== s.part), ...s.head.tensors];
  }
  return tensors;
}

/** `digits.train(labels: [5, 6], per_class: 10)`, as written in a pipeline. */
export function describeRef(ref: PlanDataRef): string {
  const args: string[] = [];
  if (ref.labels !== null) args.push(`labels: [${ref.labels.join(", ")}]`);
  if (ref.perClass !== null) args.push(`per_class: ${ref.perClass}`);
  return `${ref.data}.${ref.split}${args.length > 0 ? `(${args.join(", ")})` : ""}`;
}

/** The data a run was given for declaration `name`. */
function givenData(data: Readonly<Record<string, DataSplits>>, name: string): DataSplits {
  const d = Object.prototype.hasOwnProperty.call(data, name) ? data[name] : undefined;
  if (d === undefined) throw new ReprError(`the pipeline reads data '${name}', which was not given (data given: ${Object.keys(data).join(", ") || "none"})`);
  return d;
}

/** A split as the engine reads it: columns checked against the declaration. */
function toSplit(spec: DataSpec, ref: PlanDataRef, given: Split | Inputs | undefined): Split {
  const where = `data '${spec.name}', split '${ref.split}'`;
  if (given === undefined || given === null) throw new ReprError(`${where} was not given`);
  if (isSplit(given)) return given;
  let length = -1;
  const columns = new Map<string, Column>();
  for (const f of spec.fields) {
    const data = Object.prototype.hasOwnProperty.call(given, f.name) ? given[f.name] : undefined;
    if (data === undefined) throw new ReprError(`${where}: field '${f.name}' was not given`);
    const size = shapeSize(f.shape);
    const integer = f.kind !== "f32";
    const typed = integer ? (data instanceof Int32Array ? data : Int32Array.from(data)) : data instanceof Float32Array ? data : Float32Array.from(data);
    if (size === 0 || typed.length % size !== 0) throw new ReprError(`${where}: field '${f.name}' has ${typed.length} numbers, not a whole number of examples of ${size}`);
    const n = typed.length / size;
    if (length >= 0 && n !== length) throw new ReprError(`${where}: field '${f.name}' has ${n} examples, the others ${length}`);
    length = n;
    const range = f.classes ?? f.vocab;
    for (let i = 0; i < typed.length; i++) {
      const v = typed[i]!;
      if (integer ? !(Number.isInteger(v) && v >= 0 && (range === undefined || v < range)) : !Number.isFinite(v)) {
        throw new ReprError(`${where}: field '${f.name}' element ${i} is ${v}; ${integer ? `ids must be whole numbers in [0, ${range ?? "∞"})` : "numbers must be finite"}`);
      }
    }
    columns.set(f.name, { dtype: integer ? "i32" : "f32", shape: f.shape, data: typed });
  }
  return { origin: where, length: Math.max(length, 0), columns };
}

function isSplit(x: Split | Inputs): x is Split {
  return (x as Split).columns instanceof Map && typeof (x as Split).length === "number";
}

/** The first `n` examples of a split, sharing its memory. */
function cutSplit(split: Split, n: number): Split {
  const columns = new Map([...split.columns].map(([name, c]) => [name, { ...c, data: c.data.subarray(0, n * shapeSize(c.shape)) }] as const));
  return { ...split, length: n, columns };
}

/** A split's columns as inputs by field name. */
function inputsOf(split: Split): Inputs {
  return Object.fromEntries([...split.columns].map(([name, c]) => [name, c.data]));
}

function evaluationData(split: Split, label: string | null): EvaluationData {
  const column = label === null ? undefined : split.columns.get(label);
  return { inputs: inputsOf(split), length: split.length, labels: column !== undefined && column.data instanceof Int32Array ? column.data : null };
}

/** The loss whose pictures a report shows: the first whose prediction and target are images of one shape. */
function picturedLoss(pictures: PictureOutputs): string | undefined {
  for (const name of Object.keys(pictures)) {
    if (!name.startsWith("picture/") || !name.endsWith("/pred")) continue;
    const loss = name.slice("picture/".length, -"/pred".length);
    const pred = pictures[name]!;
    const target = pictures[`picture/${loss}/target`];
    if (target !== undefined && isImageShape(target.shape.slice(1)) && pred.shape.slice(1).join() === target.shape.slice(1).join()) return loss;
  }
  return undefined;
}

/** Whether a per-example shape is an image: [H, W], or [C, H, W] with 1–3 channels, each side at least 4. */
export function isImageShape(shape: readonly number[]): boolean {
  if (shape.length === 2) return shape[0]! >= 4 && shape[1]! >= 4;
  if (shape.length === 3) return shape[0]! >= 1 && shape[0]! <= 3 && shape[1]! >= 4 && shape[2]! >= 4;
  return false;
}
