/**
 * Whole training steps on both backends (issue 3, item 7): for every example
 * model (pretraining with all its losses) and for the adapt steps of the
 * example pipelines that freeze a part, the step graph (forward, loss,
 * backward, adam update) is planned into a kernel graph and run for three
 * steps on `reference` (float64) and `cpu` (float32), from the same initial
 * weights (rounded to float32) and the same deterministic batches, each
 * backend feeding its own updated parameters, optimizer state and running
 * statistics back (the CPU's graph planned as its home plans it, attention
 * joined). Losses and every updated tensor must agree within float32
 * tolerance; frozen parameters get no gradient node, no update, and stay
 * bit-identical.
 */
import { describe, expect, it } from "vitest";
import { initialize, lowerModel, lowerTrainStep, SEED_INPUT, STEP_INPUT, stepLowering, type LoweredModel } from "../../compiler/lower/index.js";
import type { NamedValue } from "../../runtime/kernel/graph.js";
import type { CheckedModel, CheckedProgram, LayerNode } from "../../compiler/check/program.js";
import type { TrainStep } from "../../compiler/optim/train-step.js";
import { compileCpu, CPU_PLAN } from "../../runtime/backends/cpu/index.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import type { TensorFeed, TensorValue } from "../../runtime/backends/backend.js";
import { graphNodes, type Node } from "../../runtime/ir/node.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { relativeError } from "../cpu/compare.js";
import { noise } from "../lower/harness.js";
import { examplePrograms, intAt, intRanges, modelFeeds } from "./helpers.js";

const STEPS = 3;
/** Float32 agreement: |cpu − reference| ≤ TOL · max(1, max |reference|) per tensor. */
const TOL = 1e-4;
/** Gradients: |cpu − reference| ≤ GRAD_TOL · max |reference| per tensor. */
const GRAD_TOL = 1e-3;
/** The default optimizer's rate: adam(lr: 1e-3). */
const LR = 1e-3;

/** The data feeds of update t: fresh deterministic numbers per step, ids in range. */
function batchAt(inputs: readonly NamedValue[], model: CheckedModel, base: Record<string, TensorFeed>, t: number, labels: number): Record<string, TensorFeed> {
  const ranges = intRanges(model);
  const feeds: Record<string, TensorFeed> = {};
  for (const i of inputs) {
    if (i.name.startsWith("negatives.") || i.name === SEED_INPUT) feeds[i.name] = base[i.name]!;
    else if (i.name === STEP_INPUT) feeds[i.name] = { shape: [], data: [t] };
    else {
      const n = i.shape.reduce((a, d) => a * d, 1);
      const data = Array.from({ length: n }, (_, k) =>
        i.dtype === "i32" ? intAt(k + 7919 * t, i.name, ranges.get(i.name) ?? labels) : Math.fround(noise(k + 7919 * t, i.name.length)),
      );
      feeds[i.name] = { shape: i.shape, data };
    }
  }
  return feeds;
}

interface Trained {
  readonly losses: number[];
  readonly finals: Record<string, TensorValue>;
  readonly outputs: Record<string, TensorValue>[];
}

/** Runs the step on one backend for STEPS updates, feeding `new:` outputs back. */
function train(run: (feeds: Record<string, TensorFeed>, params: Record<string, TensorFeed>) => Record<string, TensorValue>, initial: Record<string, TensorFeed>, batches: Record<string, TensorFeed>[]): Trained {
  const params: Record<string, TensorFeed> = { ...initial };
  const losses: number[] = [];
  const outputs: Record<string, TensorValue>[] = [];
  for (const batch of batches) {
    const out = run(batch, params);
    // Copy: the CPU backend returns views of buffers it reuses on the next run.
    const copy = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { shape: v.shape, dtype: v.dtype, data: v.data.slice() }])) as Record<string, TensorValue>;
    outputs.push(copy);
    losses.push(copy["loss"]!.data[0]!);
    for (const [name, v] of Object.entries(copy)) if (name.startsWith("new:")) params[name.slice(4)] = { shape: v.shape, data: v.data };
  }
  return { losses, finals: params as Record<string, TensorValue>, outputs };
}

