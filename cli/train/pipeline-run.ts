/**
 * Running a pipeline (spec/pipelines.md), step by step: `pretrain`
 * initializes every tensor from its seed and trains; `freeze`, `unfreeze` and
 * `replace` change what later steps lower (replace installs a fresh head);
 * `adapt` trains on; `test` evaluates. After each training step a checkpoint
 * of the parameters is written; a resume checkpoint records where the run
 * stands, so an interrupted run continues exactly (see `resume.ts`).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { findModel, modelParams, SEED_INPUT, STEP_INPUT, stepLowering, type StepLowering } from "../../compiler/lower/index.js";
import { labelField } from "../../compiler/check/data.js";
import type { CheckedModel, CheckedPipeline, CheckedProgram, DataRef, LayerNode } from "../../compiler/check/program.js";
import { messages } from "../../language/diagnostics/messages.js";
import type { Backend, TensorFeed } from "../../runtime/backends/backend.js";
import { checkpointMetadata, encodeSafetensors, type Tensor } from "../../runtime/checkpoint/index.js";
import { gatherBatch, shuffledOrder, type Split } from "../../runtime/data/index.js";
import { runTrainLoop } from "../../runtime/train/loop.js";
import type { TensorStore } from "../../runtime/train/store.js";
import { UserError } from "../errors.js";
import { createProgress } from "../report/progress.js";
import { DataSets, describeRef } from "./data-sources.js";
import { evaluate, evalNeeds, forEachBatch, type MetricRequest } from "./evaluate.js";
import { globalUpdates, type LossSeries, type RunHistory, type StepRecord } from "./history.js";
import { negativeFeeds } from "./negatives.js";
import { fromCheckpointTensor, initialStore, replaceHead, toCheckpointTensors } from "./params.js";
import { saveCheckpoint } from "./out-folder.js";
import { pictureRows, type PictureRow } from "./pictures.js";
import { StepPrograms } from "./programs.js";
import { writeResume, type ResumePoint } from "./resume.js";
import { testPause } from "./test-pause.js";
import type { TrainOptions } from "./options.js";
import { VERSION } from "../version.js";

/** How a run ended. */
export type RunOutcome = { readonly kind: "done" } | { readonly kind: "interrupted"; readonly signal: string; readonly resumeFile: string };

/** A pipeline run in progress. */
export class PipelineRun {
  private store: TensorStore | null = null;
  private interrupted: string | null = null;
  private readonly model: CheckedModel;
  /** Pictures of the last test step that had any. */
  pictures: PictureRow[] | null = null;
  /** Extra tensors to load before the first step that runs (`--init`), by name. */
  initTensors: { readonly file: string; readonly tensors: ReadonlyMap<string, Tensor> } | null = null;
  /** Called after every step with the history so far (writes the report). */
  onStepDone: (history: RunHistory) => Promise<void> = async () => undefined;

  constructor(
    private readonly program: CheckedProgram,
    private readonly pipeline: CheckedPipeline,
    private readonly options: TrainOptions,
    private readonly datasets: DataSets,
    private readonly backend: Backend,
    private readonly fingerprintValue: string,
    readonly history: RunHistory,
  ) {
    this.model = findModel(program, pipeline.model!);
  }

  /** The seed of a step: `--seed`, else its `seed` setting, else 0. */
  private seedOf(settings: { seed: number | null }): number {
    return this.options.seed ?? settings.seed ?? 0;
  }

  /** The pretrain step's seed: it fixed the initial weights and seeds fresh heads. */
  private get pretrainSeed(): number {
    const first = this.pipeline.steps[0]!;
    return first.kind === "pretrain" ? this.seedOf(first.settings) : 0;
  }

  /** Asks the run to stop at the next update boundary (a signal). */
  interrupt(signal: string): void {
    this.interrupted ??= signal;
  }

  private get resumeFile(): string {
    return join(this.options.out, "resume.safetensors");
  }

