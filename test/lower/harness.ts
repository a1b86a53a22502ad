/**
 * Shared helpers for lowering tests: check a model from source, lower it,
 * feed it deterministic numbers, run it on the reference backend, and read
 * tensors by index for the hand-written float64 computations the tests
 * compare against.
 */
import { expect } from "vitest";
import { Source } from "../../language/source.js";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import { checkProgram } from "../../compiler/check/check.js";
import type { CheckedModel, CheckedProgram } from "../../compiler/check/program.js";
import { lowerCheckedModel, lowerModel, lowerTrainStep, stepLowering, type LoweredModel, type LowerOptions } from "../../compiler/lower/index.js";
import { run } from "../../runtime/backends/reference/evaluate.js";
import { memoryHost } from "../compiler/harness.js";

/** A plain tensor: shape and row-major numbers. */
export interface T {
  readonly shape: readonly number[];
  readonly data: number[];
}

/** Checks `src` (which must be valid) and returns its program. */
export function checked(src: string): CheckedProgram {
  const { program, diagnostics } = checkProgram(new Source("main.repr", src), memoryHost());
  expect(diagnostics.filter((d) => d.severity === "error"), renderDiagnostics(diagnostics)).toEqual([]);
  return program;
}

/** The first model of `src`, checked. */
export function modelOf(src: string, name?: string): CheckedModel {
  const program = checked(src);
  const model = name ? program.models.find((m) => m.name === name) : program.models[0];
  expect(model).toBeDefined();
  return model!;
}

/** Lowers the first model of `src` (batch 2, training mode unless said otherwise). */
export function lowerSrc(src: string, options: Partial<LowerOptions> = {}): LoweredModel {
  return lowerCheckedModel(modelOf(src), { batch: 2, mode: "train", ...options });
}

/** Step `index` of pipeline `pipeline` in `src`, lowered at `batch`: the model as that step sees it, and its training step. */
export function lowerPipelineStep(src: string, pipeline: string, index: number, batch: number) {
  const program = checked(src);
  const s = stepLowering(program, pipeline, index);
  const lowered = lowerModel(program, s.model, { ...s.options, batch });
  return { lowered, step: lowerTrainStep(lowered, s.settings, s.options.frozen) };
}

/** A deterministic pseudo-random number in [−1, 1) from a counter (not the model's generator). */
export function noise(i: number, salt = 0): number {
  const x = Math.sin((i + 1) * 12.9898 + salt * 78.233) * 43758.5453;
  return 2 * (x - Math.floor(x)) - 1;
}

/** A tensor of `shape` filled by `f(flat index)`. */
export function fill(shape: readonly number[], f: (i: number) => number): T {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Array.from({ length: n }, (_, i) => f(i)) };
}

/** A string's small hash, to salt `noise` by name. */
function salt(name: string): number {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) % 1000;
  return h;
}

/**
 * Feeds for every param and input of a lowered model: params and float inputs
 * from `noise` (salted by name), integer inputs from `ints`, seed 5 and step
 * 3 unless `overrides` gives them.
 */
export function feedsFor(lowered: LoweredModel, overrides: Readonly<Record<string, T>> = {}, ints: (i: number, name: string) => number = (i) => i % 3): Record<string, T> {
  const feeds: Record<string, T> = {};
  for (const p of lowered.params) {
    feeds[p.name] = fill(p.shape, (i) => (p.dtype === "i32" ? 0 : p.name.endsWith("running_var") ? 1 + Math.abs(noise(i, salt(p.name))) : noise(i, salt(p.name))));
  }
  for (const i of lowered.inputs) {
    if (i.kind === "seed") feeds[i.name] = { shape: [], data: [5] };
    else if (i.kind === "step") feeds[i.name] = { shape: [], data: [3] };
    else feeds[i.name] = fill(i.shape, (k) => (i.dtype === "i32" ? ints(k, i.name) : noise(k, salt(i.name))));
  }
  return { ...feeds, ...overrides };
}

/** Runs a lowered model on the reference backend; outputs as plain tensors. */
export function runLowered(lowered: LoweredModel, feeds: Readonly<Record<string, T>>): Record<string, T> {
  const out = run(lowered.graph, feeds);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { shape: [...v.shape], data: [...v.data] }]));
}

/** Row-major element of `t` at `index`. */
export function at(t: T, ...index: number[]): number {
  let flat = 0;
  for (let a = 0; a < t.shape.length; a++) flat = flat * t.shape[a]! + index[a]!;
  return t.data[flat]!;
}

/** Expects two lists of numbers to agree within `tol` (absolute plus relative). */
export function expectClose(actual: readonly number[], expected: readonly number[], tol = 1e-10): void {
  expect(actual.length, "length").toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) expect.fail(`element ${i}: got ${a}, expected ${e}`);
  });
}

/** `y = x·Wᵀ + b` for rows x [n, in], W [out, in] (as stored), b [out]. */
export function naiveLinear(x: T, w: T, bias: T | null): T {
  const [n, inF] = [x.data.length / x.shape[x.shape.length - 1]!, x.shape[x.shape.length - 1]!];
  const outF = w.shape[0]!;
  const data: number[] = [];
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < outF; o++) {
      let s = bias ? bias.data[o]! : 0;
      for (let k = 0; k < inF; k++) s += x.data[r * inF + k]! * w.data[o * inF + k]!;
      data.push(s);
    }
  }
  return { shape: [...x.shape.slice(0, -1), outF], data };
}
