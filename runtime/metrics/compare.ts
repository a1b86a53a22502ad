/**
 * The metrics of spec/pipelines.md ("Metrics") that compare a prediction
 * with a target, accumulated batch by batch over a split in float64:
 * `accuracy`, `top_k` and `perplexity` on scores `[..., K]` against class
 * ids, `mse`, `mae` and `psnr` on values against values. Plain functions of
 * typed arrays, independent of the model's losses.
 */
import { countTopK } from "./classification.js";

/** A comparison metric's name and arguments. */
export interface CompareMetric {
  readonly name: string;
  readonly args: Readonly<Record<string, number | string | boolean>>;
}

/** The metrics this module computes. */
export const COMPARE_METRICS: ReadonlySet<string> = new Set(["accuracy", "top_k", "perplexity", "mse", "mae", "psnr"]);

/** Σ over rows of logsumexp(scores) − scores[id], in float64, for `rows` rows of `classes` scores. */
export function crossEntropySum(scores: ArrayLike<number>, ids: ArrayLike<number>, classes: number): number {
  let total = 0;
  for (let r = 0; r < ids.length; r++) {
    const o = r * classes;
    let m = -Infinity;
    for (let c = 0; c < classes; c++) m = Math.max(m, scores[o + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(scores[o + c]! - m);
    total += m + Math.log(sum) - scores[o + ids[r]!]!;
  }
  return total;
}

/** One comparison metric summed over the batches of a split. */
export class Comparison {
  private sum = 0;
  private count = 0;

  constructor(readonly metric: CompareMetric) {
    if (!COMPARE_METRICS.has(metric.name)) throw new Error(`internal error: '${metric.name}' is not a comparison metric`);
  }

  /** Adds one batch: the prediction and its target (class ids, or values of the prediction's shape). */
  add(prediction: ArrayLike<number>, target: ArrayLike<number>): void {
    switch (this.metric.name) {
      case "accuracy":
      case "top_k": {
        const k = this.metric.name === "accuracy" ? 1 : Number(this.metric.args["k"] ?? 5);
        this.sum += countTopK({ rows: target.length, classes: prediction.length / target.length, data: prediction }, target, k);
        this.count += target.length;
        return;
      }
      case "perplexity":
        this.sum += crossEntropySum(prediction, target, prediction.length / target.length);
        this.count += target.length;
        return;
      default: {
        const squared = this.metric.name !== "mae";
        for (let i = 0; i < prediction.length; i++) {
          const d = prediction[i]! - target[i]!;
          this.sum += squared ? d * d : Math.abs(d);
        }
        this.count += prediction.length;
      }
    }
  }

  /** The metric over everything added: a fraction, exp of a mean, a mean, or decibels. */
  result(): number {
    if (this.count === 0) return NaN;
    const mean = this.sum / this.count;
    switch (this.metric.name) {
      case "perplexity":
        return Math.exp(mean);
      case "psnr": {
        const max = Number(this.metric.args["max"] ?? 1);
        return 10 * Math.log10((max * max) / mean);
      }
      default:
        return mean;
    }
  }
}
