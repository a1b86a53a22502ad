/**
 * A compiled model as plain data: what `repr compile` embeds in a generated
 * TypeScript module and what the runtime's `Model` executes. The compiler
 * makes every decision (graphs, batch sizes, names, shapes); the runtime only
 * follows the plan. Everything is JSON: kernel graphs, shapes and names.
 */
import type { DType } from "../ir/ops.js";
import type { KernelGraph } from "../kernel/graph.js";

/**
 * The version of the plan format; the runtime refuses any other. 2: training
 * steps name the feeds they need besides data, `step` and `seed` (`noise`,
 * `updatesInput`).
 */
export const PLAN_FORMAT = 2;

/** A tensor one example carries: its element type and per-example shape. */
export interface ExampleType {
  readonly dtype: DType;
  /** The shape of one example (the batch axis is not included). */
  readonly shape: readonly number[];
  /** For class ids: the number of classes. */
  readonly classes?: number;
  /** For token ids: the vocabulary size. */
  readonly vocab?: number;
}

/** A named input of a function. */
export interface PlanInput extends ExampleType {
  readonly name: string;
}

/**
 * A function of the model (`encode`, `decode`, `forward`, a head): inference
 * in eval mode, batch-wise independent. It is compiled at a fixed batch size
 * `batch` and at batch size 1, so the runtime runs any number of examples as
 * full batches plus single examples. Graph inputs are the function's inputs,
 * with the batch axis in front; its one output is named `output`.
 */
export interface PlanFunction {
  /** The method name in the generated module, a valid identifier. */
  readonly name: string;
  /** Its documentation (from `///` comments), or null. */
  readonly doc: string | null;
  readonly inputs: readonly PlanInput[];
  readonly output: ExampleType;
  readonly batch: number;
  /** The graph at `batch` examples. */
  readonly graph: KernelGraph;
  /** The graph at one example. */
  readonly single: KernelGraph;
}

/**
 * A noise distribution a training step draws from (a `skipgram` loss's
 * negatives): P(w) ∝ count(w)^¾ over ids 0 … `vocab` − 1, counted as
 * context ids in the data the step is given, fed as an alias table (`negativeTable`,
 * runtime/sampling/negative-table.ts) of `tableSize(vocab)` entries.
 */
export interface PlanNoiseTable {
  /** The graph input of the table's probabilities (f32 [tableSize(vocab)]). */
  readonly prob: string;
  /** The graph input of its aliases (i32 [tableSize(vocab)]). */
  readonly alias: string;
  /** The inputs of the step that hold the skipgram's context ids, which are counted (over all the data of a run). */
  readonly fields: readonly string[];
  /** The number of ids the distribution is over. */
  readonly vocab: number;
}

/** A training step of the model (a `pretrain` or `adapt` step of a pipeline, or the model's own objective). */
export interface PlanTraining {
  /** Its name: `train`, or the pipeline step it comes from (`pretrain`, `adapt`). */
  readonly name: string;
  readonly doc: string | null;
  /** The data inputs one batch feeds (model inputs, the label field of a supervised step). */
  readonly inputs: readonly PlanInput[];
  /** The examples per update: every batch has exactly this many. */
  readonly batch: number;
  /** Forward, backward and update as one graph (outputs `loss` and `new:<tensor>`). */
  readonly graph: KernelGraph;
  /** The parts it trains, and the parts frozen in it. */
  readonly trainable: readonly string[];
  readonly frozen: readonly string[];
  /** Optimizer state tensors (zero at the start) and their shapes. */
  readonly state: readonly { readonly name: string; readonly shape: readonly number[] }[];
  /** The updates one run of the step takes by default (its `steps` setting; 0 when the step sets none). */
  readonly updates: number;
  /** When `updates` is 0, the passes over the data one run takes by default (the step's `epochs` setting, else 1). */
  readonly epochs: number;
  /** The noise tables the runtime makes from the data of a run and feeds (api/step-feeds.ts). */
  readonly noise: readonly PlanNoiseTable[];
  /**
   * The i32 scalar graph input the runtime feeds with the number of updates
   * of the current run (what a `cosine` schedule decays over, when the step
   * sets `epochs` so that the number depends on the data), or null when the
   * graph needs none.
   */
  readonly updatesInput: string | null;
}

/** A tensor of the model: parameter or running statistic. */
export interface PlanTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** The part (or mask) that owns it. */
  readonly owner: string;
}

/** A part of the model, as the generated module describes it. */
export interface PlanPart {
  readonly name: string;
  readonly role: string;
  readonly doc: string | null;
}

/** A whole compiled model. */
export interface ModelPlan {
  readonly format: typeof PLAN_FORMAT;
  /** The model's name in its `.repr` file. */
  readonly model: string;
  readonly doc: string | null;
  /** The `.repr` file it was compiled from (for messages only). */
  readonly source: string;
  readonly parts: readonly PlanPart[];
  readonly tensors: readonly PlanTensor[];
  /** Initial values: input `seed` (i32 scalar), one output per tensor. */
  readonly init: KernelGraph;
  readonly functions: readonly PlanFunction[];
  readonly training: readonly PlanTraining[];
}
