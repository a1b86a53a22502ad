/**
 * A tiny real training step for the loop tests: linear regression on three
 * features, its gradient and SGD update written by hand in the IR, made
 * symbolic in the batch size and run by a `TrainingRunner` on a host home
 * like any planned step. Plus the same step simulated in plain numbers.
 */
import { fitBatchGraph } from "../../compiler/plan/index.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Graph } from "../../runtime/ir/node.js";
import type { PlanTensor, PlanTraining } from "../../runtime/api/plan.js";
import type { ModelTensor } from "../../runtime/api/weights.js";

/** Features per example. */
export const D = 3;
/** The learning rate; update `t` uses `LR / (1 + t/2)`. */
export const LR = Math.fround(0.05);

/**
 * The step graph for batches of `size`: inputs x [size, 3], y [size] and
 * step i32 [] (unless `withStep` is false), params w [3] and count i32 [];
 * outputs loss, new:w = w − lr_t·∇loss and new:count = count + 1.
 */
export function regressionGraph(size: number, withStep = true): Graph {
  const b = new IRBuilder();
  const x = b.input("x", [size, D]);
  const y = b.input("y", [size]);
  const w = b.param("w", [D]);
  const count = b.param("count", [], "i32");
  const pred = b.reshape(b.matmul(x, b.reshape(w, [D, 1])), [size]);
  const r = b.sub(pred, y);
  const loss = b.mean(b.mul(r, r));
  // ∇w mean(r²) = (2/B)·xᵀr, with B an integer the graph divides by (so that it is symbolic in B).
  const grad = b.div(b.mul(b.reshape(b.matmul(b.transpose(x), b.reshape(r, [size, 1])), [D]), 2), size);
  const rate = withStep ? b.div(b.constant(LR), b.add(b.mul(b.cast(b.input("step", [], "i32"), "f32"), 0.5), 1)) : b.constant(LR);
  return b.graph({ loss, "new:w": b.sub(w, b.mul(rate, grad)), "new:count": b.add(count, 1) });
}

/** The model's tensors: the weights `w` (part `w`) and the update counter `count` (part `count`). */
export const TENSORS: readonly PlanTensor[] = [
  { name: "w", dtype: "f32", shape: [D], owner: "w" },
  { name: "count", dtype: "i32", shape: [], owner: "count" },
];

const steps = new Map<boolean, PlanTraining>();

/** The regression step as a plan's training step (its batch graph fitted once per `withStep`). */
export function regressionStep(withStep = true): PlanTraining {
  let step = steps.get(withStep);
  if (step === undefined) {
    step = {
      name: "regression",
      doc: null,
      inputs: [
        { name: "x", dtype: "f32", shape: [D] },
        { name: "y", dtype: "f32", shape: [] },
      ],
      batch: 4,
      graph: fitBatchGraph((b) => regressionGraph(b, withStep), "the regression step"),
      trainable: ["w", "count"],
      frozen: [],
      state: [],
      updates: 0,
      epochs: 1,
      noise: [],
      updatesInput: null,
    };
    steps.set(withStep, step);
  }
  return step;
}

/** The initial tensors: w and the update counter. */
export function initialValues(): Map<string, ModelTensor> {
  return new Map<string, ModelTensor>([
    ["w", { shape: [D], data: Float32Array.of(0.1, -0.2, 0.3) }],
    ["count", { shape: [], data: new Int32Array(1) }],
  ]);
}

/** A deterministic dataset: example i has features x[i] and target y[i]. */
export function dataset(n: number): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(n * D);
  const y = new Float32Array(n);
  const truth = [0.5, -1.25, 2];
  for (let i = 0; i < n; i++) {
    let s = 0.1;
    for (let j = 0; j < D; j++) {
      x[i * D + j] = Math.fround(Math.sin(i * 3.1 + j * 1.7 + 0.3));
      s += truth[j]! * x[i * D + j]!;
    }
    y[i] = Math.fround(s + 0.05 * Math.cos(i * 7.3));
  }
  return { x, y };
}

/** A permutation of 0 … n−1 for pass `pass`: a Fisher–Yates shuffle from a small LCG (not the library's shuffle). */
export function permutation(n: number, pass: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let s = (pass * 2654435761 + 12345) >>> 0;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * The batches of updates `start … updates−1` by plain enumeration: walk the
 * passes, cutting each into batches of `batch` from its start.
 */
export function enumerateBatches(examples: number, batch: number, updates: number, start = 0): { t: number; pass: number; begin: number; end: number }[] {
  const out: { t: number; pass: number; begin: number; end: number }[] = [];
  let t = 0;
  for (let pass = 0; t < updates; pass++) {
    for (let begin = 0; begin < examples && t < updates; begin += batch, t++) {
      if (t >= start) out.push({ t, pass, begin, end: Math.min(examples, begin + batch) });
    }
  }
  return out;
}

/** The step simulated in float64 with the tensors' float32 rounding: w after updates start … updates−1, and the losses. */
export function simulate(data: { x: Float32Array; y: Float32Array }, w0: ArrayLike<number>, examples: number, batch: number, updates: number, start = 0): { w: number[]; losses: number[] } {
  const w = Array.from(w0);
  const losses: number[] = [];
  for (const { t, pass, begin, end } of enumerateBatches(examples, batch, updates, start)) {
    const idx = permutation(examples, pass).subarray(begin, end);
    const grad = [0, 0, 0];
    let loss = 0;
    for (const e of idx) {
      let pred = 0;
      for (let j = 0; j < D; j++) pred += data.x[e * D + j]! * w[j]!;
      const r = pred - data.y[e]!;
      loss += r * r;
      for (let j = 0; j < D; j++) grad[j]! += (2 / idx.length) * r * data.x[e * D + j]!;
    }
    losses.push(loss / idx.length);
    const rate = LR / (1 + t / 2);
    for (let j = 0; j < D; j++) w[j] = Math.fround(w[j]! - rate * grad[j]!);
  }
  return { w, losses };
}
