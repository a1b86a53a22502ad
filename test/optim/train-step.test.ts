/**
 * Whole training steps on a tiny two-layer net (parts `f` = W1, b1 and
 * `g` = W2): per-part learning rates and layer decay against a plain float64
 * implementation with hand-written backprop, frozen parts pruned from the
 * graph (no gradient nodes, no update, no state), and adam driving a small
 * least-squares loss down.
 */
import { describe, expect, it } from "vitest";
import { buildTrainStep, rateMultiplier, type TrainStepOptions } from "../../compiler/optim/train-step.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { graphNodes, type Graph } from "../../runtime/ir/node.js";
import { verifyGraph } from "../../runtime/ir/verify.js";
import { maxRelError, PlainTrainer, rng, runSteps, type Params, type PlainSettings } from "./plain.js";

const [N, D, H, K] = [4, 3, 5, 2];
const shapes: Record<string, number[]> = { W1: [D, H], b1: [H], W2: [H, K] };
const next = rng(11);
const draw = (n: number, s = 1): number[] => Array.from({ length: n }, () => s * (2 * next() - 1));
const X = draw(N * D, 1.5);
const Y = draw(N * K);
const init: Params = { W1: draw(D * H), b1: draw(H, 0.3), W2: draw(H * K) };
const STEPS = 6;

type Settings = Omit<TrainStepOptions, "loss" | "params" | "totalSteps">;

/** The net as IR and its training step. */
function net(s: Settings): ReturnType<typeof buildTrainStep> {
  const b = new IRBuilder();
  const x = b.input("x", [N, D]);
  const y = b.input("y", [N, K]);
  const [W1, b1, W2] = [b.param("W1", shapes.W1!), b.param("b1", shapes.b1!), b.param("W2", shapes.W2!)];
  const h = b.tanh(b.add(b.matmul(x, W1), b1));
  const d = b.sub(b.matmul(h, W2), y);
  const loss = b.mean(b.mul(d, d));
  const params = [
    { name: "W1", node: W1, part: "f", decay: true, layer: 1 },
    { name: "b1", node: b1, part: "f", decay: false, layer: 1 },
    { name: "W2", node: W2, part: "g", decay: true, layer: 2 },
  ];
  const step = buildTrainStep(b, { loss, params, totalSteps: STEPS, ...s });
  expect(verifyGraph(step.graph)).toEqual([]);
  return step;
}

/** Loss and gradients of the net, by hand (row-major matrices). */
function plainGrads(p: Params): { loss: number; grads: Params } {
  const [W1, b1, W2] = [p.W1!, p.b1!, p.W2!];
  const h = new Array<number>(N * H).fill(0);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < H; j++) {
      let z = b1[j]!;
      for (let i = 0; i < D; i++) z += X[n * D + i]! * W1[i * H + j]!;
      h[n * H + j] = Math.tanh(z);
    }
  }
  const dy = new Array<number>(N * K).fill(0);
  let loss = 0;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      let out = 0;
      for (let j = 0; j < H; j++) out += h[n * H + j]! * W2[j * K + k]!;
      const r = out - Y[n * K + k]!;
      loss += (r * r) / (N * K);
      dy[n * K + k] = (2 * r) / (N * K);
    }
  }
  const gW2 = new Array<number>(H * K).fill(0);
  const gW1 = new Array<number>(D * H).fill(0);
  const gb1 = new Array<number>(H).fill(0);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < H; j++) {
      let dh = 0;
      for (let k = 0; k < K; k++) {
        gW2[j * K + k] = gW2[j * K + k]! + h[n * H + j]! * dy[n * K + k]!;
        dh += dy[n * K + k]! * W2[j * K + k]!;
      }
      const dz = dh * (1 - h[n * H + j]! ** 2);
      gb1[j] = gb1[j]! + dz;
      for (let i = 0; i < D; i++) gW1[i * H + j] = gW1[i * H + j]! + X[n * D + i]! * dz;
    }
  }
  return { loss, grads: { W1: gW1, b1: gb1, W2: gW2 } };
}

