/**
 * A compiled model as plain data: what `repr compile` embeds in a generated
 * TypeScript module, what the runtime's `Model` executes and what its
 * training engine runs (`runtime/train/`), and what `repr train` itself
 * builds and runs. The compiler makes every decision (graphs, names, shapes,
 * the steps of each pipeline); the runtime only follows the plan. Everything
 * is JSON: graphs, shapes and names.
 *
 * Graphs that see a batch are `BatchGraph`s: symbolic in the batch size, so
 * the runtime instantiates one at whatever number of examples it is given,
 * plans its memory and compiles it per size (and caches that), with no
 * compiler at run time and no padding.
 */
import type { DataSpec } from "../data/spec.js";
import type { BatchGraph } from "../ir/batch-graph.js";
import type { DType } from "../ir/ops.js";
import type { KernelGraph } from "../kernel/graph.js";

/**
 * The version of the plan format; the runtime refuses any other. 2: training
 * steps name the feeds they need besides data, `step` and `seed` (`noise`,
 * `updatesInput`). 3: graphs are symbolic in the batch size (`BatchGraph`),
 * and plans carry their pipelines (`pipelines`, `data`). 4: a test step's
 * metrics name what they compare the prediction with (`PlanMetric.target`,
 * graph outputs `target/<name>`) instead of reading the losses' objectives.
 */
export const PLAN_FORMAT = 4;

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
 * in eval mode, batch-wise independent, at any number of examples. Graph
 * inputs are the function's inputs, with the batch axis in front; its one
 * output is named `output`.
 */
