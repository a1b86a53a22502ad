/**
 * Shared helpers for the gradient tests: load the examples, feed lowered
 * models with deterministic data whose integer inputs stay in range, and
 * compare autodiff against central finite differences on sampled coordinates.
 */
import { expect } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Source } from "../../language/source.js";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import type { CheckedModel, CheckedProgram } from "../../compiler/check/program.js";
import { negativeInputs, type LoweredModel } from "../../compiler/lower/index.js";
import { negativeTable } from "../../runtime/sampling/negative-table.js";
import { grad } from "../../compiler/autodiff/grad.js";
import { evaluate, type Feed } from "../../runtime/backends/reference/evaluate.js";
import { feedsFor, type T } from "../lower/harness.js";
import { rng } from "../autodiff/fd.js";
import type { Node } from "../../runtime/ir/node.js";

export const EXAMPLES_DIR = join(import.meta.dirname, "..", "..", "examples");

/** Every example file, checked without errors. */
export function examplePrograms(): { file: string; program: CheckedProgram }[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => f.endsWith(".repr"))
    .sort()
    .map((file) => {
      const path = join(EXAMPLES_DIR, file);
      const { program, diagnostics } = checkProgram(new Source(path, readFileSync(path, "utf8")), nodeFileHost);
      expect(diagnostics.filter((d) => d.severity === "error"), renderDiagnostics(diagnostics)).toEqual([]);
      return { file, program };
    });
}

/** The exclusive upper bound of each integer model input (its vocab or class count). */
export function intRanges(model: CheckedModel): Map<string, number> {
  const ranges = new Map<string, number>();
  for (const i of model.inputs) {
    const t = i.type as { vocab?: number; classes?: number };
    const n = t.vocab ?? t.classes;
    if (n !== undefined) ranges.set(i.name, n);
  }
  return ranges;
}