/** Builds, plans and runs a training step on both backends; checks agreement. */
function compare(lowered: LoweredModel, model: CheckedModel, frozen: ReadonlySet<string>, labels = 2, steps = STEPS) {
  const step: TrainStep = lowerTrainStep(lowered, null, frozen);
  // The same graph with each trainable parameter's gradient as an output too, to compare.
  const withGrads = lowered.builder.graph({
    ...Object.fromEntries(step.graph.outputs.map((o) => [o.name, o.node])),
    ...Object.fromEntries([...step.grads].map(([name, g]) => [`grad:${name}`, g])),
  });
  const kg = planKernelGraph(withGrads);
  const base = modelFeeds(lowered, model, labels);
  const batches = Array.from({ length: steps }, (_, t) => batchAt(kg.inputs, model, base, t, labels));

  // Identical initial weights: the documented initialization, rounded to float32; optimizer state zero.
  const initial: Record<string, TensorFeed> = {};
  for (const [name, data] of initialize(lowered.params, 1)) {
    const p = lowered.params.find((q) => q.name === name)!;
    initial[name] = { shape: p.shape, data: p.dtype === "i32" ? Int32Array.from(data) : Float32Array.from(data) };
  }
  for (const s of step.state) initial[s.name] = { shape: s.node.shape, data: new Float32Array(s.node.shape.reduce((a, d) => a * d, 1)) };
  for (const p of kg.params) expect(initial[p.name], `param ${p.name} has an initial value`).toBeDefined();
  const before = Object.fromEntries(Object.entries(initial).map(([k, v]) => [k, Array.from(v.data)]));

  const ref = train((f, p) => compileReference(kg).run(f, p), initial, batches);
  // The CPU as its home plans (attention kernels joined: CPU_PLAN); same inputs and outputs.
  const cpuExe = compileCpu(planKernelGraph(withGrads, CPU_PLAN));
  const cpu = train((f, p) => cpuExe.run(f, p), initial, batches);

  // The fed initial values were not written to by either backend.
  for (const [k, v] of Object.entries(initial)) expect(Array.from(v.data), k).toEqual(before[k]);

  // Adam divides by √v: where float32 rounding moves a gradient element by a fraction d of
  // itself (a (near-)zero gradient, a relu flipped by rounding), the update moves by up to
  // about lr·min(2, 2d). The parameters get that allowance per element, on top of TOL.
  const allowance = new Map<string, Float64Array>();
  const worstGrad = Array.from({ length: steps }, () => 0);
  for (let t = 0; t < steps; t++) {
    expect(Number.isFinite(ref.losses[t]!), `reference loss at step ${t}`).toBe(true);
    // Gradients first: they set the parameters' allowances for this step.
    const outputs = [...kg.outputs].sort((a, b) => Number(b.name.startsWith("grad:")) - Number(a.name.startsWith("grad:")));
    for (const o of outputs) {
      const [r, c] = [ref.outputs[t]![o.name]!, cpu.outputs[t]![o.name]!];
      if (o.name.startsWith("grad:")) {
        // Gradients: relative to the tensor's largest float64 gradient.
        let scale = 0;
        for (const v of r.data) scale = Math.max(scale, Math.abs(v));
        let worst = 0;
        const slack = allowance.get(o.name.slice(5)) ?? new Float64Array(r.data.length);
        r.data.forEach((v, j) => {
          const d = Math.abs(c.data[j]! - v);
          worst = Math.max(worst, d / Math.max(scale, 1e-30));
          slack[j]! += LR * Math.min(2, (2 * d) / Math.max(Math.abs(v), 1e-30));
        });
        allowance.set(o.name.slice(5), slack);
        // After the first update the two backends' parameters differ by adam's allowance, so
        // their gradients may differ by more than rounding alone.
        const tol = t === 0 ? GRAD_TOL : 10 * GRAD_TOL;
        if (scale < 1e-12) {
          // A gradient that is zero in exact arithmetic (a key bias under softmax): float32 noise only.
          for (const v of c.data) if (!(Math.abs(v) <= 1e-6)) expect.fail(`step ${t}, ${o.name}: cpu gradient ${v} where the reference's is 0`);
        } else {
          worstGrad[t] = Math.max(worstGrad[t]!, worst);
          if (!(worst <= tol)) expect.fail(`step ${t}, ${o.name}: error ${worst} of the largest gradient ${scale}`);
        }
      } else if (allowance.has(o.name.slice(4))) {
        const slack = allowance.get(o.name.slice(4))!;
        let scale = 1;
        for (const v of r.data) scale = Math.max(scale, Math.abs(v));
        r.data.forEach((v, j) => {
          const d = Math.abs(c.data[j]! - v);
          if (!(d <= TOL * scale + slack[j]!)) expect.fail(`step ${t}, ${o.name}[${j}]: cpu ${c.data[j]}, reference ${v} (allowed ${TOL * scale + slack[j]!})`);
        });
      } else {
        const err = relativeError(c.data, r.data);
        if (!(err <= TOL)) expect.fail(`step ${t}, ${o.name}: relative error ${err} > ${TOL}\ncpu ${[...c.data].slice(0, 6)}\nref ${[...r.data].slice(0, 6)}`);
      }
    }
  }
  // Training moved every trainable parameter (on the reference backend).
  const updated = step.trainable.map((p) => p.name);
  expect(updated.length).toBeGreaterThan(0);
  for (const name of updated) expect(Array.from(ref.finals[name]!.data), `${name} moved`).not.toEqual(before[name]!);
  return { step, kg, ref, cpu, before, worstGrad };
}

