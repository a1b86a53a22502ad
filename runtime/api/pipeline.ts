/**
 * `Pipeline`: a pipeline of a compiled model (a `ModelPlan`), run by the
 * training engine (runtime/train/pipeline-engine.ts) on a backend — what
 * `repr train` runs and what an app runs, in Node or in a browser:
 *
 *     const pipeline = await Pipeline.create(plan, "Transfer", { backend: "auto" });
 *     const result = await pipeline.run({ data: { digits: { train, test } }, onProgress, signal });
 *     if (result.kind === "done") await result.model.encode(...)
 *
 * Data comes as typed arrays by field name (or as loaded splits); the run
 * goes through the pipeline's steps (pretrain, freeze, replace with a head
 * of any shape, adapt, test) and hands back the trained model, or, stopped
 * by its signal, the state to resume from.
 */
import { DataError } from "../data/errors.js";
import { PipelineEngine, tensorsAtStep, type PipelineRunOptions, type RunState } from "../train/pipeline-engine.js";
import type { RunHistory, StepRecord } from "../train/history.js";
import type { PictureOutputs } from "../train/evaluate.js";
import { openHome, type BackendChoice, type StepGraph } from "./backends.js";
import { ReprError } from "./errors.js";
import type { TensorHome } from "./home.js";
import { Model } from "./model.js";
import { checkPlan } from "./plan-check.js";
import type { ModelPlan, PlanPipeline, PlanTensor } from "./plan.js";
import { zeroTensor } from "./init.js";
import { readWeights, type ModelTensor, type Weights } from "./weights.js";
import { suggestName } from "../checkpoint/match.js";

/** How a pipeline run ended: the trained model, or the state to resume from. */
export type PipelineResult =
  | { readonly kind: "done"; readonly history: RunHistory; readonly model: Model }
  | { readonly kind: "stopped"; readonly history: RunHistory; readonly state: RunState };

/** A pipeline of a plan on a backend, ready to run. */
export class Pipeline {
  private running = false;

  private constructor(
    readonly plan: ModelPlan,
    readonly pipeline: PlanPipeline,
    /** The backend it runs on: `webgpu`, `cpu` or `reference`. */
    readonly backend: string,
    private readonly choice: BackendChoice,
    /** The adapter it runs on, where a GPU runs it. */
    readonly adapter: string | null,
  ) {}

  /** A pipeline of `plan` by name; `backend` as `Model.create` takes it (default `auto`). */
  static async create(plan: ModelPlan, name: string, options: { readonly backend?: BackendChoice } = {}): Promise<Pipeline> {
    checkPlan(plan);
    const pipeline = plan.pipelines.find((p) => p.name === name);
    if (pipeline === undefined) {
      const known = plan.pipelines.map((p) => p.name);
      const suggestion = suggestName(name, known);
      throw new ReprError(`model '${plan.model}' has no pipeline '${name}'${suggestion !== undefined ? `; did you mean '${suggestion}'?` : ` (pipelines: ${known.join(", ") || "none"})`}`);
    }
    const choice = options.backend ?? "auto";
    // Open the backend once now, so a missing one fails here and the run reports which adapter it has.
    const home = await openHome(choice, trainingSteps(pipeline));
    const backend = home.backend;
    const adapter = home.adapter;
    home.release();
    return new Pipeline(plan, pipeline, backend, choice, adapter);
  }

  /** The pipeline's name. */
  get name(): string {
    return this.pipeline.name;
  }

  /** The tensors the model has at step `step` (0-based: after the heads replaced before it). */
  tensorsAt(step: number): PlanTensor[] {
    return tensorsAtStep(this.pipeline, step);
  }

