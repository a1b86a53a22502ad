// The training step the CPU benches time: a model of an example file lowered with its
// own training step (forward, backward, Adam) at a batch size and planned as one kernel
// graph, with its initial params (`initialTensor`, as `repr train` starts), zero
// optimizer state and a batch of random inputs, ready to feed to an executable's `run`.
// bench/train-step.ts and bench/train-steps.ts both start from it.
import { readFileSync } from "node:fs";
import { checkProgram } from "../compiler/check/check.js";
import { nodeFileHost } from "../compiler/check/file-host.js";
import { initialTensor, lowerModel, lowerTrainStep } from "../compiler/lower/index.js";
import { Source } from "../language/source.js";
import type { TensorFeed } from "../runtime/backends/backend.js";
import type { KernelGraph } from "../runtime/kernel/graph.js";
import { planKernelGraph, type PlanOptions } from "../runtime/kernel/plan.js";

/** A training step to prepare: a model of an example file. */
export interface StepCase {
  readonly file: string;
  readonly model: string;
}

/** A planned training step with everything one `run(feeds, params)` of it needs. */
export interface PreparedStep {
  readonly graph: KernelGraph;
  /** Params (seed 1) and optimizer state (zeros), by name. */
  readonly params: Record<string, TensorFeed>;
  /** One batch of random inputs, by name. */
  readonly feeds: Record<string, TensorFeed>;
}

const size = (shape: readonly number[]) => shape.reduce((a, d) => a * d, 1);

/** The planned training step of `c` at `batch` (planned with `plan`), with params, state and a batch of inputs to feed. */
export function prepareStep(c: StepCase, batch: number, plan: PlanOptions = {}): PreparedStep {
  const { program } = checkProgram(new Source(c.file, readFileSync(c.file, "utf8")), nodeFileHost);
  if (program === undefined) throw new Error(`${c.file} does not check`);
  const lowered = lowerModel(program, c.model, { batch, mode: "train" });
  const step = lowerTrainStep(lowered, null);
  const graph = planKernelGraph(step.graph, plan);
  const params: Record<string, TensorFeed> = {};
  for (const p of lowered.params) params[p.name] = initialTensor(p, 1);
  for (const s of step.state) params[s.name] = { shape: s.node.shape, data: new Float32Array(size(s.node.shape)) };
  const feeds: Record<string, TensorFeed> = {};
  let seed = 1;
  const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (const i of graph.inputs) {
    const n = size(i.shape);
    // i32 inputs are token ids or labels: small non-negative numbers valid for any vocabulary of 8 or more.
    feeds[i.name] = { shape: i.shape, data: i.dtype === "i32" ? Int32Array.from({ length: n }, () => Math.floor(next() * 8)) : Float32Array.from({ length: n }, next) };
  }
  return { graph, params, feeds };
}
