// The workloads of bench/onnx.ts and bench/onnx-profile.ts: each a plan's kernel graph at a batch, planned,
// with initial tensors (seed 1), zero optimizer state and one batch of data (ids in range, the
// skipgram's noise tables made from it).
import { readFileSync } from "node:fs";
import { checkProgram } from "../compiler/check/check.js";
import { nodeFileHost } from "../compiler/check/file-host.js";
import { buildModelPlan } from "../compiler/plan/index.js";
import { Source } from "../language/source.js";
import type { ModelPlan, PlanInput } from "../runtime/api/plan.js";
import { stepFeeds } from "../runtime/api/step-feeds.js";
import type { TensorFeed } from "../runtime/backends/backend.js";
import { referenceBackend } from "../runtime/backends/reference/executor.js";
import { instantiateBatchGraph } from "../runtime/ir/batch-graph.js";
import { IRBuilder } from "../runtime/ir/builder.js";
import type { KernelGraph } from "../runtime/kernel/graph.js";
import { planKernelGraph } from "../runtime/kernel/plan.js";

export const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

/** A graph to time, with what one run needs. */
export interface Prepared {
  readonly graph: KernelGraph;
  readonly feeds: Map<string, TensorFeed>;
  readonly params: Map<string, TensorFeed>;
  /** Null for a bare graph (the matmul). */
  readonly plan: ModelPlan | null;
}

function planOf(file: string, model: string): ModelPlan {
  const { program } = checkProgram(new Source(file, readFileSync(file, "utf8")), nodeFileHost);
  return buildModelPlan(program, model, {});
}

/** Deterministic data: ids in their range, floats in [0, 1). */
function data(inputs: readonly PlanInput[], batch: number): Record<string, Float32Array | Int32Array> {
  let seed = 1;
  const next = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  return Object.fromEntries(
    inputs.map((i) => {
      const n = batch * size(i.shape);
      const range = i.vocab ?? i.classes ?? 8;
      return [i.name, i.dtype === "i32" ? Int32Array.from({ length: n }, () => Math.floor(next() * range)) : Float32Array.from({ length: n }, next)];
    }),
  );
}

/** The plan's graph `kind` (its own training step, or a function) at `batch`, with initial tensors (seed 1) and zero optimizer state. */
export function prepare(file: string, model: string, batch: number, fn?: string): Prepared {
  const plan = planOf(file, model);
  const training = plan.training[0]!;
  const source = fn === undefined ? training.graph : plan.functions.find((f) => f.name === fn)!.graph;
  const graph = planKernelGraph(instantiateBatchGraph(source, batch));
  const batchData = data(fn === undefined ? training.inputs : plan.functions.find((f) => f.name === fn)!.inputs, batch);
  const extra = fn === undefined ? stepFeeds(training, batchData, 1000) : new Map<string, TensorFeed>();
  const feeds = new Map<string, TensorFeed>();
  for (const v of graph.inputs) {
    const given = batchData[v.name] ?? extra.get(v.name)?.data ?? (v.name === "seed" ? [1] : v.name === "step" ? [0] : undefined);
    if (given === undefined) throw new Error(`${file}: no feed for '${v.name}'`);
    feeds.set(v.name, { shape: v.shape, data: given });
  }
  const initial = referenceBackend.compile(plan.init).run({ seed: { shape: [], data: [1] } });
  const params = new Map<string, TensorFeed>();
  for (const v of graph.params) {
    const init = initial[v.name];
    params.set(v.name, { shape: v.shape, data: init ? (v.dtype === "f32" ? Float32Array.from(init.data) : Int32Array.from(init.data)) : v.dtype === "f32" ? new Float32Array(size(v.shape)) : new Int32Array(size(v.shape)) });
  }
  return { graph, feeds, params, plan };
}

export interface Workload {
  readonly name: string;
  readonly batch: number;
  readonly prepare: () => Prepared;
  /** The hand-written PyTorch anchor (bench/onnx_torch.py), else the generated module's step. */
  readonly torch: "step" | "encode" | "matmul" | "generated";
  /** Floating-point operations per run, where GFLOP/s are worth printing. */
  readonly flops?: number;
}

/** One float32 matrix product a·b of n×n matrices, as a kernel graph (no plan, no params). */
function matmulGraph(n: number): Prepared {
  const b = new IRBuilder();
  const graph = planKernelGraph(b.graph({ c: b.matmul(b.input("a", [n, n]), b.input("b", [n, n])) }));
  const value = (salt: number): TensorFeed => ({ shape: [n, n], data: Float32Array.from({ length: n * n }, (_, i) => ((i * 2654435761 + salt) % 1000) / 1000 - 0.5) });
  return { graph, feeds: new Map([["a", value(1)], ["b", value(2)]]), params: new Map(), plan: null };
}

const AE = "examples/mnist-autoencoder.repr";
const step = (name: string, file: string, model: string, batch: number): Workload => ({ name, batch, prepare: () => prepare(file, model, batch), torch: "generated" });
export const WORKLOADS: readonly Workload[] = [
  { name: "autoencoder step", batch: 128, prepare: () => prepare(AE, "Autoencoder", 128), torch: "step" },
  { name: "autoencoder step 256", batch: 256, prepare: () => prepare(AE, "Autoencoder", 256), torch: "step" },
  { name: "autoencoder encode", batch: 1024, prepare: () => prepare(AE, "Autoencoder", 1024, "encode"), torch: "encode" },
  { name: "matmul 1024", batch: 1024, prepare: () => matmulGraph(1024), torch: "matmul", flops: 2 * 1024 ** 3 },
  step("byol step", "examples/byol.repr", "BYOL", 256),
  step("colorization step", "examples/colorization.repr", "Colorize", 64),
  step("contrastive step", "examples/contrastive.repr", "Contrastive", 256),
  step("masked-autoencoder step", "examples/masked-autoencoder.repr", "MAE", 256),
  step("mnist-autoencoder step (generated PyTorch)", AE, "Autoencoder", 128),
  step("skipgram step", "examples/skipgram.repr", "SkipGram", 256),
  step("sparse-autoencoder step", "examples/sparse-autoencoder.repr", "SparseAE", 128),
  step("tiny-gpt step", "examples/tiny-gpt.repr", "TinyGPT", 64),
  step("transfer step", "examples/transfer.repr", "Classifier", 128),
];

