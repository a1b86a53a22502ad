/**
 * Shared helpers for the plan tests: every example's plans (the model alone
 * and each of its pipelines), deterministic data for plan inputs, and runs of
 * kernel graphs on the reference backend.
 */
import { expect } from "vitest";
import { Source } from "../../language/source.js";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import { checkProgram } from "../../compiler/check/check.js";
import type { CheckedModel, CheckedProgram } from "../../compiler/check/program.js";
import { buildModelPlan, type PlanOptions } from "../../compiler/plan/index.js";
import type { ModelPlan, PlanInput } from "../../runtime/api/plan.js";
import type { KernelGraph } from "../../runtime/kernel/graph.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import type { TensorFeed } from "../../runtime/backends/backend.js";
import { examplePrograms, intAt } from "../gradients/helpers.js";
import { noise } from "../lower/harness.js";
import { memoryHost } from "../compiler/harness.js";

/** The batch size the tests compile functions at (not 1, so rows can be told apart). */
export const BATCH = 3;
/** The batch size of training steps in the tests. */
export const TRAIN_BATCH = 2;

/** One plan under test. */
export interface PlanCase {
  readonly label: string;
  readonly file: string;
  readonly program: CheckedProgram;
  readonly model: CheckedModel;
  readonly pipeline: string | null;
  readonly plan: ModelPlan;
}

let cases: PlanCase[] | null = null;

/** Every example model's plan alone and with each pipeline over it (built once per test file). */
export function examplePlans(): PlanCase[] {
  cases ??= examplePrograms().flatMap(({ file, program }) =>
    program.models.flatMap((model) =>
      [null, ...program.pipelines.filter((p) => p.model === model.name).map((p) => p.name)].map((pipeline) => {
        const options: PlanOptions = { batch: BATCH, trainBatch: TRAIN_BATCH, ...(pipeline ? { pipeline } : {}) };
        const plan = buildModelPlan(program, model.name, options);
        return { label: `${file} ${model.name}${pipeline ? ` / ${pipeline}` : ""}`, file, program, model, pipeline, plan };
      }),
    ),
  );
  return cases;
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
