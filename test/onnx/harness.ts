/**
 * Every graph of every example, ready to run at a batch size: its kernel
 * graph, its feeds (deterministic data in each input's range, `seed`, `step`,
 * noise tables, the updates input) and its params (each tensor's initial
 * value from the plan's initialization graphs, optimizer state zero). The
 * ONNX tests run these on two backends, or export them, and compare.
 */
import { buildModelPlan } from "../../compiler/plan/index.js";
import type { TensorFeed } from "../../runtime/backends/backend.js";
import { referenceBackend } from "../../runtime/backends/reference/executor.js";
import { noiseFeeds, stepFeeds } from "../../runtime/api/step-feeds.js";
import type { ModelPlan, PlanInput, PlanNoiseTable, PlanTraining } from "../../runtime/api/plan.js";
import { instantiateBatchGraph, type BatchGraph } from "../../runtime/ir/batch-graph.js";
import type { KernelGraph } from "../../runtime/kernel/graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { examplePrograms } from "../gradients/helpers.js";

/** One graph of an example model. */
export interface ExampleGraph {
  /** `file model kind name`, for test names. */
  readonly label: string;
  readonly file: string;
  readonly plan: ModelPlan;
  readonly kind: "function" | "training" | "test";
  readonly graph: BatchGraph;
  readonly inputs: readonly PlanInput[];
  /** The training step, for its extra feeds. */
  readonly training: PlanTraining | null;
  /** A test step's noise tables. */
  readonly noise?: readonly PlanNoiseTable[];
  /** The step's key (`train`, `PIPELINE.N-kind`) and the keys of the replace steps before it in its pipeline. */
  readonly key: string;
  readonly replacedBefore: readonly string[];
}

/** Every function, training step and test step of every example model (with all its pipelines). */
export function exampleGraphs(): ExampleGraph[] {
  const out: ExampleGraph[] = [];
  for (const { file, program } of examplePrograms()) {
    for (const m of program.models) {
      const plan = buildModelPlan(program, m.name, { pipelines: program.pipelines.filter((p) => p.model === m.name).map((p) => p.name) });
      const label = (kind: string, name: string): string => `${file} ${m.name} ${kind} ${name}`;
      const none: string[] = [];
      for (const f of plan.functions) out.push({ label: label("function", f.name), file, plan, kind: "function", graph: f.graph, inputs: f.inputs, training: null, key: f.name, replacedBefore: none });
      for (const t of plan.training) out.push({ label: label("training", t.name), file, plan, kind: "training", graph: t.graph, inputs: t.inputs, training: t, key: t.name, replacedBefore: none });
      for (const p of plan.pipelines) {
        const replaced: string[] = [];
        p.steps.forEach((s, i) => {
          const name = `${p.name}.${i + 1}-${s.kind}`;
          const before = [...replaced];
          if (s.kind === "pretrain" || s.kind === "adapt") out.push({ label: label("training", name), file, plan, kind: "training", graph: s.training.graph, inputs: s.training.inputs, training: s.training, key: name, replacedBefore: before });
          if (s.kind === "test") out.push({ label: label("test", name), file, plan, kind: "test", graph: s.graph, inputs: s.inputs, training: null, noise: s.noise, key: name, replacedBefore: before });
          if (s.kind === "replace") replaced.push(name);
        });
      }
    }
  }
  return out;
}

/** A deterministic number in [0, 1) for element k of `name`. */
function hash01(k: number, name: string): number {
  let h = 2166136261 ^ k;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  h = Math.imul(h ^ (h >>> 15), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

/** Data inputs: ids in their range, floats in [0, 1). */
export function dataFeeds(inputs: readonly PlanInput[], batch: number): Record<string, Float32Array | Int32Array> {
  const data: Record<string, Float32Array | Int32Array> = {};
  for (const i of inputs) {
    const n = batch * i.shape.reduce((p, d) => p * d, 1);
    const range = i.vocab ?? i.classes ?? 2;
    data[i.name] = i.dtype === "i32" ? Int32Array.from({ length: n }, (_, k) => Math.floor(hash01(k, i.name) * range)) : Float32Array.from({ length: n }, (_, k) => hash01(k, i.name));
  }
  return data;
}

/** Every tensor's initial value by name, from every initialization graph of the plan (seed 1), run on the reference backend. */
function initialTensors(plan: ModelPlan): Map<string, Float32Array | Int32Array> {
  const inits: KernelGraph[] = [plan.init];
  for (const p of plan.pipelines) {
    inits.push(p.start.init);
    if (p.after) inits.push(p.after.init);
    for (const s of p.steps) if (s.kind === "replace") inits.push(s.head.init);
  }
  const values = new Map<string, Float32Array | Int32Array>();
  for (const g of inits) {
    const out = referenceBackend.compile(g).run({ seed: { shape: [], data: [1] } });
    for (const [name, v] of Object.entries(out)) values.set(`${name}|${v.shape.join(",")}`, v.dtype === "i32" ? Int32Array.from(v.data) : Float32Array.from(v.data));
  }
  return values;
}

const initCache = new WeakMap<ModelPlan, Map<string, Float32Array | Int32Array>>();

/** The graph at `batch` examples, with its feeds and params. */
export function graphAt(g: ExampleGraph, batch: number, counters: { seed?: number; step?: number } = {}): { kernel: KernelGraph; feeds: Map<string, TensorFeed>; params: Map<string, TensorFeed> } {
  const kernel = planKernelGraph(instantiateBatchGraph(g.graph, batch));
  const data = dataFeeds(g.inputs, batch);
  const feeds = new Map<string, TensorFeed>();
  const extra = g.training ? stepFeeds(g.training, data, 100) : noiseFeeds(g.label, g.noise ?? [], data);
  for (const v of kernel.inputs) {
    const given = data[v.name] ?? extra.get(v.name)?.data;
    const value = given ?? (v.name === "seed" ? [counters.seed ?? 5] : v.name === "step" ? [counters.step ?? 3] : undefined);
    if (value === undefined) throw new Error(`${g.label}: no feed for input '${v.name}'`);
    feeds.set(v.name, { shape: v.shape, data: value });
  }
  let init = initCache.get(g.plan);
  if (!init) initCache.set(g.plan, (init = initialTensors(g.plan)));
  const state = new Set(g.training?.state.map((s) => s.name) ?? []);
  const params = new Map<string, TensorFeed>();
  for (const v of kernel.params) {
    const size = v.shape.reduce((p, d) => p * d, 1);
    const known = state.has(v.name) ? undefined : init.get(`${v.name}|${v.shape.join(",")}`);
    const data = known ?? (v.dtype === "i32" ? new Int32Array(size) : new Float32Array(size));
    params.set(v.name, { shape: v.shape, data });
  }
  return { kernel, feeds, params };
}

/** max |a − b| / max(max |b|, 1) over two arrays (NaN where they disagree on NaN). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) {
    const [x, y] = [a[i]!, b[i]!];
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return NaN;
      continue;
    }
    if (x !== y) diff = Math.max(diff, Math.abs(x - y));
    scale = Math.max(scale, Math.abs(y));
  }
  return a.length === b.length ? diff / scale : NaN;
}