  /** The plan of the model after the pipeline (its replaced heads). */
  get modelAfter(): ModelPlan {
    const end = this.pipeline.after ?? { ...this.pipeline.start, functions: null };
    // A plan compiled as the model after this pipeline (`repr compile --pipeline`) is that model already.
    if (sameTensors(end.tensors, this.plan.tensors)) return this.plan;
    if (end.functions === null) throw new Error("internal error: a plan whose tensors are not the model's as declared, nor after the pipeline");
    // Its own training step was made for other tensors: the model after the pipeline has none.
    return { ...this.plan, tensors: end.tensors, init: end.init, functions: end.functions, training: [] };
  }

  /**
   * Runs the pipeline (from its start, or from `options.resume`) and
   * resolves with the trained model, or with the state to resume from when
   * `options.signal` stopped it. A loss that becomes non-finite rejects with
   * `TrainingDiverged` (a `ReprError`) naming the update and the step;
   * problems with the data reject with a `ReprError` naming the data, the
   * field and what was expected.
   */
  async run(options: PipelineRunOptions): Promise<PipelineResult> {
    if (this.running) throw new ReprError(`pipeline '${this.name}' is already running`);
    this.running = true;
    const home = await openHome(this.choice, trainingSteps(this.pipeline));
    const engine = new PipelineEngine(this.plan, this.pipeline, home, options);
    let handed = false;
    try {
      const outcome = await dataErrorsAsReprErrors(() => engine.run());
      if (outcome.kind === "stopped") return outcome;
      const after = this.modelAfter;
      const weights = await engine.weights();
      engine.release();
      const last = [...outcome.history.steps].reverse().find((s): s is Extract<StepRecord, { kind: "pretrain" | "adapt" }> => s.kind === "pretrain" || s.kind === "adapt");
      const seed = options.seed ?? (this.pipeline.steps[0]?.kind === "pretrain" ? (this.pipeline.steps[0].seed ?? 0) : 0);
      const model = Model.fromValues(after, home, weights, seed, { step: outcome.history.series.reduce((n, s) => n + s.losses.length, 0), phase: last?.kind ?? "init" });
      handed = true;
      return { kind: "done", history: outcome.history, model };
    } finally {
      if (!handed) {
        engine.release();
        home.release();
      }
      this.running = false;
    }
  }

  /**
   * Evaluates test step `step` (0-based) with `weights` (every tensor the
   * model has at that step): its losses and metrics, and its pictures.
   */
  async test(step: number, weights: Weights, options: Pick<PipelineRunOptions, "data" | "seed" | "batch" | "limit">): Promise<{ record: StepRecord; pictures: PictureOutputs | null }> {
    const home = await openHome(this.choice, trainingSteps(this.pipeline));
    const engine = new PipelineEngine(this.plan, this.pipeline, home, options);
    try {
      const described = engine.tensorsAt(step);
      const read = readWeights(described, weights);
      // Tensors the weights may leave out (`num_batches_tracked`) start at zero.
      const values = new Map<string, ModelTensor>(described.map((t) => [t.name, read.tensors.get(t.name) ?? zeroTensor(t)]));
      engine.setTensors(described, values);
      return await dataErrorsAsReprErrors(() => engine.test(step));
    } finally {
      engine.release();
      home.release();
    }
  }
}

/** Whether two lists describe the same tensors (names, shapes and dtypes, in any order). */
function sameTensors(a: readonly PlanTensor[], b: readonly PlanTensor[]): boolean {
  const key = (t: PlanTensor) => `${t.name}:${t.dtype}:${t.shape.join("x")}`;
  return a.length === b.length && a.map(key).sort().join() === b.map(key).sort().join();
}

/** Data problems found while running reach an app as `ReprError`s, with the data's own message. */
async function dataErrorsAsReprErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof DataError) throw new ReprError(err.message, { cause: err });
    throw err;
  }
}

export type { PipelineRunOptions, RunState } from "../train/pipeline-engine.js";

/** The training steps a pipeline runs (its pretrain and adapt steps), for `auto` to choose a backend by. */
function trainingSteps(pipeline: PlanPipeline): StepGraph[] {
  return pipeline.steps.flatMap((s) => ("training" in s ? [s.training] : []));
}
