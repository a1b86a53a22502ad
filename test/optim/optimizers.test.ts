/**
 * Every optimizer, with and without both kinds of weight decay and with
 * clipping active or not, on a quadratic loss over two parameters: several
 * updates of the training-step graph on the reference backend against the
 * plain float64 implementation of spec/optimizers.md (test/optim/plain.ts).
 */
import { describe, expect, it } from "vitest";
import { stateNames, type Optimizer } from "../../compiler/optim/optimizers.js";
import type { Schedule } from "../../compiler/optim/schedules.js";
import { buildTrainStep } from "../../compiler/optim/train-step.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { graphNodes } from "../../runtime/ir/node.js";
import { verifyGraph } from "../../runtime/ir/verify.js";
import { maxRelError, PlainTrainer, rng, runSteps, type Params, type PlainSettings } from "./plain.js";

/** loss = Σ ½·A_p·(θ_p − C_p)² over the params p = a [3] and b [2, 2]. */
const shapes: Record<string, number[]> = { a: [3], b: [2, 2] };
const next = rng(7);
const draw = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + (hi - lo) * next());
const coef: Params = { a: draw(3, 0.5, 3), b: draw(4, 0.5, 3) };
const target: Params = { a: draw(3, -2, 2), b: draw(4, -2, 2) };
const init: Params = { a: draw(3, -2, 2), b: draw(4, -2, 2) };

interface Case {
  optimizer: Optimizer;
  schedule?: Schedule;
  clip?: number;
  weightDecay?: number;
  /** Whether param b decays (a always does). */
  bDecays?: boolean;
}

function quadratic(c: Case): { graph: ReturnType<typeof buildTrainStep>["graph"]; b: IRBuilder } {
  const b = new IRBuilder();
  const terms = Object.entries(shapes).map(([name, shape]) => {
    const theta = b.param(name, shape);
    const d = b.sub(theta, b.input(`C_${name}`, shape));
    return b.sum(b.mul(b.mul(b.input(`A_${name}`, shape), b.mul(d, d)), 0.5));
  });
  const loss = b.add(terms[0]!, terms[1]!);
  const params = Object.keys(shapes).map((name) => ({ name, node: b.leaf(name)!, part: "f", decay: name === "a" || (c.bDecays ?? true) }));
  const step = buildTrainStep(b, { loss, params, totalSteps: STEPS, ...c });
  expect(verifyGraph(step.graph)).toEqual([]);
  return { graph: step.graph, b };
}

const STEPS = 8;

function plainRun(c: Case): { losses: number[]; params: Params; trainer: PlainTrainer } {
  const settings: PlainSettings = { ...c, totalSteps: STEPS, decays: { a: true, b: c.bDecays ?? true } } as PlainSettings;
  const trainer = new PlainTrainer(settings);
  const params: Params = { a: [...init.a!], b: [...init.b!] };
  const losses: number[] = [];
  for (let t = 0; t < STEPS; t++) {
    const grads: Params = {};
    let loss = 0;
    for (const n of ["a", "b"]) {
      grads[n] = params[n]!.map((x, i) => coef[n]![i]! * (x - target[n]![i]!));
      params[n]!.forEach((x, i) => (loss += 0.5 * coef[n]![i]! * (x - target[n]![i]!) ** 2));
    }
    losses.push(loss);
    trainer.update(params, grads, t);
  }
  return { losses, params, trainer };
}

function irRun(c: Case): ReturnType<typeof runSteps> {
  const { graph } = quadratic(c);
  const fed = (p: Params, prefix: string) => Object.fromEntries(Object.entries(p).map(([n, d]) => [`${prefix}${n}`, { shape: shapes[n]!, data: d }]));
  return runSteps(graph, { ...fed(coef, "A_"), ...fed(target, "C_") }, fed(init, ""), STEPS);
}

/** Compares IR and plain runs: losses, params and optimizer state after STEPS updates. */
function compare(c: Case): { ir: ReturnType<typeof runSteps>; plain: ReturnType<typeof plainRun> } {
  const ir = irRun(c);
  const plain = plainRun(c);
  expect(maxRelError(ir.losses, plain.losses)).toBeLessThan(1e-12);
  for (const n of ["a", "b"]) {
    expect(maxRelError(ir.values[n]!, plain.params[n]!), n).toBeLessThan(1e-12);
    const [first, second] = stateNames(c.optimizer, n);
    if (c.optimizer.kind === "momentum") expect(maxRelError(ir.values[first!]!, plain.trainer.v[n]!)).toBeLessThan(1e-12);
    if (c.optimizer.kind === "adam" || c.optimizer.kind === "adamw") {
      expect(maxRelError(ir.values[first!]!, plain.trainer.m[n]!)).toBeLessThan(1e-12);
      expect(maxRelError(ir.values[second!]!, plain.trainer.v[n]!)).toBeLessThan(1e-12);
    }
  }
  // The run must have moved the parameters, or the comparison proves little.
  expect(maxRelError(ir.values.a!, init.a!)).toBeGreaterThan(1e-3);
  return { ir, plain };
}