/** STEPS plain updates of the params in `trained` (the others stay). */
function plainRun(settings: PlainSettings, trained: readonly string[]): { losses: number[]; params: Params } {
  const trainer = new PlainTrainer(settings);
  const params: Params = Object.fromEntries(Object.entries(init).map(([k, v]) => [k, [...v]]));
  const losses: number[] = [];
  for (let t = 0; t < STEPS; t++) {
    const { loss, grads } = plainGrads(params);
    losses.push(loss);
    trainer.update(params, Object.fromEntries(trained.map((n) => [n, grads[n]!])), t);
  }
  return { losses, params };
}

function irRun(graph: Graph, steps = STEPS): ReturnType<typeof runSteps> {
  const data = { x: { shape: [N, D], data: X }, y: { shape: [N, K], data: Y } };
  const params = Object.fromEntries(Object.entries(init).map(([n, d]) => [n, { shape: shapes[n]!, data: d }]));
  return runSteps(graph, data, params, steps);
}

function expectAgree(ir: ReturnType<typeof runSteps>, plain: ReturnType<typeof plainRun>): void {
  expect(maxRelError(ir.losses, plain.losses)).toBeLessThan(1e-12);
  for (const n of Object.keys(init)) expect(maxRelError(ir.values[n]!, plain.params[n]!), n).toBeLessThan(1e-12);
}

const nodesOfShape = (g: Graph, shape: readonly number[]): string[] =>
  graphNodes(g)
    .filter((n) => n.shape.join() === shape.join())
    .map((n) => (n.op === "param" ? `param ${n.attrs.name}` : n.op));

