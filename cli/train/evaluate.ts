/**
 * Evaluating a model on a split (a `test` step, `repr test`): every batch in
 * split order with masks drawn from the step's seed and the batch number
 * (spec/random.md), the mean of each loss over the split, and the metrics of
 * spec/pipelines.md ("Metrics"), computed from the prediction, the encoder's
 * features and the `mse` objectives.
 */
import { SEED_INPUT, STEP_INPUT } from "../../compiler/lower/index.js";
import type { TensorFeed, TensorValue } from "../../runtime/backends/backend.js";
import { gatherBatch, type Split } from "../../runtime/data/index.js";
import { countTopK, nearestNeighbourAccuracy } from "../../runtime/metrics/classification.js";
import type { TensorStore } from "../../runtime/train/store.js";
import type { StepPrograms } from "./programs.js";

/** A metric a test step lists: its name and arguments. */
export interface MetricRequest {
  readonly name: string;
  readonly args: Readonly<Record<string, unknown>>;
}

/** The display name of a metric: `accuracy`, `top_k(k: 3)`. */
export function metricLabel(m: MetricRequest): string {
  const args = Object.entries(m.args);
  return args.length === 0 ? m.name : `${m.name}(${args.map(([k, v]) => `${k}: ${String(v)}`).join(", ")}`.concat(")");
}

/** The graph outputs an evaluation needs for these metrics. */
export function evalNeeds(metrics: readonly MetricRequest[]): { prediction: boolean; features: boolean; objectiveValues: boolean } {
  const names = new Set(metrics.map((m) => m.name));
  return {
    prediction: names.has("accuracy") || names.has("top_k"),
    features: names.has("nearest_neighbors"),
    objectiveValues: names.has("mse"),
  };
}

/** One batch's outputs, copied out of the executable's buffers. */
export type BatchOutputs = Record<string, TensorValue>;

/** Runs the evaluation graph over the whole split, in order; `visit` sees each batch's outputs (views: copy to keep). */
export function forEachBatch(
  programs: StepPrograms,
  split: Split,
  batch: number,
  seed: number,
  store: TensorStore,
  fixedFeeds: Readonly<Record<string, TensorFeed>>,
  visit: (outputs: BatchOutputs, begin: number, size: number) => void,
  limit = split.length,
): void {
  const arrays = new Map<number, Map<string, Float32Array | Int32Array>>();
  const dataInputs = programs.lowered.inputs.filter((i) => i.kind === "data").map((i) => i.name);
  const fixed: Record<string, TensorFeed> = { ...fixedFeeds };
  if (programs.inputs.some((i) => i.name === SEED_INPUT)) fixed[SEED_INPUT] = { shape: [], data: Int32Array.of(seed | 0) };
  const total = Math.min(limit, split.length);
  for (let begin = 0, n = 0; begin < total; begin += batch, n++) {
    const size = Math.min(batch, total - begin);
    const indices = new Int32Array(size);
    for (let i = 0; i < size; i++) indices[i] = begin + i;
    let out = arrays.get(size);
    if (!out) arrays.set(size, (out = new Map()));
    gatherBatch(split, indices, out);
    const feeds: Record<string, TensorFeed> = { ...fixed };
    for (const name of dataInputs) {
      const column = split.columns.get(name);
      if (!column) throw new Error(`internal error: the split has no field '${name}' for the model's input`);
      feeds[name] = { shape: [size, ...column.shape], data: out.get(name)! };
    }
    if (programs.inputs.some((i) => i.name === STEP_INPUT)) feeds[STEP_INPUT] = { shape: [], data: Int32Array.of(n) };
    visit(programs.executable(size).run(feeds, store.feeds()), begin, size);
  }
}

/** The result of evaluating on a split. */
export interface Evaluation {
  readonly examples: number;
  /** The mean of each loss over the split, by loss name. */
  readonly losses: Record<string, number>;
  /** Each metric by its label. */
  readonly metrics: Record<string, number>;
}