  /** Runs steps `from.stepIndex ..`, starting with `store` when resuming. */
  async run(from: { stepIndex: number; next: number; store: TensorStore | null }): Promise<RunOutcome> {
    this.store = from.store;
    const steps = this.pipeline.steps;
    for (let i = 0; i < steps.length; i++) {
      if (i < from.stepIndex) continue;
      if (i < this.options.startAt) {
        this.skip(i);
        continue;
      }
      if (this.interrupted !== null) return this.stop(i, 0);
      // `--init` weights go in where the pipeline starts: after the skipped steps (a pretrain applies them itself).
      if (i === this.options.startAt && i > 0 && from.store === null) this.applyInit(modelParams(this.model, this.replacedAfter(i - 1)));
      // A resume point at update 0 is a step not yet started: it starts afresh on the store as it stands.
      const resumedHere = from.store !== null && i === from.stepIndex && from.next > 0;
      const outcome = await this.runStep(i, resumedHere ? from.next : 0, resumedHere);
      if (outcome !== null) return outcome;
      await this.onStepDone(this.history);
      // Reported (metrics.json has it) and then refused: a test that measured NaN did not pass.
      this.checkFinite(i);
      if (i + 1 < steps.length) await this.saveResume(i + 1, 0);
      await testPause(`step:${i + 1}`);
    }
    rmSync(this.resumeFile, { force: true });
    return { kind: "done" };
  }

  /** The tensors of the model as it is at step `i` (after the heads replaced before it). */
  paramsAt(i: number): readonly { name: string; shape: readonly number[]; dtype: "f32" | "i32" }[] {
    return modelParams(this.model, this.replacedAfter(i)).map((p) => ({ name: p.name, shape: p.shape, dtype: p.dtype === "i32" ? "i32" : "f32" }));
  }

  /** Runs test step `i` with the given weights (`repr test`). */
  async testWith(i: number, store: TensorStore): Promise<void> {
    const step = this.pipeline.steps[i]!;
    if (step.kind !== "test") throw new Error("internal error: not a test step");
    this.store = store;
    await this.test(i, step.data, step.settings);
    this.checkFinite(i);
  }

  /** A test step whose losses or metrics are NaN or infinite is an error (RC811), naming the first such value. */
  private checkFinite(i: number): void {
    const record = this.history.steps.find((s) => s.step === i + 1);
    if (record?.kind !== "test") return;
    const values = [
      ...Object.entries(record.losses).map(([name, value]) => ({ what: "the loss", name, value })),
      ...Object.entries(record.metrics).map(([name, value]) => ({ what: "the metric", name, value })),
    ];
    const bad = values.find((v) => !Number.isFinite(v.value));
    if (bad) throw UserError.from(messages.nonFiniteResult, { step: i + 1, data: record.data, what: bad.what, name: bad.name, value: String(bad.value) });
  }

  /** A step before `--start-at`: only its effect on the model's state (fresh weights, a new head). */
  private skip(i: number): void {
    const step = this.pipeline.steps[i]!;
    if (step.kind === "pretrain") this.store = initialStore(this.loweringAt(i).lowered.params, this.pretrainSeed);
    if (step.kind === "replace") replaceHead(this.store!, step.part, modelParams(this.model, this.replacedAfter(i)), this.pretrainSeed);
  }

  private loweringAt(i: number): StepPrograms {
    const lowering = stepLowering(this.program, this.pipeline.name, i);
    return new StepPrograms(this.program, lowering.model, { ...lowering.options, prediction: false }, this.backend, null);
  }

  /** The heads replaced by steps `0 .. i`. */
  private replacedAfter(i: number): Map<string, LayerNode> {
    const replaced = new Map<string, LayerNode>();
    for (const s of this.pipeline.steps.slice(0, i + 1)) if (s.kind === "replace" && s.layer) replaced.set(s.part, s.layer);
    return replaced;
  }

  private async runStep(i: number, next: number, resumed: boolean): Promise<RunOutcome | null> {
    const step = this.pipeline.steps[i]!;
    switch (step.kind) {
      case "freeze":
      case "unfreeze":
        this.record({ step: i + 1, kind: step.kind, parts: step.parts });
        return null;
      case "replace": {
        replaceHead(this.store!, step.part, modelParams(this.model, this.replacedAfter(i)), this.pretrainSeed);
        this.record({ step: i + 1, kind: "replace", part: step.part, params: step.params });
        return null;
      }
      case "test":
        await this.test(i, step.data, step.settings);
        return null;
      case "pretrain":
      case "adapt":
        return this.train(i, next, resumed);
    }
  }

  private record(r: StepRecord): void {
    const at = this.history.steps.findIndex((s) => s.step === r.step);
    if (at >= 0) this.history.steps.splice(at, 1);
    this.history.steps.push(r);
  }

  /** The split a step reads, cut to `--limit` examples. */
  private async split(ref: DataRef): Promise<Split> {
    const split = await this.datasets.split(ref);
    const limit = this.options.limit;
    if (limit === null || limit >= split.length) return split;
    const columns = new Map([...split.columns].map(([name, c]) => {
      const per = c.shape.reduce((p, d) => p * d, 1);
      return [name, { ...c, data: c.data.subarray(0, limit * per) }] as const;
    }));
    return { ...split, length: limit, columns };
  }

