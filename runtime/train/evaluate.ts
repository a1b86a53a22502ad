/**
 * Evaluating a model over a split (a pipeline's `test` step, `repr test`):
 * every batch in split order, with masks drawn from the step's seed and the
 * batch number (spec/random.md), the mean of each loss over the split, and
 * the metrics of spec/pipelines.md ("Metrics"), computed from the
 * prediction and each metric's target (`target/…` outputs or the label
 * field; runtime/metrics/compare.ts), and the encoder's features. It also keeps
 * the first examples' pictures (`picture/<loss>/…` outputs) for reports.
 */
import type { TensorFeed } from "../backends/backend.js";
import type { HomeTensor, TensorHome } from "../api/home.js";
import type { Inputs } from "../api/inputs.js";
import type { PlanInput, PlanMetric } from "../api/plan.js";
import { batchGraphOutputs, type BatchGraph } from "../ir/batch-graph.js";
import type { KernelGraph } from "../kernel/graph.js";
import { nearestNeighbourAccuracy } from "../metrics/classification.js";
import { COMPARE_METRICS, Comparison } from "../metrics/compare.js";
import { SizedGraph } from "./sized-graph.js";
import { SEED_INPUT, STEP_INPUT } from "./training-runner.js";

/** The outputs of the first examples of a split, by output name: what pictures are drawn from. */
export type PictureOutputs = Readonly<Record<string, { readonly shape: readonly number[]; readonly data: Float32Array }>>;

/** The result of evaluating over a split. */
export interface Evaluation {
  readonly examples: number;
  /** The mean of each loss over the split, by loss name. */
  readonly losses: Record<string, number>;
  /** Each metric by its label. */
  readonly metrics: Record<string, number>;
  /** The `picture/…` outputs of the first batch's first examples (at most `PICTURES`), or null when the graph has none. */
  readonly pictures: PictureOutputs | null;
}

/** How many examples' pictures an evaluation keeps. */
export const PICTURES = 8;

/** What an evaluation graph reads and computes. */
export interface EvaluationGraph {
  readonly where: string;
  readonly graph: BatchGraph;
  readonly inputs: readonly PlanInput[];
  /** Feeds the same for every batch besides `seed` and `step` (noise tables). */
  readonly feeds: ReadonlyMap<string, TensorFeed>;
}

/** Examples to evaluate: each input's numbers by name, and how many examples there are. */
export interface EvaluationData {
  readonly inputs: Inputs;
  readonly length: number;
  /** The label of each example, for accuracy, top-k and nearest neighbours; null without a label field. */
  readonly labels: Int32Array | null;
}

/** An evaluation graph bound to a model's tensors, run batch by batch. */
export class Evaluator {
  private readonly graphs: SizedGraph;
  private readonly batchNumber = { shape: [] as number[], data: new Int32Array(1) };
  private readonly read: readonly string[];

  constructor(
    private readonly spec: EvaluationGraph,
    home: TensorHome,
    tensors: ReadonlyMap<string, HomeTensor>,
    seed: number,
  ) {
    const shared = new Map<string, TensorFeed>([
      ...spec.feeds,
      [SEED_INPUT, { shape: [], data: Int32Array.of(seed | 0) }],
      [STEP_INPUT, this.batchNumber],
    ]);
    this.graphs = new SizedGraph({ where: spec.where, graph: spec.graph, inputs: spec.inputs, extraInputs: [...shared.keys()], outputs: [] }, home, tensors, shared);
    this.read = batchGraphOutputs(spec.graph);
  }

  /** Runs every batch of `data` in order; `visit` sees each batch's outputs (valid until the next batch). */
  async forEachBatch(
    data: EvaluationData,
    batch: number,
    visit: (outputs: Readonly<Record<string, Float32Array | Int32Array>>, begin: number, size: number, graph: KernelGraph) => void,
  ): Promise<void> {
    for (let begin = 0, n = 0; begin < data.length; begin += batch, n++) {
      const size = Math.min(batch, data.length - begin);
      const c = this.graphs.at(size);
      for (const s of c.inputs) {
        const source = data.inputs[s.name]!;
        const from = begin * s.size;
        if (source instanceof Float32Array || source instanceof Int32Array) s.feed.data.set(source.subarray(from, from + s.feed.data.length));
        else for (let i = 0; i < s.feed.data.length; i++) s.feed.data[i] = source[from + i]!;
      }
      this.batchNumber.data[0] = n;
      visit(await c.exe.run(c.feeds, this.read), begin, size, c.graph);
    }
  }