/** What nearest_neighbors compares against: the features and labels of the reference split. */
export interface Reference {
  readonly programs: StepPrograms;
  readonly split: Split;
}

/** Evaluates: the mean losses over the split and the requested metrics. */
export function evaluate(
  programs: StepPrograms,
  split: Split,
  options: {
    batch: number;
    seed: number;
    store: TensorStore;
    labelField: string | null;
    metrics: readonly MetricRequest[];
    reference: Reference | null;
    /** Feeds the same for every batch (skip-gram alias tables). */
    fixed: Readonly<Record<string, TensorFeed>>;
  },
): Evaluation {
  const sums: Record<string, number> = {};
  const hits = new Map<string, number>();
  const mse: Record<string, number> = {};
  const features = features0(programs, split.length);
  const labels = options.labelField ? (split.columns.get(options.labelField)?.data ?? null) : null;
  forEachBatch(programs, split, options.batch, options.seed, options.store, options.fixed, (out, begin, size) => {
    for (const [name, v] of Object.entries(out)) {
      if (name.startsWith("loss/")) sums[name.slice(5)] = (sums[name.slice(5)] ?? 0) + v.data[0]! * size;
      if (name.startsWith("objective/")) mse[name] = (mse[name] ?? 0) + v.data[0]! * size;
    }
    const prediction = out["prediction"];
    if (prediction && labels) {
      const classes = prediction.shape[prediction.shape.length - 1]!;
      const batchLabels = labels.subarray(begin, begin + size);
      for (const m of options.metrics) {
        if (m.name !== "accuracy" && m.name !== "top_k") continue;
        const k = m.name === "accuracy" ? 1 : Number(m.args["k"] ?? 5);
        const label = metricLabel(m);
        hits.set(label, (hits.get(label) ?? 0) + countTopK({ rows: size, classes, data: prediction.data }, batchLabels, k));
      }
    }
    if (features && out["features"]) features.data.set(out["features"].data, begin * features.width);
  });
  const n = split.length;
  const losses = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n]));
  const metrics: Record<string, number> = {};
  for (const m of options.metrics) {
    const label = metricLabel(m);
    if (m.name === "accuracy" || m.name === "top_k") metrics[label] = (hits.get(label) ?? 0) / n;
    else if (m.name === "mse") {
      const values = Object.values(mse);
      metrics[label] = values.reduce((a, b) => a + b, 0) / values.length / n;
    } else if (m.name === "nearest_neighbors") {
      if (!features || !labels || !options.reference) throw new Error("internal error: nearest_neighbors without features, labels or a reference split");
      const ref = referenceFeatures(options.reference, options.batch, options.seed, options.store, options.fixed);
      const refLabels = options.reference.split.columns.get(options.labelField!)!.data;
      metrics[label] = nearestNeighbourAccuracy({ rows: n, width: features.width, data: features.data }, labels, ref, refLabels, Number(m.args["k"] ?? 5));
    }
  }
  return { examples: n, losses, metrics };
}

/** Room for the features of every example, when the graph computes them. */
function features0(programs: StepPrograms, rows: number): { width: number; data: Float32Array } | null {
  const f = programs.lowered.outputs.features;
  if (!f) return null;
  const width = f.shape[1]!;
  return { width, data: new Float32Array(rows * width) };
}

/** The features of every example of the reference split. */
function referenceFeatures(reference: Reference, batch: number, seed: number, store: TensorStore, fixed: Readonly<Record<string, TensorFeed>>): { rows: number; width: number; data: Float32Array } {
  const f = features0(reference.programs, reference.split.length)!;
  forEachBatch(reference.programs, reference.split, batch, seed, store, fixed, (out, begin) => {
    f.data.set(out["features"]!.data, begin * f.width);
  });
  return { rows: reference.split.length, ...f };
}