  private async train(i: number, next: number, resumed: boolean): Promise<RunOutcome | null> {
    const step = this.pipeline.steps[i]!;
    if (step.kind !== "pretrain" && step.kind !== "adapt") throw new Error("internal error: not a training step");
    const lowering: StepLowering = stepLowering(this.program, this.pipeline.name, i);
    const settings = step.settings;
    const split = await this.split(step.data);
    const batch = Math.min(this.options.batch ?? settings.batch ?? lowering.options.batch, split.length);
    const perPass = Math.ceil(split.length / batch);
    const updates = this.options.steps ?? (this.options.epochs !== null ? this.options.epochs * perPass : (settings.steps ?? (settings.epochs ?? 1) * perPass));
    const seed = this.seedOf(settings);
    const programs = new StepPrograms(this.program, lowering.model, { ...lowering.options, batch, prediction: false }, this.backend, { settings, updates });

    if (!resumed) {
      if (step.kind === "pretrain") {
        this.store = initialStore(programs.lowered.params, seed);
        this.applyInit(programs.lowered.params);
      }
      for (const s of programs.state) this.store!.set(s.name, { shape: s.shape, data: new Float32Array(s.shape.reduce((p, d) => p * d, 1)) });
    }
    const store = this.store!;
    const label = `${i + 1} ${step.kind}`;
    let series = this.history.series.find((s) => s.step === i + 1);
    if (!series || !resumed) {
      this.history.series.splice(0, this.history.series.length, ...this.history.series.filter((s) => s.step !== i + 1));
      series = { step: i + 1, name: label, offset: globalUpdates(this.history), losses: [] } satisfies LossSeries;
      this.history.series.push(series);
    }
    series.losses.length = next;

    const arrays = new Map<number, Map<string, Float32Array | Int32Array>>();
    const dataInputs = programs.lowered.inputs.filter((x) => x.kind === "data").map((x) => x.name);
    const fixed: Record<string, TensorFeed> = negativeFeeds(programs.inputs, split, findModel(this.program, lowering.model));
    if (programs.inputs.some((x) => x.name === SEED_INPUT)) fixed[SEED_INPUT] = { shape: [], data: Int32Array.of(seed | 0) };
    const stream = `${step.data.data}.${step.data.split}`;
    const progress = createProgress({ total: updates, phase: label, plain: this.options.plain, stream: process.stderr, startStep: next });
    let seen = 0;
    const started = Date.now();
    const result = await runTrainLoop({
      examples: split.length,
      batch,
      updates,
      start: next,
      order: (pass) => shuffledOrder(split.length, seed, pass, stream),
      executable: (size) => programs.executable(size),
      batchFeeds: (indices) => {
        let out = arrays.get(indices.length);
        if (!out) arrays.set(indices.length, (out = new Map()));
        gatherBatch(split, indices, out);
        const feeds: Record<string, TensorFeed> = {};
        for (const name of dataInputs) feeds[name] = { shape: [indices.length, ...split.columns.get(name)!.shape], data: out.get(name)! };
        return feeds;
      },
      fixedFeeds: fixed,
      stepInput: programs.inputs.some((x) => x.name === STEP_INPUT) ? STEP_INPUT : null,
      store,
      onUpdate: (t, loss, examples) => {
        series.losses.push(loss);
        seen += examples;
        progress.update(t + 1, { loss, examples: seen });
        return testPause(`update:${i + 1}:${t + 1}`);
      },
      shouldStop: () => this.interrupted !== null,
      pauseEveryMs: this.options.checkpointEverySeconds * 1000,
      onPause: (at) => this.saveResume(i, at),
    });
    progress.stop();
    if (result.kind === "nonfinite") {
      const done = this.history.steps.filter((s) => s.kind === "pretrain" || s.kind === "adapt");
      const last = done[done.length - 1];
      const kept = last && last.kind !== "freeze" && "checkpoint" in last
        ? `the last good weights are in ${join(this.options.out, last.checkpoint)}; no checkpoint was written for this step`
        : "no checkpoint was written; try a smaller learning rate or `clip`";
      throw UserError.from(messages.diverged, { value: String(result.loss), update: result.next + 1, step: i + 1, phase: step.kind, kept });
    }
    if (result.kind === "stopped") return this.stop(i, result.next);
    for (const s of programs.state) store.delete(s.name);
    const checkpoint = `${i + 1}-${step.kind}.safetensors`;
    await this.saveWeights(join(this.options.out, checkpoint), step.kind);
    const lastPass = series.losses.slice(-perPass);
    this.record({
      step: i + 1,
      kind: step.kind,
      data: describeRef(step.data),
      examples: split.length,
      batch,
      updates,
      seconds: (Date.now() - started) / 1000,
      loss: lastPass.reduce((a, b) => a + b, 0) / Math.max(lastPass.length, 1),
      checkpoint,
    });
    return null;
  }