/** Frozen params: not trainable, no `new:` output, no gradient node, unchanged after training. */
function expectFrozen(lowered: LoweredModel, result: ReturnType<typeof compare>, frozen: ReadonlySet<string>) {
  const { step, kg, ref, cpu, before } = result;
  const frozenParams = lowered.params.filter((p) => p.part !== null && frozen.has(p.part) && p.used);
  expect(frozenParams.length).toBeGreaterThan(0);
  expect(step.frozen.map((p) => p.name).sort()).toEqual(frozenParams.filter((p) => p.kind === "weight").map((p) => p.name).sort());
  const forward = new Set(graphNodes(lowered.graph));
  const backward = graphNodes(step.graph).filter((n) => !forward.has(n));
  const frozenNodes = new Set<Node>(frozenParams.map((p) => lowered.builder.leaf(p.name)!));
  for (const p of frozenParams) {
    expect(p.trainable, p.name).toBe(false);
    expect(step.grads.has(p.name), `${p.name} has a gradient`).toBe(false);
    expect(kg.outputs.some((o) => o.name === `new:${p.name}`), `${p.name} is updated`).toBe(false);
    expect(Array.from(ref.finals[p.name]!.data), p.name).toEqual(before[p.name]);
    expect(Array.from(cpu.finals[p.name]!.data), p.name).toEqual(before[p.name]);
  }
  // Pruned, not multiplied by zero: no node of the backward pass or update reads a frozen tensor.
  const readers = backward.filter((n) => n.inputs.some((i) => frozenNodes.has(i)));
  expect(readers.map((n) => `%${n.id} ${n.op}`)).toEqual([]);
  expect(backward.length).toBeGreaterThan(0);
}

const programs = examplePrograms();

describe("every example model: three adam steps agree on reference and cpu", () => {
  for (const { file, program } of programs) {
    for (const model of program.models) {
      it(`${file}: ${model.name}`, () => {
        const { batch, steps } = comparison(model);
        const lowered = lowerModel(program, model.name, { batch, mode: "train" });
        const { worstGrad } = compare(lowered, model, new Set(), 2, steps);
        if (process.env["REPR_GRAD_REPORT"]) console.log(file, "worst gradient error per step", worstGrad);
      });
    }
  }
});

/**
 * How a model is compared: at batch 2 over STEPS updates, or, for a model
 * with `batch_norm`, at batch 8 over one update. Batch statistics over few
 * examples divide by the examples' spread, magnifying float32 rounding; and
 * after an update the backends' parameters differ by adam's allowance, which
 * such a model magnifies again, so later updates cannot agree to a fixed
 * tolerance.
 */
function comparison(model: CheckedModel): { batch: number; steps: number } {
  const usesBatchNorm = (node: LayerNode): boolean =>
    node.kind === "builtin" ? node.name === "batch_norm" || node.children.some(usesBatchNorm) : node.kind === "sequence" ? node.layers.some(usesBatchNorm) : node.kind === "block" ? node.graph.nodes.some((n) => n.op === "apply" && usesBatchNorm(n.layer)) : false;
  return model.parts.some((p) => p.layer !== null && usesBatchNorm(p.layer)) ? { batch: 8, steps: 1 } : { batch: 2, steps: STEPS };
}

/** The adapt steps of example pipelines that come after a `freeze`. */
function frozenAdapts(program: CheckedProgram): { pipeline: string; index: number }[] {
  return program.pipelines.flatMap((p) =>
    p.steps.flatMap((s, index) => (s.kind === "adapt" && p.steps.slice(0, index).some((e) => e.kind === "freeze") ? [{ pipeline: p.name, index }] : [])),
  );
}

describe("adapt steps with frozen parts (stepLowering): agreement, and frozen parts untouched", () => {
  const cases = programs.flatMap(({ file, program }) => frozenAdapts(program).map((c) => ({ file, program, ...c })));
  it("there are such steps among the examples", () => {
    expect(cases.length).toBeGreaterThanOrEqual(2);
  });
  for (const { file, program, pipeline, index } of cases) {
    it(`${file}: ${pipeline}, step ${index + 1}`, () => {
      const s = stepLowering(program, pipeline, index);
      expect(s.options.frozen!.size).toBeGreaterThan(0);
      const model = program.models.find((m) => m.name === s.model)!;
      const { batch, steps } = comparison(model);
      const lowered = lowerModel(program, s.model, { ...s.options, batch });
      const result = compare(lowered, model, s.options.frozen!, 2, steps);
      expectFrozen(lowered, result, s.options.frozen!);
    });
  }
});