export interface PlanFunction {
  /** The method name in the generated module, a valid identifier. */
  readonly name: string;
  /** Its documentation (from `///` comments), or null. */
  readonly doc: string | null;
  readonly inputs: readonly PlanInput[];
  readonly output: ExampleType;
  /** The graph, symbolic in the number of examples. */
  readonly graph: BatchGraph;
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

/**
 * How a training step updates its parameters, as data (spec/optimizers.md):
 * what its graph computes after the gradients, for targets that compute
 * the gradients themselves (`repr compile --target pytorch`). The step's
 * graph already holds all of it; the runtime never reads this.
 */
export interface PlanOptimizer {
  readonly kind: "sgd" | "momentum" | "adam" | "adamw";
  readonly lr: number;
  /** momentum's β. */
  readonly beta: number;
  /** adam's and adamw's β₁, β₂ and ε. */
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** adamw's decoupled decay (0 for the others). */
  readonly decoupledDecay: number;
  /** The learning-rate schedule: `constant`, `warmup(steps)` or `cosine(warmup)` over the step's updates. */
  readonly schedule: { readonly kind: "constant" } | { readonly kind: "warmup"; readonly steps: number } | { readonly kind: "cosine"; readonly warmup: number };
  /** The global-norm bound of the gradients, or null. */
  readonly clip: number | null;
  /** Coupled weight decay λ (g ← g + λ·θ for decayed parameters). */
  readonly weightDecay: number;
  /** Each trained parameter: its rate multiplier (lr_scale × layer decay) and whether decay applies to it. */
  readonly params: readonly { readonly name: string; readonly rate: number; readonly decay: boolean }[];
}

/** A training step of the model (a `pretrain` or `adapt` step of a pipeline, or the model's own objective). */
export interface PlanTraining {
  /** Its name: `train`, or the pipeline step it comes from (`pretrain`, `adapt`). */
  readonly name: string;
  readonly doc: string | null;
  /** The data inputs one batch feeds (model inputs, the label field of a supervised step). */
  readonly inputs: readonly PlanInput[];
  /** The examples per update by default (the step's `batch` setting); any other size runs too. */
  readonly batch: number;
  /** Forward, backward and update as one graph (outputs `loss` and `new:<tensor>`), symbolic in the batch size. */
  readonly graph: BatchGraph;
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
  /** How it updates its parameters (absent from plans compiled before it was recorded). */
  readonly optimizer?: PlanOptimizer;
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

/** Which examples a pipeline step reads: a split of a data declaration, with its selection (spec/data.md, "Selections"). */
export interface PlanDataRef {
  /** The data declaration (one of `ModelPlan.data`). */
  readonly data: string;
  readonly split: "train" | "test";
  /** The labels kept, renumbered 0 … n−1 in this order; null keeps all. */
  readonly labels: readonly number[] | null;
  /** The first examples of each class kept; null keeps all. */
  readonly perClass: number | null;
}

/**
 * A metric a test step reports (spec/pipelines.md, "Metrics"): `accuracy`,
 * `top_k`, `perplexity` (the prediction's scores against class ids), `mse`,
 * `mae`, `psnr` (its values against values), `nearest_neighbors`.
 */
export interface PlanMetric {
  readonly name: string;
  /** Its arguments (`k`, `max`, `target`), as written. */
  readonly args: Readonly<Record<string, number | string | boolean>>;
  /** How reports name it: `accuracy`, `top_k(k: 3)`. */
  readonly label: string;
  /**
   * What the prediction is compared with: the name of the evaluation graph's
   * output holding it (`target/image`), or null for the step's label field
   * (and for `nearest_neighbors`, which compares no prediction).
   */
  readonly target: string | null;
}

/** A model's tensors at some point of a pipeline, and their initialization. */
export interface PlanTensors {
  readonly tensors: readonly PlanTensor[];
  /** Initial values: input `seed` (i32 scalar), one output per tensor. */
  readonly init: KernelGraph;
}

/**
 * One step of a pipeline, as the engine runs it (spec/pipelines.md):
 *
 * - `pretrain` and `adapt` run a training step over a split (`pretrain`
 *   first gives every tensor its initial value from its seed);
 * - `freeze` and `unfreeze` change only what later steps' graphs were lowered
 *   with: they are recorded, nothing runs;
 * - `replace` drops a head's tensors and initializes the new head's (its
 *   `init` graph, with the pretrain step's seed), of whatever shape;
 * - `test` evaluates over a split: the mean of each loss, and metrics.
 */
export type PlanStep =
  | {
      readonly kind: "pretrain" | "adapt";
      readonly data: PlanDataRef;
      /** The step's `seed` setting, or null (0 unless the run gives one). */
      readonly seed: number | null;
      readonly training: PlanTraining;
    }
  | { readonly kind: "freeze" | "unfreeze"; readonly parts: readonly string[] }
  | {
      readonly kind: "replace";
      readonly part: string;
      /** The new head's tensors and their initialization. */
      readonly head: PlanTensors;
    }
  | {
      readonly kind: "test";
      readonly data: PlanDataRef;
      readonly seed: number | null;
      /** Examples per evaluated batch (its `batch` setting). */
      readonly batch: number;
      /** The data inputs a batch feeds. */
      readonly inputs: readonly PlanInput[];
      /**
       * The evaluation graph, symbolic in the batch size, reading `seed` and
       * `step` (the batch number) when it draws masks: outputs `loss/<name>`
       * per loss, and what the metrics need: `prediction`, `features`,
       * `target/<name>` for the metrics' targets, and `picture/<loss>/pred|target|on`.
       */
      readonly graph: BatchGraph;
      readonly metrics: readonly PlanMetric[];
      /** The split's label field, which accuracy and top-k compare against, or null. */
      readonly label: string | null;
      /** The split `nearest_neighbors` searches: the last training step's, or null. */
      readonly reference: PlanDataRef | null;
      readonly noise: readonly PlanNoiseTable[];
    };

/** A pipeline over the model: its steps, and the model after it. */
export interface PlanPipeline {
  readonly name: string;
  readonly doc: string | null;
  readonly steps: readonly PlanStep[];
  /** The model's tensors where the pipeline starts (the model as declared), which its `pretrain` initializes. */
  readonly start: PlanTensors;
  /**
   * The model after the pipeline when a step replaced a head: its tensors and
   * its functions (the new head's shapes); null when it is the model as declared.
   */
  readonly after: (PlanTensors & { readonly functions: readonly PlanFunction[] }) | null;
}

/**
 * How the model generates (spec/sampling.md), as `Model.sample` and `repr
 * sample` run it; decided by the compiler from the model's structure:
 *
 * - `next-token`: a causal model whose prediction reads a `next_token`
 *   mask's input. Function `fn` maps a window of `length` token ids (input
 *   `input`) to scores `[length − 1, vocab]`, position i scoring the token
 *   after ids 0..i; the runtime extends a prompt one drawn token at a time.
 * - `prior`: a variational bottleneck whose code the decoder reads. Function
 *   `fn` (`decode`) maps codes of `shape` (input `input`) to outputs; the
 *   runtime decodes draws from the prior N(0, I).
 */
export type PlanSampling =
  | {
      readonly kind: "next-token";
      readonly fn: string;
      readonly input: string;
      readonly length: number;
      readonly vocab: number;
      /** The input type's special tokens (its last ids), which are never drawn. */
      readonly special: readonly string[];
    }
  | { readonly kind: "prior"; readonly fn: string; readonly input: string; readonly shape: readonly number[] };

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
  /** The model's own training step (`train`: every loss), when it has losses. */
  readonly training: readonly PlanTraining[];
  /** The data declarations its pipelines read. */
  readonly data: readonly DataSpec[];
  /** How the model generates, or null when it cannot (spec/sampling.md). */
  readonly sampling: PlanSampling | null;
  /** Its pipelines, in the order of the `.repr` file. */
  readonly pipelines: readonly PlanPipeline[];
}