/** A deterministic integer in [0, n) for element k of input `name`. */
export function intAt(k: number, name: string, n: number): number {
  let h = 2166136261;
  for (const c of `${name}:${k}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return (h >>> 0) % n;
}

/**
 * Feeds for a lowered model (params and float inputs from the lowering
 * harness, seed 5, step 3), with integer inputs in range: model inputs by
 * their vocab or classes, other i32 inputs (labels of a supervised step) below
 * `labels`.
 */
export function modelFeeds(lowered: LoweredModel, model: CheckedModel, labels = 2): Record<string, T> {
  const ranges = intRanges(model);
  const feeds = feedsFor(lowered, {}, (k, name) => intAt(k, name, ranges.get(name) ?? labels));
  // Negative-sampling tables: a proper alias table from made-up counts.
  for (const i of lowered.inputs.filter((i) => i.kind === "negatives" && i.name.endsWith(".prob"))) {
    const loss = i.name.slice("negatives.".length, -".prob".length);
    const names = negativeInputs(loss);
    const size = lowered.inputs.find((j) => j.name === names.alias)!.shape[0]!;
    // The vocabulary: the largest id range of the model's inputs that fits the table.
    const vocab = Math.max(1, ...[...ranges.values()].filter((n) => n <= size));
    const { prob, alias } = negativeTable(Array.from({ length: vocab }, (_, k) => 1 + (k % 5)));
    expect(prob.length).toBe(size);
    feeds[names.prob] = { shape: [prob.length], data: [...prob] };
    feeds[names.alias] = { shape: [alias.length], data: [...alias] };
  }
  return feeds;
}

/** A finite-difference comparison of one coordinate. */
export interface Coordinate {
  readonly param: string;
  readonly index: number;
  readonly autodiff: number;
  readonly fd: number;
}

/** The outcome of `checkLoweredGradients`. */
export interface FdReport {
  readonly checked: Coordinate[];
  readonly skipped: Coordinate[];
  readonly failures: string[];
  readonly params: number;
}

/** The step of the central differences (float64 everywhere). */
export const H = 1e-6;
/** |autodiff − fd| ≤ ATOL + RTOL·max(|autodiff|, |fd|). */
export const RTOL = 1e-4;
export const ATOL = 1e-7;

/** The accepted |autodiff − fd|, relative to the larger of the two (and of `scale`, for sums). */
export function tolerance(ad: number, fd: number, scale = 0): number {
  return ATOL + RTOL * Math.max(Math.abs(ad), Math.abs(fd), scale);
}

/**
 * Differentiates the loss of a lowered model with respect to every trainable
 * parameter it uses, and compares `perParam` random coordinates of each with
 * central finite differences on the reference backend. A coordinate whose
 * one-sided differences disagree (a kink within h: relu at 0, a max_pool
 * tie, an abs) is skipped, not compared.
 */
export function checkLoweredGradients(lowered: LoweredModel, feeds: Readonly<Record<string, Feed>>, perParam = 6, seed = 1, lossNode?: Node): FdReport {
  const loss = lossNode ?? lowered.outputs.loss;
  if (!loss) throw new Error("the lowered model has no loss");
  const trainable = lowered.params.filter((p) => p.trainable && p.used && p.dtype === "f32");
  const nodes = trainable.map((p) => lowered.builder.leaf(p.name)!);
  const grads = grad(lowered.builder, loss, nodes);
  const values = evaluate([loss, ...grads], feeds);
  const f0 = values.get(loss)!.data[0]!;
  expect(Number.isFinite(f0), `loss ${f0}`).toBe(true);
  const next = rng(seed);
  const report: FdReport = { checked: [], skipped: [], failures: [], params: trainable.length };
  const lossAt = (name: string, shape: readonly number[], base: ArrayLike<number>, j: number, delta: number): number => {
    const data = Float64Array.from(base);
    data[j]! += delta;
    return evaluate([loss], { ...feeds, [name]: { shape, data } }).get(loss)!.data[0]!;
  };
  trainable.forEach((p, k) => {
    const ad = values.get(grads[k]!)!.data;
    const size = ad.length;
    const picks = new Set<number>();
    while (picks.size < Math.min(perParam, size)) picks.add(Math.floor(next() * size));
    const base = feeds[p.name]!.data;
    for (const j of picks) {
      const up = lossAt(p.name, p.shape, base, j, H);
      const down = lossAt(p.name, p.shape, base, j, -H);
      const fd = (up - down) / (2 * H);
      const forward = (up - f0) / H;
      const backward = (f0 - down) / H;
      const c: Coordinate = { param: p.name, index: j, autodiff: ad[j]!, fd };
      // A smooth function's one-sided differences differ by about h·f'' (far below the
      // tolerance); a kink within h makes them differ by O(1) times the kink's jump.
      if (Math.abs(forward - backward) > tolerance(c.autodiff, fd)) {
        report.skipped.push(c);
        continue;
      }
      report.checked.push(c);
      const err = Math.abs(c.autodiff - fd);
      if (!(err <= tolerance(c.autodiff, fd))) {
        report.failures.push(`${p.name}[${j}]: autodiff ${c.autodiff}, finite difference ${fd} (one-sided ${forward}, ${backward})`);
      }
    }
  });
  return report;
}

/** Expects a report with no failures, something compared, and few kinks skipped. */
export function expectGradientsMatch(report: FdReport, minChecked = 1): void {
  if (process.env["REPR_GRAD_REPORT"]) console.log(`params ${report.params}, compared ${report.checked.length}, skipped at kinks ${report.skipped.length}`);
  expect(report.failures, report.failures.join("\n")).toEqual([]);
  expect(report.params, "trainable params").toBeGreaterThan(0);
  expect(report.checked.length).toBeGreaterThanOrEqual(minChecked);
  expect(report.skipped.length, `skipped ${report.skipped.length} of ${report.checked.length + report.skipped.length}`).toBeLessThanOrEqual(
    Math.max(2, (report.checked.length + report.skipped.length) / 3),
  );
}

/**
 * For large models: directional derivatives. For up to `maxParams` sampled
 * trainable parameters (and once for all of them together), a random
 * direction v; autodiff's ⟨∇f, v⟩ against the central difference of
 * t ↦ f(θ + t·v). Two loss evaluations per check, whatever the param's size.
 */
export function checkDirectional(lowered: LoweredModel, feeds: Readonly<Record<string, Feed>>, maxParams: number, seed = 1): FdReport {
  const loss = lowered.outputs.loss!;
  const trainable = lowered.params.filter((p) => p.trainable && p.used && p.dtype === "f32");
  const grads = grad(lowered.builder, loss, trainable.map((p) => lowered.builder.leaf(p.name)!));
  const values = evaluate([loss, ...grads], feeds);
  const f0 = values.get(loss)!.data[0]!;
  expect(Number.isFinite(f0), `loss ${f0}`).toBe(true);
  const next = rng(seed);
  const report: FdReport = { checked: [], skipped: [], failures: [], params: trainable.length };
  const order = trainable.map((_, k) => k);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const groups = [...order.slice(0, maxParams).map((k) => [k]), order];
  groups.forEach((group, g) => {
    const dirs = group.map((k) => Float64Array.from({ length: values.get(grads[k]!)!.data.length }, () => 2 * next() - 1));
    let ad = 0;
    let scale = 0;
    group.forEach((k, i) => {
      const gk = values.get(grads[k]!)!.data;
      dirs[i]!.forEach((v, j) => {
        ad += gk[j]! * v;
        scale += Math.abs(gk[j]! * v);
      });
    });
    const at = (t: number): number => {
      const moved: Record<string, Feed> = { ...feeds };
      group.forEach((k, i) => {
        const p = trainable[k]!;
        const base = feeds[p.name]!.data;
        moved[p.name] = { shape: p.shape, data: Float64Array.from(dirs[i]!, (v, j) => base[j]! + t * v) };
      });
      return evaluate([loss], moved).get(loss)!.data[0]!;
    };
    const up = at(H);
    const down = at(-H);
    const fd = (up - down) / (2 * H);
    const [forward, backward] = [(up - f0) / H, (f0 - down) / H];
    const name = group.length === 1 ? trainable[group[0]!]!.name : "all params";
    const c: Coordinate = { param: name, index: g, autodiff: ad, fd };
    if (Math.abs(forward - backward) > tolerance(ad, fd, scale)) {
      report.skipped.push(c);
      return;
    }
    report.checked.push(c);
    if (!(Math.abs(ad - fd) <= tolerance(ad, fd, scale))) {
      report.failures.push(`${name} along a random direction: autodiff ${ad}, finite difference ${fd} (one-sided ${forward}, ${backward}; Σ|g·v| ${scale})`);
    }
  });
  return report;
}
