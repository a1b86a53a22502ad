/**
 * The graphs the batch-graph tests fit: for every model of the examples and
 * of the spec's valid examples, its functions (encode, decode, forward, each
 * head, as `compiler/plan/functions.ts` lowers them), its own training step
 * (every loss, default settings) and each step of its pipelines (pretrain and
 * adapt as training steps, test as an evaluation graph) — each as a lowering
 * at any batch size. Also feeds for a kernel graph: deterministic data whose
 * integer inputs stay in range, alias tables for skip-gram negatives, and
 * parameters whose optimizer moments and running variances are positive.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Source } from "../../language/source.js";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import type { CheckedModel, CheckedProgram } from "../../compiler/check/program.js";
import { LowerError, lowerModel, lowerTrainStep, stepLowering, SEED_INPUT, STEP_INPUT } from "../../compiler/lower/index.js";
import { DECODE_INPUT, HEAD_INPUT } from "../../compiler/plan/index.js";
import { lowerEncode, lowerForward, lowerPartAlone } from "../../compiler/plan/functions.js";
import { UPDATES_INPUT } from "../../compiler/optim/schedules.js";
import type { Graph } from "../../runtime/ir/node.js";
import type { NamedValue } from "../../runtime/kernel/graph.js";
import type { TensorFeed } from "../../runtime/backends/backend.js";
import { negativeTable } from "../../runtime/sampling/negative-table.js";
import { examplePrograms, intAt, intRanges } from "../gradients/helpers.js";
import { noise } from "../lower/harness.js";

/** One graph of a model, lowerable at any batch size. */
export interface BatchCase {
  /** `file model what`, for test names and messages. */
  readonly label: string;
  readonly model: CheckedModel;
  readonly lowerAt: (batch: number) => Graph;
}

/** The valid ```repr blocks of spec/*.md that define a model, checked. */
function specPrograms(): { file: string; program: CheckedProgram }[] {
  const dir = join(import.meta.dirname, "..", "..", "spec");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".md"))
    .sort()
    .flatMap((file) => {
      const lines = readFileSync(join(dir, file), "utf8").split("\n");
      const out: { file: string; program: CheckedProgram }[] = [];
      for (let i = 0; i < lines.length; i++) {
        if (lines[i] !== "```repr") continue;
        let end = i + 1;
        while (end < lines.length && lines[end] !== "```") end++;
        const text = lines.slice(i + 1, end).join("\n") + "\n";
        const { program, diagnostics } = checkProgram(new Source(join("spec", file), text), nodeFileHost);
        if (program.models.length > 0 && !diagnostics.some((d) => d.severity === "error")) out.push({ file: `${file}:${i + 2}`, program });
        i = end;
      }
      return out;
    });
}

/** Every graph of one program's models. */
function programCases(file: string, program: CheckedProgram): BatchCase[] {
  const cases: BatchCase[] = [];
  for (const model of program.models) {
    const add = (what: string, lowerAt: (batch: number) => Graph | null | undefined): void => {
      cases.push({
        label: `${file} ${model.name} ${what}`,
        model,
        lowerAt: (batch) => {
          const g = lowerAt(batch);
          if (!g) throw new LowerError(`${what} has no graph at batch ${batch}`);
          return g;
        },
      });
    };
    const none = new Map();
    add("encode", (b) => lowerEncode(model, b, none)?.graph);
    const decoder = model.parts.find((p) => p.role === "decoder");
    if (decoder) add("decode", (b) => lowerPartAlone(model, decoder, DECODE_INPUT, b, none)?.graph);
    add("forward", (b) => lowerForward(model, b, none)?.graph);
    for (const head of model.parts.filter((p) => p.role === "head")) add(`head ${head.name}`, (b) => lowerPartAlone(model, head, HEAD_INPUT, b, none)?.graph);
    if (model.losses.length > 0) {
      add("train", (b) => lowerTrainStep(lowerModel(program, model.name, { batch: b, mode: "train", prediction: false }), null, new Set(), "input").graph);
    }
    for (const pipeline of program.pipelines.filter((p) => p.model === model.name)) {
      pipeline.steps.forEach((step, index) => {
        if (step.kind !== "pretrain" && step.kind !== "adapt" && step.kind !== "test") return;
        add(`${pipeline.name}.${index + 1} ${step.kind}`, (b) => {
          const l = stepLowering(program, pipeline.name, index);
          if (step.kind === "test") return lowerModel(program, l.model, { ...l.options, batch: b }).graph;
          const lowered = lowerModel(program, l.model, { ...l.options, batch: b, prediction: false });
          return lowerTrainStep(lowered, l.settings, l.options.frozen, l.settings?.steps ?? "input").graph;
        });
      });
    }
  }
  // Keep only what lowers at all (a part that reads other values has no function).
  return cases.filter((c) => {
    try {
      c.lowerAt(2);
      return true;
    } catch (e) {
      if (e instanceof LowerError) return false;
      throw e;
    }
  });
}