  /** The mean losses over `data` and the metrics asked for; `reference` is the split `nearest_neighbors` searches. */
  async evaluate(data: EvaluationData, batch: number, metrics: readonly PlanMetric[], reference: EvaluationData | null): Promise<Evaluation> {
    const sums: Record<string, number> = {};
    const compared = metrics.filter((m) => COMPARE_METRICS.has(m.name)).map((m) => ({ metric: m, sum: new Comparison(m) }));
    const wantsFeatures = metrics.some((m) => m.name === "nearest_neighbors");
    let features: { width: number; data: Float32Array } | null = null;
    let pictures: Record<string, { shape: readonly number[]; data: Float32Array }> | null = null;
    await this.forEachBatch(data, batch, (out, begin, size, graph) => {
      for (const [name, v] of Object.entries(out)) {
        if (name.startsWith("loss/")) sums[name.slice(5)] = (sums[name.slice(5)] ?? 0) + v[0]! * size;
      }
      if (begin === 0) pictures = firstPictures(graph, out, size);
      for (const { metric, sum } of compared) {
        const target = metric.target === null ? data.labels?.subarray(begin, begin + size) : out[metric.target];
        const prediction = out["prediction"];
        if (!prediction || !target) throw new Error(`internal error: metric '${metric.label}' without a prediction or a target`);
        sum.add(prediction, target);
      }
      const f = out["features"];
      if (wantsFeatures && f) {
        features ??= { width: f.length / size, data: new Float32Array(data.length * (f.length / size)) };
        features.data.set(f, begin * features.width);
      }
    });
    const n = data.length;
    const losses = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n]));
    const result: Record<string, number> = {};
    for (const m of metrics) {
      const comparison = compared.find((c) => c.metric === m);
      if (comparison) result[m.label] = comparison.sum.result();
      else if (m.name === "nearest_neighbors") {
        const f = features as { width: number; data: Float32Array } | null;
        if (f === null || data.labels === null || reference === null || reference.labels === null) {
          throw new Error("internal error: nearest_neighbors without features, labels or a reference split");
        }
        const ref = await this.features(reference, batch, f.width);
        result[m.label] = nearestNeighbourAccuracy({ rows: n, width: f.width, data: f.data }, data.labels, { rows: reference.length, width: f.width, data: ref }, reference.labels, Number(m.args["k"] ?? 5));
      }
    }
    return { examples: n, losses, metrics: result, pictures };
  }

  /** Releases the compiled graphs. */
  destroy(): void {
    this.graphs.destroy();
  }

  /** The features of every example of `data`. */
  private async features(data: EvaluationData, batch: number, width: number): Promise<Float32Array> {
    const out = new Float32Array(data.length * width);
    await this.forEachBatch(data, batch, (o, begin) => out.set(o["features"]!, begin * width));
    return out;
  }
}

/** The `picture/…` outputs of the first examples of a batch of `size`, copied, with their shapes; null when there are none. */
function firstPictures(graph: KernelGraph, out: Readonly<Record<string, Float32Array | Int32Array>>, size: number): Record<string, { shape: readonly number[]; data: Float32Array }> | null {
  const keep = Math.min(PICTURES, size);
  let pictures: Record<string, { shape: readonly number[]; data: Float32Array }> | null = null;
  for (const o of graph.outputs) {
    if (!o.name.startsWith("picture/")) continue;
    const v = out[o.name]!;
    // An output broadcast over the batch (leading 1) is kept whole.
    const perBatch = o.shape[0] === size;
    const per = perBatch ? v.length / size : v.length;
    const shape = perBatch ? [keep, ...o.shape.slice(1)] : [...o.shape];
    (pictures ??= {})[o.name] = { shape, data: Float32Array.from(v.subarray(0, perBatch ? keep * per : v.length)) };
  }
  return pictures;
}
