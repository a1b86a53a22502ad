/**
 * What `repr bench` times in one model: each training step of its plan (the
 * model's own objective, and every pipeline stage that trains it, as a model
 * of the tensors it has there) as `Model.trainStep` runs it, and each function (encode, decode, forward,
 * heads) as `Model.call` runs it — the same calls `repr train` and apps make,
 * on the backend they would use, so the rates are what a user gets. Inputs
 * are made once, deterministically (ids within their vocabulary or classes,
 * floats in [0, 1)), before timing; the weights are the plan's
 * initialization. bench/all.ts times the examples' steps through this too.
 */
import { Model } from "../../runtime/api/model.js";
import { chunkSizes } from "../../runtime/api/function.js";
import type { BackendChoice } from "../../runtime/api/backends.js";
import { initialTensors } from "../../runtime/api/init.js";
import type { ModelPlan, PlanInput, PlanTraining } from "../../runtime/api/plan.js";
import type { ModelTensor } from "../../runtime/api/weights.js";
import { tensorsAtStep } from "../../runtime/train/pipeline-engine.js";
import { instantiateBatchGraph, type BatchGraph } from "../../runtime/ir/batch-graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { CPU_PLAN } from "../../runtime/backends/cpu/index.js";
import { measure, type MeasureOptions } from "./measure.js";

/** One timed workload of a model. */
export interface BenchResult {
  readonly model: string;
  /** A training step (`train`, `pretrain`, `adapt`, …) or a function. */
  readonly kind: "training step" | "function";
  readonly name: string;
  readonly batch: number;
  /** Updates per second (training steps) or calls per second (functions): the median round. */
  readonly runsPerSecond: number;
  /** Examples per second: `runsPerSecond × batch`. */
  readonly examplesPerSecond: number;
  /** Peak resident bytes while it ran, less those before its first run (compilation included). */
  readonly peakBytes: number;
  /** The bytes the memory plan of its kernel graph(s) at this batch allocates (the arena). */
  readonly arenaBytes: number;
  readonly rounds: number;
}

/** How to bench a model. */
export interface ModelBenchOptions extends MeasureOptions {
  readonly backend: BackendChoice;
  /** Examples per batch for every workload; default: each training step's own batch, and for functions the model's first training batch (else 32). */
  readonly batch?: number;
  /** Only workloads whose name is listed (training steps and functions alike). */
  readonly only?: readonly string[];
}

const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

/** `batch` examples of each input, the same on every call: ids in their range (vocab, classes, else 8), floats in [0, 1). */
export function exampleData(inputs: readonly PlanInput[], batch: number): Record<string, Float32Array | Int32Array> {
  let seed = 1;
  const next = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const data: Record<string, Float32Array | Int32Array> = {};
  for (const i of inputs) {
    const n = batch * size(i.shape);
    const range = i.vocab ?? i.classes ?? 8;
    data[i.name] = i.dtype === "i32" ? Int32Array.from({ length: n }, () => Math.floor(next() * range)) : Float32Array.from({ length: n }, next);
  }
  return data;
}

/** The bytes the memory plan of `graph` at `batch` allocates (planned as `backend` plans: the CPU joins attention). */
export function arenaBytes(graph: BatchGraph, batch: number, backend?: string): number {
  return planKernelGraph(instantiateBatchGraph(graph, batch), backend === "cpu" ? CPU_PLAN : {}).memory.peakBytes;
}

/** A pipeline stage that trains (`pretrain`, `adapt`): its name for reports, its training step and the tensors the model has there. */
interface Stage {
  readonly name: string;
  readonly training: PlanTraining;
  readonly plan: ModelPlan;
  readonly weights: Map<string, ModelTensor>;
}

/**
 * Every training stage of the plan's pipelines, each as a plan of its own
 * whose one training step is the stage's, over the tensors the model has
 * there (after the heads replaced before it), initialized as the pipeline
 * initializes them (seed 1). Named `PIPELINE.KIND`, with the step's number
 * after it where a pipeline has two stages of that kind.
 */
