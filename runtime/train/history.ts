/**
 * What a pipeline run has done so far, step by step: the record the metrics
 * report, the loss curve and a resumed run are made from. Plain JSON.
 */

/** One step of a pipeline, as the report shows it. */
export type StepRecord =
  | {
      readonly step: number;
      readonly kind: "pretrain" | "adapt";
      readonly data: string;
      readonly examples: number;
      readonly batch: number;
      readonly updates: number;
      readonly seconds: number;
      /** The mean loss over the last pass over the split (or the last `⌈N/B⌉` updates). */
      readonly loss: number;
      readonly checkpoint: string;
    }
  | { readonly step: number; readonly kind: "freeze" | "unfreeze"; readonly parts: readonly string[] }
  | { readonly step: number; readonly kind: "replace"; readonly part: string; readonly params: number }
  | {
      readonly step: number;
      readonly kind: "test";
      readonly data: string;
      readonly examples: number;
      readonly seconds: number;
      readonly losses: Readonly<Record<string, number>>;
      readonly metrics: Readonly<Record<string, number>>;
      /** The loss whose pictures this step's evaluation kept (the first that compares images), if any. */
      readonly pictures?: string;
    };

/** The loss at each update of one training step, with the global update it was at. */
export interface LossSeries {
  readonly step: number;
  readonly name: string;
  /** The global update number (across the pipeline's training steps) of the first point. */
  readonly offset: number;
  readonly losses: number[];
}

/** Everything a run has recorded. */
export interface RunHistory {
  readonly steps: StepRecord[];
  readonly series: LossSeries[];
}

/** An empty history. */
export function emptyHistory(): RunHistory {
  return { steps: [], series: [] };
}

/** Updates completed over all training steps. */
export function globalUpdates(history: RunHistory): number {
  return history.series.reduce((n, s) => n + s.losses.length, 0);
}