/** The graphs of every example model. */
export function exampleCases(): BatchCase[] {
  return examplePrograms().flatMap(({ file, program }) => programCases(file, program));
}

/** The graphs of every model of the spec's examples. */
export function specCases(): BatchCase[] {
  return specPrograms().flatMap(({ file, program }) => programCases(file, program));
}

/** A string's small hash, to vary data by name. */
function salt(name: string): number {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) % 1000;
  return h;
}

/** Feeds for a kernel graph's inputs: seed 5, step 3, 100 updates, alias tables, data in range. */
export function inputFeeds(inputs: readonly NamedValue[], model: CheckedModel): Record<string, TensorFeed> {
  const ranges = intRanges(model);
  const feeds: Record<string, TensorFeed> = {};
  const count = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);
  for (const i of inputs) {
    if (i.name === SEED_INPUT) feeds[i.name] = { shape: [], data: Int32Array.of(5) };
    else if (i.name === STEP_INPUT) feeds[i.name] = { shape: [], data: Int32Array.of(3) };
    else if (i.name === UPDATES_INPUT && i.shape.length === 0) feeds[i.name] = { shape: [], data: Int32Array.of(100) };
    else if (i.name.startsWith("negatives.")) {
      // A proper alias table from made-up counts over the largest id range that fits.
      const size = i.shape[0]!;
      const vocab = Math.max(1, ...[...ranges.values()].filter((n) => n <= size));
      const table = negativeTable(Array.from({ length: vocab }, (_, k) => 1 + (k % 5)));
      feeds[i.name] = { shape: i.shape, data: i.name.endsWith(".prob") ? Float32Array.from(table.prob) : table.alias };
    } else if (i.dtype === "i32") {
      feeds[i.name] = { shape: i.shape, data: Int32Array.from({ length: count(i.shape) }, (_, k) => intAt(k, i.name, ranges.get(i.name) ?? 2)) };
    } else {
      feeds[i.name] = { shape: i.shape, data: Float32Array.from({ length: count(i.shape) }, (_, k) => noise(k, salt(i.name))) };
    }
  }
  return feeds;
}

/**
 * Feeds for a kernel graph's params: small numbers; running variances and
 * optimizer moments positive; integers 0. Params do not depend on the batch
 * size, so a `cache` shared across sizes makes each once.
 */
export function paramFeeds(params: readonly NamedValue[], cache: Map<string, TensorFeed> = new Map()): Record<string, TensorFeed> {
  const feeds: Record<string, TensorFeed> = {};
  for (const p of params) {
    const cached = cache.get(p.name);
    if (cached && cached.shape.join() === p.shape.join()) {
      feeds[p.name] = cached;
      continue;
    }
    const n = p.shape.reduce((a, d) => a * d, 1);
    const positive = p.name.endsWith("running_var") || /\.(adam|momentum)\./.test(p.name);
    cache.set(p.name, (feeds[p.name] = {
      shape: p.shape,
      data: p.dtype === "i32" ? new Int32Array(n) : Float32Array.from({ length: n }, (_, k) => (positive ? 0.5 + Math.abs(noise(k, salt(p.name))) : noise(k, salt(p.name)))),
    }));
  }
  return feeds;
}