function pipelineStages(plan: ModelPlan): Stage[] {
  const stages: Stage[] = [];
  for (const pipeline of plan.pipelines) {
    const weights = initialTensors(pipeline.start, 1);
    const kinds = pipeline.steps.map((s) => s.kind);
    pipeline.steps.forEach((step, i) => {
      if (step.kind === "replace") {
        const owned = tensorsAtStep(pipeline, i).filter((t) => t.owner === step.part);
        for (const t of owned) weights.delete(t.name);
        for (const [name, value] of initialTensors(step.head, 1)) weights.set(name, value);
      }
      if (step.kind !== "pretrain" && step.kind !== "adapt") return;
      const twice = kinds.filter((k) => k === step.kind).length > 1;
      const name = `${pipeline.name}.${step.kind}${twice ? `.${i + 1}` : ""}`;
      const training = { ...step.training, name };
      const tensors = tensorsAtStep(pipeline, i);
      stages.push({ name, training, plan: { ...plan, tensors, training: [training], functions: [], pipelines: [], sampling: null }, weights: new Map(tensors.map((t) => [t.name, weights.get(t.name)!])) });
    });
  }
  return stages;
}

/**
 * Times every training step of `plan` (the model's own, then each pipeline
 * stage's) and every function, or those `only` names, one after another, and
 * reports each as it ends through `report` too (so a long run shows
 * progress). A model's tensors are made before any timing starts: they are
 * set-up, not a workload's peak.
 */
export async function benchModel(plan: ModelPlan, options: ModelBenchOptions, report: (r: BenchResult) => void = () => {}): Promise<{ backend: string; results: BenchResult[] }> {
  const results: BenchResult[] = [];
  const wanted = (name: string): boolean => options.only === undefined || options.only.includes(name);
  const done = (r: BenchResult): void => {
    results.push(r);
    report(r);
  };
  const step = async (model: Model, training: PlanTraining): Promise<void> => {
    const batch = options.batch ?? training.batch;
    const data = exampleData(training.inputs, batch);
    const m = await measure(() => model.trainStep(training.name, data, batch), options);
    done({ model: plan.model, kind: "training step", name: training.name, batch, runsPerSecond: m.perSecond, examplesPerSecond: m.perSecond * batch, peakBytes: m.peakBytes, arenaBytes: arenaBytes(training.graph, batch, model.backend), rounds: m.rounds });
  };
  const model = await Model.create(plan, { backend: options.backend, seed: 1 });
  try {
    for (const training of plan.training.filter((t) => wanted(t.name))) await step(model, training);
    for (const stage of pipelineStages(plan).filter((s) => wanted(s.name))) {
      const staged = await Model.create(stage.plan, { backend: options.backend, seed: 1, weights: stage.weights });
      try {
        await step(staged, stage.training);
      } finally {
        staged.dispose();
      }
    }
    const functionBatch = options.batch ?? plan.training[0]?.batch ?? 32;
    for (const fn of plan.functions.filter((f) => wanted(f.name))) {
      const data = exampleData(fn.inputs, functionBatch);
      const m = await measure(() => model.call(fn.name, data, functionBatch), options);
      // A call runs its examples in chunks; each chunk size is a graph of its own, compiled and kept.
      const arena = [...new Set(chunkSizes(functionBatch))].reduce((s, n) => s + arenaBytes(fn.graph, n, model.backend), 0);
      done({ model: plan.model, kind: "function", name: fn.name, batch: functionBatch, runsPerSecond: m.perSecond, examplesPerSecond: m.perSecond * functionBatch, peakBytes: m.peakBytes, arenaBytes: arena, rounds: m.rounds });
    }
    return { backend: model.backend, results };
  } finally {
    model.dispose();
  }
}