  /**
   * `--init`: the given tensors replace the initial ones, before the first
   * step that runs. Each must be a tensor of the model with its shape and
   * dtype (an integer tensor never fills a float one) and finite values.
   */
  private applyInit(params: readonly { name: string; shape: readonly number[]; dtype: string }[]): void {
    if (this.initTensors === null) return;
    const { file, tensors } = this.initTensors;
    const expected = new Map(params.map((p) => [p.name, p]));
    for (const [name, t] of tensors) {
      const p = expected.get(name);
      if (!p) throw new UserError(`--init: the model at step ${this.options.startAt + 1} has no tensor '${name}'`);
      const converted = fromCheckpointTensor(t, { shape: p.shape, dtype: p.dtype === "i32" ? "i32" : "f32" });
      if (typeof converted === "string") throw UserError.from(messages.badCheckpoint, { problem: `--init ${file}: tensor '${name}' ${converted}` });
      this.store!.set(name, converted);
    }
    this.initTensors = null;
  }

  private async test(i: number, ref: DataRef, settings: { seed: number | null; batch: number | null; metrics: readonly MetricRequest[] }): Promise<void> {
    const lowering = stepLowering(this.program, this.pipeline.name, i);
    const split = await this.split(ref);
    const batch = Math.min(this.options.batch ?? settings.batch ?? lowering.options.batch, split.length);
    const needs = evalNeeds(settings.metrics);
    const options = { ...lowering.options, batch, features: needs.features, objectiveValues: needs.objectiveValues, pictures: true };
    const programs = new StepPrograms(this.program, lowering.model, options, this.backend, null);
    const started = Date.now();
    const training = [...this.pipeline.steps.slice(0, i)].reverse().find((s) => s.kind === "pretrain" || s.kind === "adapt");
    const reference = needs.features && training && (training.kind === "pretrain" || training.kind === "adapt") ? { programs, split: await this.split(training.data) } : null;
    const label = labelField(this.datasets.declaration(ref.data));
    const fixed = negativeFeeds(programs.inputs, split, findModel(this.program, lowering.model));
    const result = evaluate(programs, split, { batch, seed: this.seedOf(settings), store: this.store!, labelField: label?.name ?? null, metrics: settings.metrics, reference, fixed });
    let pictures: string | undefined;
    const losses = Object.keys(programs.lowered.outputs.losses);
    forEachBatch(programs, split, Math.min(batch, 8), this.seedOf(settings), this.store!, fixed, (out) => {
      for (const loss of losses) {
        const rows = pictureRows(out, loss, 8);
        if (rows) {
          this.pictures = rows;
          pictures = `${i + 1}-test-${loss}.png`;
          this.picturesFile = pictures;
          return;
        }
      }
    }, Math.min(8, split.length));
    this.record({ step: i + 1, kind: "test", data: describeRef(ref), examples: result.examples, seconds: (Date.now() - started) / 1000, losses: result.losses, metrics: result.metrics, ...(pictures ? { pictures } : {}) });
  }

  /** The file name the last pictures go to. */
  picturesFile: string | null = null;

  private async saveWeights(path: string, phase: string): Promise<void> {
    const names = this.store!.names();
    const info = { version: VERSION, model: this.model.name, step: globalUpdates(this.history), phase, seed: this.pretrainSeed };
    await saveCheckpoint(path, encodeSafetensors(toCheckpointTensors(this.store!, names), checkpointMetadata(info)));
  }

  private async saveResume(stepIndex: number, next: number): Promise<void> {
    if (this.store === null) return;
    const point: ResumePoint = { fingerprint: this.fingerprintValue, pipeline: this.pipeline.name, stepIndex, next, history: this.history };
    const phase = this.pipeline.steps[stepIndex]?.kind ?? "done";
    await writeResume(this.resumeFile, this.store, point, { version: VERSION, model: this.model.name, step: globalUpdates(this.history), phase, seed: this.pretrainSeed });
  }

  private async stop(stepIndex: number, next: number): Promise<RunOutcome> {
    await this.saveResume(stepIndex, next);
    return { kind: "interrupted", signal: this.interrupted ?? "stop", resumeFile: this.resumeFile };
  }
}
