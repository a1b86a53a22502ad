/**
 * Shared helpers for the plan tests: every example's plans (the model alone
 * and each of its pipelines), deterministic data for plan inputs, batch
 * graphs instantiated at a size, and runs of kernel graphs on the reference
 * backend.
 */
import { expect } from "vitest";
import { Source } from "../../language/source.js";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import { checkProgram } from "../../compiler/check/check.js";
import type { CheckedModel, CheckedProgram } from "../../compiler/check/program.js";
import { buildModelPlan, type PlanOptions } from "../../compiler/plan/index.js";
import type { ModelPlan, PlanFunction, PlanInput, PlanPipeline, PlanTensor, PlanTraining } from "../../runtime/api/plan.js";
import type { KernelGraph } from "../../runtime/kernel/graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { instantiateBatchGraph, type BatchGraph } from "../../runtime/ir/batch-graph.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import type { TensorFeed } from "../../runtime/backends/backend.js";
import { examplePrograms, intAt } from "../gradients/helpers.js";
import { noise } from "../lower/harness.js";
import { memoryHost } from "../compiler/harness.js";

/** The batch size the tests run functions at (not 1, so rows can be told apart). */
export const BATCH = 3;
/** The default batch size of the model's own training step in the tests. */
export const TRAIN_BATCH = 2;

/**
 * One plan under test: a model's plan (which carries every pipeline over
 * the model), seen alone (`pipeline` null) or through one of its pipelines.
 */
export interface PlanCase {
  readonly label: string;
  readonly file: string;
  readonly program: CheckedProgram;
  readonly model: CheckedModel;
  readonly pipeline: string | null;
  /** The model's whole plan. */
  readonly plan: ModelPlan;
  /** The model's own training step, or the pipeline's `pretrain` and `adapt` steps in order. */
  readonly training: readonly PlanTraining[];
  /** The model's functions, or those of the model after the pipeline (its replaced heads). */
  readonly functions: readonly PlanFunction[];
  /** The model's tensors, or those of the model after the pipeline. */
  readonly tensors: readonly PlanTensor[];
}

let cases: PlanCase[] | null = null;

/** The pipeline `name` of a plan. */
export function pipelineOf(plan: ModelPlan, name: string): PlanPipeline {
  const found = plan.pipelines.find((p) => p.name === name);
  if (found === undefined) throw new Error(`the plan has no pipeline '${name}'`);
  return found;
}

/** The training steps (`pretrain`, `adapt`) of a plan's pipeline `name`, in order. */
export function pipelineTraining(plan: ModelPlan, name: string): PlanTraining[] {
  return pipelineOf(plan, name).steps.flatMap((s) => (s.kind === "pretrain" || s.kind === "adapt" ? [s.training] : []));
}

/** Every example model's plan, alone and through each pipeline over it (built once per test file). */
export function examplePlans(): PlanCase[] {
  cases ??= examplePrograms().flatMap(({ file, program }) =>
    program.models.flatMap((model) => {
      const options: PlanOptions = { trainBatch: TRAIN_BATCH };
      const plan = buildModelPlan(program, model.name, options);
      const alone: PlanCase = { label: `${file} ${model.name}`, file, program, model, pipeline: null, plan, training: plan.training, functions: plan.functions, tensors: plan.tensors };
      return [
        alone,
        ...plan.pipelines.map((p): PlanCase => ({
          ...alone,
          label: `${file} ${model.name} / ${p.name}`,
          pipeline: p.name,
          training: pipelineTraining(plan, p.name),
          functions: p.after?.functions ?? plan.functions,
          tensors: p.after?.tensors ?? plan.tensors,
        })),
      ];
    }),
  );
  return cases;
}

/** A batch graph at `batch` examples, planned as a kernel graph. */
export function kernelAt(graph: BatchGraph, batch: number): KernelGraph {
  return planKernelGraph(instantiateBatchGraph(graph, batch));
}

/** Checks `src` (which must be valid). */
export function checkedSource(src: string): CheckedProgram {
  const { program, diagnostics } = checkProgram(new Source("main.repr", src), memoryHost());
  expect(diagnostics.filter((d) => d.severity === "error"), renderDiagnostics(diagnostics)).toEqual([]);
  return program;
}

/** A plain float64 tensor. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly data: number[];
}

/**
 * Data for `n` examples of an input, the same for a name and a flat index
 * wherever it is fed: floats in [−1, 1), integer ids below vocab or classes.
 */
export function inputData(input: Pick<PlanInput, "name" | "dtype" | "shape" | "vocab" | "classes">, n: number): Tensor {
  const shape = [n, ...input.shape];
  const size = shape.reduce((a, d) => a * d, 1);
  const salt = [...input.name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1000, 0);
  const ints = input.vocab ?? input.classes ?? 2;
  return { shape, data: Array.from({ length: size }, (_, k) => (input.dtype === "i32" ? intAt(k, input.name, ints) : noise(k, salt))) };
}

/** Row `i` of a batched tensor, as a batch of one. */
export function row(t: Tensor, i: number): Tensor {
  const width = t.data.length / t.shape[0]!;
  return { shape: [1, ...t.shape.slice(1)], data: t.data.slice(i * width, (i + 1) * width) };
}

/** Runs a kernel graph on the reference backend; outputs as plain tensors. */
export function runGraph(graph: KernelGraph, feeds: Readonly<Record<string, TensorFeed>>, params: ReadonlyMap<string, TensorFeed> | Readonly<Record<string, TensorFeed>>): Record<string, Tensor> {
  const out = compileReference(graph).run(feeds, params);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { shape: [...v.shape], data: [...v.data] }]));
}

/** Expects two tensors to agree within `tol` (absolute), shapes included. */
export function expectTensorsClose(actual: Tensor, expected: Tensor, tol: number, what: string): void {
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape);
  let worst = 0;
  actual.data.forEach((a, i) => (worst = Math.max(worst, Math.abs(a - expected.data[i]!))));
  if (!(worst <= tol)) expect.fail(`${what}: differs by ${worst} (tolerance ${tol})`);
}