describe("buildTrainStep on a two-layer net", () => {
  it("matches hand-written backprop with adam, clipping and coupled decay", () => {
    const s: Settings = { optimizer: { kind: "adam", lr: 0.05 }, clip: 0.5, weightDecay: 0.01, schedule: { kind: "cosine", warmup: 2 } };
    const plain = plainRun({ ...s, totalSteps: STEPS, decays: { b1: false } } as PlainSettings, ["W1", "b1", "W2"]);
    expectAgree(irRun(net(s).graph), plain);
  });

  it("applies lr_scale per part and layer_decay^(L − i) per layer", () => {
    const s: Settings = { optimizer: { kind: "adamw", lr: 0.05, weightDecay: 0.1 }, lrScale: { f: 0.1 }, layerDecay: 0.5, layers: 2 };
    // f is layer 1 of L = 2: 0.1 · 0.5¹; g is layer 2: 1 · 0.5⁰.
    const multiplier = { W1: 0.05, b1: 0.05, W2: 1 };
    const plain = plainRun({ ...s, totalSteps: STEPS, decays: { b1: false }, multiplier } as PlainSettings, ["W1", "b1", "W2"]);
    expectAgree(irRun(net(s).graph), plain);
    // And the multipliers are not a no-op: without them the run differs.
    const flat = plainRun({ ...s, totalSteps: STEPS, decays: { b1: false } } as PlainSettings, ["W1", "b1", "W2"]);
    expect(maxRelError(flat.params.W1!, plain.params.W1!)).toBeGreaterThan(1e-3);
  });

  it("computes the multipliers of the spec, mask tokens outside any part included", () => {
    const o = { lrScale: { f: 0.1 }, layerDecay: 0.75, layers: 4 };
    const p = (part: string | null, layer?: number) => ({ name: "p", node: undefined as never, part, decay: false, ...(layer === undefined ? {} : { layer }) });
    expect(rateMultiplier(p("f", 1), o)).toBeCloseTo(0.1 * 0.75 ** 3, 15);
    expect(rateMultiplier(p("g", 4), o)).toBe(1);
    expect(rateMultiplier(p("g"), o)).toBe(1);
    expect(rateMultiplier(p(null), o)).toBeCloseTo(0.75 ** 4, 15);
    expect(rateMultiplier(p("f", 2), { lrScale: { f: 0.1 } })).toBe(0.1);
    expect(() => rateMultiplier(p("f", 5), o)).toThrow(/not in 0..4/);
  });

  it("freezing f: no gradient, update or state for W1 and b1; g still trains", () => {
    const step = net({ optimizer: { kind: "adam", lr: 0.05 }, frozen: new Set(["f"]), clip: 0.5 });
    const g = step.graph;
    expect(g.outputs.map((o) => o.name)).toEqual(["loss", "new:W2", "new:W2.adam.m", "new:W2.adam.v"]);
    expect(step.frozen.map((p) => p.name)).toEqual(["W1", "b1"]);
    expect([...step.grads.keys()]).toEqual(["W2"]);
    // Nothing of W1's or b1's shape but the leaves themselves: no gradient, no moment.
    expect(nodesOfShape(g, [D, H])).toEqual(["param W1"]);
    expect(nodesOfShape(g, [H])).toEqual(["param b1"]);
    // Two forward matmuls and one for ∂W2; none for ∂h or ∂W1.
    expect(graphNodes(g).filter((n) => n.op === "matmul")).toHaveLength(3);
    const plain = plainRun({ optimizer: { kind: "adam", lr: 0.05 }, clip: 0.5, totalSteps: STEPS }, ["W2"]);
    const ir = irRun(g);
    expectAgree(ir, plain);
    expect(ir.values.W1).toEqual(init.W1);
  });

  it("freezing g: gradients flow through W2 to f, but W2 gets no gradient or update", () => {
    const step = net({ optimizer: { kind: "momentum", lr: 0.1 }, frozen: new Set(["g"]), weightDecay: 0.01 });
    const g = step.graph;
    expect(g.outputs.map((o) => o.name)).toEqual(["loss", "new:W1", "new:W1.momentum.v", "new:b1", "new:b1.momentum.v"]);
    expect(nodesOfShape(g, [H, K])).toEqual(["param W2"]);
    // Two forward matmuls, ∂h and ∂W1; none for ∂W2.
    expect(graphNodes(g).filter((n) => n.op === "matmul")).toHaveLength(4);
    const plain = plainRun({ optimizer: { kind: "momentum", lr: 0.1 }, weightDecay: 0.01, decays: { b1: false }, totalSteps: STEPS }, ["W1", "b1"]);
    expectAgree(irRun(g), plain);
  });

  it("with every part frozen, the step only computes the loss", () => {
    const step = net({ optimizer: { kind: "sgd", lr: 0.1 }, frozen: new Set(["f", "g"]) });
    expect(step.graph.outputs.map((o) => o.name)).toEqual(["loss"]);
    expect(graphNodes(step.graph).filter((n) => n.op === "matmul")).toHaveLength(2);
  });

  it("rejects bad settings and params", () => {
    expect(() => net({ optimizer: { kind: "sgd", lr: 0.1 }, layerDecay: 0.5 })).toThrow(/layers/);
    expect(() => net({ optimizer: { kind: "sgd", lr: 0.1 }, layerDecay: 0 })).toThrow(/layer_decay must be in/);
    expect(() => net({ optimizer: { kind: "sgd", lr: 0.1 }, lrScale: { f: 0 } })).toThrow(/lr_scale/);
    expect(() => net({ optimizer: { kind: "sgd", lr: 0.1 }, weightDecay: -1 })).toThrow(/weight_decay/);
    const b = new IRBuilder();
    const x = b.input("x", [2]);
    expect(() => buildTrainStep(b, { loss: b.sum(x), params: [{ name: "x", node: x, part: "f", decay: true }], optimizer: { kind: "sgd", lr: 1 }, totalSteps: 1 })).toThrow(
      /not a param/,
    );
  });
});

describe("convergence", () => {
  it("adam drives a least-squares loss down by more than 100x", () => {
    const [M, P] = [16, 4];
    const r = rng(5);
    const A = Array.from({ length: M * P }, () => 2 * r() - 1);
    const w = [0.5, -1.5, 2, 0.25];
    const t = Array.from({ length: M }, (_, i) => w.reduce((s, wj, j) => s + A[i * P + j]! * wj, 0));
    const b = new IRBuilder();
    const d = b.sub(b.matmul(b.input("A", [M, P]), b.param("w", [P, 1])), b.input("t", [M, 1]));
    const loss = b.mean(b.mul(d, d));
    const step = buildTrainStep(b, { loss, params: [{ name: "w", node: b.leaf("w")!, part: "f", decay: false }], optimizer: { kind: "adam", lr: 0.05 }, totalSteps: 300 });
    const out = runSteps(step.graph, { A: { shape: [M, P], data: A }, t: { shape: [M, 1], data: t } }, { w: { shape: [P, 1], data: [0, 0, 0, 0] } }, 300);
    const [first, last] = [out.losses[0]!, out.losses[out.losses.length - 1]!];
    expect(first / last).toBeGreaterThan(100);
    expect(maxRelError(out.values.w!, w)).toBeLessThan(0.05);
  });
});