const cases: [string, Case][] = [
  ["sgd", { optimizer: { kind: "sgd", lr: 0.1 } }],
  ["sgd + weight_decay", { optimizer: { kind: "sgd", lr: 0.1 }, weightDecay: 0.05, bDecays: false }],
  ["momentum (default beta)", { optimizer: { kind: "momentum", lr: 0.05 } }],
  ["momentum beta 0.5 + weight_decay + warmup", { optimizer: { kind: "momentum", lr: 0.05, beta: 0.5 }, weightDecay: 0.1, schedule: { kind: "warmup", steps: 3 } }],
  ["adam (defaults)", { optimizer: { kind: "adam", lr: 0.1 } }],
  ["adam + weight_decay, beta2 0.98", { optimizer: { kind: "adam", lr: 0.1, beta2: 0.98 }, weightDecay: 0.2, bDecays: false }],
  ["adamw (default decay 0.01)", { optimizer: { kind: "adamw", lr: 0.1 } }],
  ["adamw decay 0.3, b not decayed, cosine", { optimizer: { kind: "adamw", lr: 0.1, weightDecay: 0.3 }, bDecays: false, schedule: { kind: "cosine", warmup: 2 } }],
  ["adamw decay 0 is adam", { optimizer: { kind: "adamw", lr: 0.1, weightDecay: 0 } }],
  ["adamw + coupled weight_decay", { optimizer: { kind: "adamw", lr: 0.1, weightDecay: 0.1, eps: 1e-3 }, weightDecay: 0.05 }],
  ["sgd, clip active", { optimizer: { kind: "sgd", lr: 0.1 }, clip: 0.5 }],
  ["adam, clip active + weight_decay", { optimizer: { kind: "adam", lr: 0.1 }, clip: 0.3, weightDecay: 0.1 }],
  ["momentum, clip inactive", { optimizer: { kind: "momentum", lr: 0.05 }, clip: 1e6 }],
];

describe("optimizers against the plain implementation", () => {
  for (const [name, c] of cases) it(name, () => void compare(c));

  it("clipping changes the run only when the global norm exceeds c", () => {
    const free = irRun({ optimizer: { kind: "sgd", lr: 0.1 } });
    // The initial global norm, computed here: active clipping needs c below it.
    let sq = 0;
    for (const n of ["a", "b"]) init[n]!.forEach((x, i) => (sq += (coef[n]![i]! * (x - target[n]![i]!)) ** 2));
    const norm0 = Math.sqrt(sq);
    expect(norm0).toBeGreaterThan(0.5);
    const loose = irRun({ optimizer: { kind: "sgd", lr: 0.1 }, clip: norm0 * 1.01 });
    expect(maxRelError(loose.values.a!, free.values.a!)).toBeLessThan(1e-15);
    const tight = irRun({ optimizer: { kind: "sgd", lr: 0.1 }, clip: 0.5 });
    expect(maxRelError(tight.values.a!, free.values.a!)).toBeGreaterThan(1e-3);
    // With sgd, the first clipped update moves θ by exactly lr·c in norm (over both params together).
    const one = runSteps(quadratic({ optimizer: { kind: "sgd", lr: 0.1 }, clip: 0.5 }).graph, feedsOf(), feedsOf(init, ""), 1);
    let moved = 0;
    for (const n of ["a", "b"]) one.values[n]!.forEach((x, i) => (moved += (x - init[n]![i]!) ** 2));
    expect(Math.abs(Math.sqrt(moved) - 0.05)).toBeLessThan(1e-14);
  });

  it("adamw's decoupled decay differs from adam with coupled decay", () => {
    const w = irRun({ optimizer: { kind: "adamw", lr: 0.1, weightDecay: 0.3 } });
    const a = irRun({ optimizer: { kind: "adam", lr: 0.1 }, weightDecay: 0.3 });
    expect(maxRelError(w.values.a!, a.values.a!)).toBeGreaterThan(1e-3);
  });

  it("keeps state named per parameter, as param leaves, one output each", () => {
    const { graph } = quadratic({ optimizer: { kind: "adam", lr: 0.1 } });
    expect(graph.outputs.map((o) => o.name)).toEqual(["loss", "new:a", "new:a.adam.m", "new:a.adam.v", "new:b", "new:b.adam.m", "new:b.adam.v"]);
    const leaves = (g: typeof graph): string[] =>
      graphNodes(g).filter((n) => n.op === "param").map((n) => (n.op === "param" ? n.attrs.name : "")).sort();
    expect(leaves(graph)).toEqual(["a", "a.adam.m", "a.adam.v", "b", "b.adam.m", "b.adam.v"]);
    const m = quadratic({ optimizer: { kind: "momentum", lr: 0.1 } }).graph;
    expect(m.outputs.map((o) => o.name)).toEqual(["loss", "new:a", "new:a.momentum.v", "new:b", "new:b.momentum.v"]);
    const s = quadratic({ optimizer: { kind: "sgd", lr: 0.1 } }).graph;
    expect(s.outputs.map((o) => o.name)).toEqual(["loss", "new:a", "new:b"]);
  });

  it("rejects hyperparameters outside the spec's ranges", () => {
    expect(() => quadratic({ optimizer: { kind: "sgd", lr: 0 } })).toThrow(/lr must be > 0/);
    expect(() => quadratic({ optimizer: { kind: "momentum", lr: 0.1, beta: 1 } })).toThrow(/beta must be in/);
    expect(() => quadratic({ optimizer: { kind: "adam", lr: 0.1, eps: 0 } })).toThrow(/eps must be > 0/);
    expect(() => quadratic({ optimizer: { kind: "adamw", lr: 0.1, weightDecay: -1 } })).toThrow(/weight_decay/);
    expect(() => quadratic({ optimizer: { kind: "sgd", lr: 0.1 }, clip: 0 })).toThrow(/clip must be > 0/);
  });
});

function feedsOf(p?: Params, prefix?: string): Record<string, { shape: number[]; data: number[] }> {
  const f = (q: Params, pre: string) => Object.fromEntries(Object.entries(q).map(([n, d]) => [`${pre}${n}`, { shape: shapes[n]!, data: d }]));
  return p === undefined ? { ...f(coef, "A_"), ...f(target, "C_") } : f(p, prefix ?? "");
}
