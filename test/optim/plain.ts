/**
 * An independent float64 implementation of spec/optimizers.md in plain
 * JavaScript (no IR), and a driver that runs a training-step graph on the
 * reference backend for several updates, feeding its outputs back in. Tests
 * compare the two.
 */
import { run } from "../../runtime/backends/reference/evaluate.js";
import type { Graph } from "../../runtime/ir/node.js";

export type Vec = number[];
export type Params = Record<string, Vec>;

export type PlainOptimizer =
  | { kind: "sgd"; lr: number }
  | { kind: "momentum"; lr: number; beta?: number }
  | { kind: "adam" | "adamw"; lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number };

export type PlainSchedule = { kind: "constant" } | { kind: "warmup"; steps: number } | { kind: "cosine"; warmup?: number };

/** `lrₜ` straight from the spec's table. */
export function plainRate(lr: number, s: PlainSchedule, t: number, T: number): number {
  if (s.kind === "constant") return lr;
  if (s.kind === "warmup") return t < s.steps ? (lr * (t + 1)) / s.steps : lr;
  const w = s.warmup ?? 0;
  if (t < w) return (lr * (t + 1)) / w;
  return lr * 0.5 * (1 + Math.cos((Math.PI * (t - w)) / (T - w)));
}

export interface PlainSettings {
  optimizer: PlainOptimizer;
  schedule?: PlainSchedule;
  clip?: number;
  weightDecay?: number;
  totalSteps: number;
  /** Which params decay (default: all). */
  decays?: Record<string, boolean>;
  /** Per-param multiplier of the learning rate (lr_scale × layer decay), default 1. */
  multiplier?: Record<string, number>;
}

/** Optimizer state of the plain implementation. */
export class PlainTrainer {
  readonly m: Params = {};
  readonly v: Params = {};
  constructor(readonly s: PlainSettings) {}

  /** One update `t` (from 0) of `params` in place, given the raw gradients. */
  update(params: Params, grads: Params, t: number): void {
    const { s } = this;
    const names = Object.keys(grads);
    let scale = 1;
    if (s.clip !== undefined) {
      let sq = 0;
      for (const n of names) for (const g of grads[n]!) sq += g * g;
      const norm = Math.sqrt(sq);
      if (norm > s.clip) scale = s.clip / norm;
    }
    const lrT = plainRate(s.optimizer.lr, s.schedule ?? { kind: "constant" }, t, s.totalSteps);
    for (const n of names) {
      const theta = params[n]!;
      const decays = s.decays?.[n] ?? true;
      const lambda = decays ? (s.weightDecay ?? 0) : 0;
      const g = grads[n]!.map((x, i) => x * scale + lambda * theta[i]!);
      const eta = lrT * (s.multiplier?.[n] ?? 1);
      const o = s.optimizer;
      if (o.kind === "sgd") {
        for (let i = 0; i < theta.length; i++) theta[i] = theta[i]! - eta * g[i]!;
      } else if (o.kind === "momentum") {
        const v = (this.v[n] ??= theta.map(() => 0));
        for (let i = 0; i < theta.length; i++) {
          v[i] = (o.beta ?? 0.9) * v[i]! + g[i]!;
          theta[i] = theta[i]! - eta * v[i]!;
        }
      } else {
        const [b1, b2, eps] = [o.beta1 ?? 0.9, o.beta2 ?? 0.999, o.eps ?? 1e-8];
        const wd = o.kind === "adamw" && decays ? (o.weightDecay ?? 0.01) : 0;
        const m = (this.m[n] ??= theta.map(() => 0));
        const v = (this.v[n] ??= theta.map(() => 0));
        const k = t + 1;
        for (let i = 0; i < theta.length; i++) {
          m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
          v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
          const mh = m[i]! / (1 - b1 ** k);
          const vh = v[i]! / (1 - b2 ** k);
          theta[i] = theta[i]! - eta * (mh / (Math.sqrt(vh) + eps) + wd * theta[i]!);
        }
      }
    }
  }
}

export interface Fed {
  shape: number[];
  data: Vec;
}

/**
 * Runs `graph` for `steps` updates: `fixed` feeds (data), the `step` input,
 * and every `new:X` output fed back as `X` (params and optimizer state, which
 * start from `initial`; missing state starts at zeros of its shape).
 * Returns the loss of every update and the final values.
 */
export function runSteps(
  graph: Graph,
  fixed: Record<string, Fed>,
  initial: Record<string, Fed>,
  steps: number,
): { losses: number[]; values: Record<string, Vec> } {
  const state: Record<string, Fed> = { ...initial };
  for (const o of graph.outputs) {
    if (!o.name.startsWith("new:")) continue;
    const name = o.name.slice(4);
    state[name] ??= { shape: [...o.node.shape], data: new Array<number>(o.node.shape.reduce((a, d) => a * d, 1)).fill(0) };
  }
  const losses: number[] = [];
  for (let t = 0; t < steps; t++) {
    const out = run(graph, { ...fixed, ...state, step: { shape: [], data: [t] } });
    losses.push(out.loss!.data[0]!);
    for (const [name, v] of Object.entries(out)) {
      if (name.startsWith("new:")) state[name.slice(4)] = { shape: [...v.shape], data: [...v.data] };
    }
  }
  return { losses, values: Object.fromEntries(Object.entries(state).map(([k, v]) => [k, v.data])) };
}

/** Deterministic numbers in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

/** Largest |a − e| / (1 + |e|). */
export function maxRelError(a: readonly number[], e: readonly number[]): number {
  if (a.length !== e.length) return Infinity;
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - e[i]!) / (1 + Math.abs(e[i]!))), 0);
}
