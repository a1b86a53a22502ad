/**
 * Optimizers, learning-rate schedules and metrics: the named settings of
 * pipeline steps (`optimizer: adamw(lr: 1e-3)`, `schedule: cosine`, `metrics: [accuracy]`).
 */
import { NONNEG_FLOAT, NONNEG_INT, POS_FLOAT, POS_INT, type ParamSpec, type ParamType, type SettingDef } from "./spec.js";

const BETA: ParamType = { kind: "float", min: 0, max: 1, openMax: true };
const lr: ParamSpec = { name: "lr", type: POS_FLOAT, doc: "Learning rate; > 0." };

/** The optimizers. */
export const optimizers: readonly SettingDef[] = [
  { category: "optimizer", name: "sgd", doc: "Plain stochastic gradient descent.", params: [lr] },
  {
    category: "optimizer",
    name: "momentum",
    doc: "SGD with heavy-ball momentum.",
    params: [lr, { name: "beta", type: BETA, default: 0.9, doc: "Momentum, in [0, 1)." }],
  },
  {
    category: "optimizer",
    name: "adam",
    doc: "Adam with bias-corrected moment estimates.",
    params: [
      lr,
      { name: "beta1", type: BETA, default: 0.9, doc: "Decay of the first moment, in [0, 1)." },
      { name: "beta2", type: BETA, default: 0.999, doc: "Decay of the second moment, in [0, 1)." },
      { name: "eps", type: POS_FLOAT, default: 1e-8, doc: "Added to the denominator." },
    ],
  },
  {
    category: "optimizer",
    name: "adamw",
    doc: "Adam with decoupled weight decay.",
    params: [
      lr,
      { name: "beta1", type: BETA, default: 0.9, doc: "Decay of the first moment, in [0, 1)." },
      { name: "beta2", type: BETA, default: 0.999, doc: "Decay of the second moment, in [0, 1)." },
      { name: "eps", type: POS_FLOAT, default: 1e-8, doc: "Added to the denominator." },
      { name: "weight_decay", type: NONNEG_FLOAT, default: 0.01, doc: "Decoupled decay per step, >= 0." },
    ],
  },
];

/** The learning-rate schedules. */
export const schedules: readonly SettingDef[] = [
  { category: "schedule", name: "constant", doc: "The same learning rate throughout.", params: [] },
  {
    category: "schedule",
    name: "cosine",
    doc: "Cosine decay to zero over the step, after an optional linear warm-up.",
    params: [{ name: "warmup", type: NONNEG_INT, default: 0, doc: "Warm-up steps." }],
  },
  {
    category: "schedule",
    name: "warmup",
    doc: "Linear warm-up from zero, then constant.",
    params: [{ name: "steps", type: POS_INT, doc: "Warm-up steps." }],
  },
];

/** A metric's `target:`: a value of the model, named as written (compiler/check/metric-targets.ts). */
const TARGET = { name: "target", type: { kind: "value" }, optional: true, doc: "What the prediction is compared with: a model input, a let, or a mask's target (m.target); see spec/pipelines.md, \"Metrics\"." } as const;

/** The metrics of `test` steps. */
export const metrics: readonly SettingDef[] = [
  { category: "metric", name: "accuracy", doc: "Fraction of positions whose top score is the target class.", params: [TARGET] },
  {
    category: "metric",
    name: "top_k",
    doc: "Fraction of positions whose target class is among the k top scores.",
    params: [{ name: "k", type: POS_INT, default: 5, doc: "How many classes count." }, TARGET],
  },
  {
    category: "metric",
    name: "perplexity",
    doc: "exp of the mean cross-entropy of the scores against the target classes.",
    params: [TARGET],
  },
  { category: "metric", name: "mse", doc: "Mean squared error between the prediction and its target.", params: [TARGET] },
  { category: "metric", name: "mae", doc: "Mean absolute error between the prediction and its target.", params: [TARGET] },
  {
    category: "metric",
    name: "psnr",
    doc: "Peak signal-to-noise ratio, 10·log10(max² / mse), in decibels.",
    params: [{ name: "max", type: POS_FLOAT, default: 1, doc: "The largest value a pixel can take." }, TARGET],
  },
  {
    category: "metric",
    name: "nearest_neighbors",
    doc: "Accuracy of a k-nearest-neighbour vote on the encoder's representations, using the labels of the step's training data.",
    params: [{ name: "k", type: POS_INT, default: 5, doc: "Neighbours per vote." }],
  },
];
