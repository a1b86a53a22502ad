/**
 * A tiny real training step for the loop tests: linear regression on three
 * features, its gradient and SGD update written by hand in the IR, planned and
 * compiled like any step graph. Plus the same step simulated in plain numbers.
 */
import { IRBuilder } from "../../runtime/ir/builder.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import { compileCpu } from "../../runtime/backends/cpu/index.js";
import type { Executable, TensorFeed } from "../../runtime/backends/backend.js";
import { TensorStore } from "../../runtime/train/store.js";

/** Features per example. */
export const D = 3;
/** The learning rate fed as a fixed input; update `t` uses `LR / (1 + t/2)`. */
export const LR = Math.fround(0.05);

/**
 * The step graph for batches of `size`: inputs x [size, 3], y [size], lr [],
 * step i32 [] (unless `withStep` is false), params w [3] and count i32 [];
 * outputs loss, new:w = w − lr_t·∇loss and new:count = count + 1.
 */
export function regressionGraph(size: number, withStep = true) {
  const b = new IRBuilder();
  const x = b.input("x", [size, D]);
  const y = b.input("y", [size]);
  const lr = b.input("lr", []);
  const w = b.param("w", [D]);
  const count = b.param("count", [], "i32");
  const pred = b.reshape(b.matmul(x, b.reshape(w, [D, 1])), [size]);
  const r = b.sub(pred, y);
  const loss = b.mean(b.mul(r, r));
  // ∇w mean(r²) = (2/B)·xᵀr
  const grad = b.mul(b.reshape(b.matmul(b.transpose(x), b.reshape(r, [size, 1])), [D]), 2 / size);
  const rate = withStep ? b.div(lr, b.add(b.mul(b.cast(b.input("step", [], "i32"), "f32"), 0.5), 1)) : lr;
  return b.graph({ loss, "new:w": b.sub(w, b.mul(rate, grad)), "new:count": b.add(count, 1) });
}

export type BackendName = "reference" | "cpu";

/** A cache of compiled step executables by backend, batch size and whether they read `step`. */
const cache = new Map<string, Executable>();
export function executableFor(backend: BackendName, size: number, withStep = true): Executable {
  const key = `${backend}/${size}/${withStep}`;
  let e = cache.get(key);
  if (!e) {
    const graph = planKernelGraph(regressionGraph(size, withStep));
    e = backend === "cpu" ? compileCpu(graph) : compileReference(graph);
    cache.set(key, e);
  }
  return e;
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

/** The feeds of examples `indices`: gathered rows of x and y. */
export function gather(data: { x: Float32Array; y: Float32Array }, indices: Int32Array): Record<string, TensorFeed> {
  const x = new Float32Array(indices.length * D);
  const y = new Float32Array(indices.length);
  indices.forEach((e, i) => {
    for (let j = 0; j < D; j++) x[i * D + j] = data.x[e * D + j]!;
    y[i] = data.y[e]!;
  });
  return { x: { shape: [indices.length, D], data: x }, y: { shape: [indices.length], data: y } };
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

/** The initial store: w and the update counter. */
export function initialStore(): TensorStore {
  const store = new TensorStore();
  store.set("w", { shape: [D], data: Float32Array.of(0.1, -0.2, 0.3) });
  store.set("count", { shape: [], data: new Int32Array(1) });
  return store;
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

/** The step simulated in float64 with the store's float32 rounding: w after updates start … updates−1, and the losses. */
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
