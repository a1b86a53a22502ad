/**
 * Attention on the CPU (`emit/attention-kernel.ts`): the CPU plans
 * softmax(f(Q·Kᵀ))·V as one `attention` kernel (`CPU_PLAN`) and the
 * generated code runs it block by block of query rows, its scores in a strip
 * of scratch. Properties over random shapes (batch and head axes, query rows
 * and keys from 1 past a 64-row block, head widths, heads split from a
 * [batch, rows, heads·d] tensor or not, a causal mask, dropout after the
 * softmax): the output and the gradients of Q, K and V agree with the
 * float64 reference; they are bit for bit those of the unfused kernels; and
 * they are the same bits on 1 and 2 threads.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { softmax } from "../../compiler/lower/ops.js";
import type { TensorFeeds, TensorValue } from "../../runtime/backends/backend.js";
import { compileCpu, CPU_PLAN } from "../../runtime/backends/cpu/index.js";
// Worker threads, as users get them (runtime/backends/cpu/node-threads.ts).
import "../../runtime/node.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { instantiateBatchGraph } from "../../runtime/ir/batch-graph.js";
import { examplePrograms } from "../gradients/helpers.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Graph, Node } from "../../runtime/ir/node.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import type { KernelGraph } from "../../runtime/kernel/graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { expectOutputsAgree, numbers } from "./compare.js";

interface Case {
  readonly batch: number;
  readonly heads: number;
  readonly rows: number;
  readonly keys: number;
  readonly dk: number;
  readonly dv: number;
  readonly causal: boolean;
  /** The causal mask fed as an input (a value of its own, as a model's layers share one), else computed from iotas where it is used. */
  readonly maskInput: boolean;
  readonly dropout: boolean;
  /** Q, K and V as [batch, rows, heads · d], split into heads by views (as a transformer block does); else [batch, heads, rows, d]. */
  readonly split: boolean;
  /** Also the gradients of Q, K and V of Σ O ⊙ G. */
  readonly backward: boolean;
}

/** softmax(mask(Q·Kᵀ / √dk))·V with dropout after the softmax, and its feeds. */
function attention(c: Case): { graph: Graph; feeds: TensorFeeds } {
  const b = new IRBuilder();
  const feeds: Record<string, { shape: number[]; data: number[] }> = {};
  const operand = (name: string, t: number, d: number, seed: number): { leaf: Node; heads: Node } => {
    const shape = c.split ? [c.batch, t, c.heads * d] : [c.batch, c.heads, t, d];
    const leaf = b.input(name, shape);
    feeds[name] = { shape, data: numbers(sizeOf(shape), seed) };
    return { leaf, heads: c.split ? b.permute(b.reshape(leaf, [c.batch, t, c.heads, d]), [0, 2, 1, 3]) : leaf };
  };
  const q = operand("q", c.rows, c.dk, 1);
  const k = operand("k", c.keys, c.dk, 2);
  const v = operand("v", c.keys, c.dv, 3);
  let x: Node = b.mul(b.matmul(q.heads, b.transpose(k.heads)), 1 / Math.sqrt(c.dk));
  if (c.causal) {
    let future: Node;
    if (c.maskInput) {
      future = b.input("mask", [c.rows, c.keys], "i32");
      feeds["mask"] = { shape: [c.rows, c.keys], data: Array.from({ length: c.rows * c.keys }, (_, i) => (Math.floor(i / c.keys) < i % c.keys ? 1 : 0)) };
    } else future = b.cmplt(b.iota([c.rows, c.keys], 0), b.iota([c.rows, c.keys], 1));
    x = b.where(b.reshape(future, [1, 1, c.rows, c.keys]), -Infinity, x);
  }
  let p = softmax(b, x, 3);
  if (c.dropout) {
    const seed = b.input("seed", [], "i32");
    const step = b.input("step", [], "i32");
    p = b.where(b.cmplt(b.uniform([c.batch, c.heads, c.rows, c.keys], { seed, step, stream: b.newStream() }), 0.1), 0, b.mul(p, 1 / 0.9));
    feeds["seed"] = { shape: [], data: [7] };
    feeds["step"] = { shape: [], data: [3] };
  }
  const o = b.matmul(p, v.heads);
  const outputs: Record<string, Node> = { o };
  if (c.backward) {
    const g = b.input("g", o.shape);
    feeds["g"] = { shape: [...o.shape], data: numbers(sizeOf(o.shape), 4) };
    const [dq, dk, dv] = grad(b, b.sum(b.mul(o, g)), [q.leaf, k.leaf, v.leaf]);
    Object.assign(outputs, { dq: dq!, dk: dk!, dv: dv! });
  }
  return { graph: b.graph(outputs), feeds };
}

/** Each output's numbers, copied (outputs are views of buffers the next run reuses). */
function copied(out: Record<string, TensorValue>): Record<string, TensorValue> {
  return Object.fromEntries(Object.entries(out).map(([name, t]) => [name, { ...t, data: t.data.slice() }]));
}

function bits(t: TensorValue): number[] {
  return Array.from(new Int32Array(Float32Array.from(t.data).buffer));
}

/** The CPU's plan without attention kernels: the three kernels of each attention apart, everything else as the CPU plans it. */
const UNJOINED = { ...CPU_PLAN, attention: false };

/** Calls split among threads in the last check's 2-thread run. */
let splits = 0;

/**
 * Runs `c` and checks every property; returns the attention kernel's account
 * on the CPU, or "" where the planner did not join one. It does not, for
 * instance, where the softmax is over one key (a map, no reduction), or where
 * the backward pass reads a causal mask that the kernel would compute in the
 * [rows, keys] shape of its iotas (an extra output neither of the score space
 * nor of its rows: `fuse-attention.ts`); a model's mask is a value of its
 * own, shared by its layers (`maskInput`), and joins.
 */
function check(c: Case): string {
  const { graph, feeds } = attention(c);
  const kg: KernelGraph = planKernelGraph(graph, CPU_PLAN);
  const joined = kg.kernels.filter((k) => k.kind === "attention");
  expect(joined.length).toBeLessThanOrEqual(1);
  const one = compileCpu(kg, { threads: 1 });
  const account = joined.length === 0 ? "" : one.account.kernels[joined[0]!.id]!;
  // Rendered whole, block by block (not spread into one kernel per op).
  if (joined.length > 0) expect(account).toMatch(/^k\d+_\d+: attention: /);
  const got = copied(one.run(feeds));
  const names = Object.keys(graph.outputs.map((o) => o.name).reduce((m, n) => ({ ...m, [n]: 1 }), {}));
  const ref = compileReference(planKernelGraph(graph)).run(feeds);
  expectOutputsAgree("cpu attention", names, got, ref, 1e-5);
  // The very bits of the three kernels unfused.
  const plain = copied(compileCpu(planKernelGraph(graph, UNJOINED), { threads: 1 }).run(feeds));
  for (const n of names) expect(bits(got[n]!), `${n}: fused vs unfused`).toEqual(bits(plain[n]!));
  // And of two threads.
  const two = compileCpu(kg, { threads: 2 });
  expect(two.threads).toBe(2);
  const twoOut = copied(two.run(feeds));
  splits = two.splitCalls ?? 0;
  for (const n of names) expect(bits(twoOut[n]!), `${n}: 1 vs 2 threads`).toEqual(bits(got[n]!));
  return account;
}

const shapes = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  heads: fc.integer({ min: 1, max: 3 }),
  rows: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 60, max: 70 })),
  keys: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 60, max: 70 })),
  dk: fc.integer({ min: 1, max: 9 }),
  dv: fc.integer({ min: 1, max: 9 }),
  causal: fc.boolean(),
  maskInput: fc.boolean(),
  dropout: fc.boolean(),
  split: fc.boolean(),
});

describe("cpu attention", () => {
  it("forward: agrees with the reference, bit for bit the unfused kernels, the same on 1 and 2 threads", () => {
    let joined = 0;
    fc.assert(
      fc.property(shapes, (s) => {
        if (check({ ...s, backward: false }) !== "") joined++;
      }),
      { numRuns: 30, seed: 12 },
    );
    // Most draws join (all but a softmax over one key, say): the property is about the attention kernel.
    expect(joined).toBeGreaterThanOrEqual(20);
  });

  it("gradients of Q, K and V: agree with the reference, bit for bit the unfused kernels, the same on 1 and 2 threads", () => {
    let joined = 0;
    fc.assert(
      fc.property(shapes, (s) => {
        if (check({ ...s, backward: true }) !== "") joined++;
      }),
      { numRuns: 20, seed: 13 },
    );
    expect(joined).toBeGreaterThanOrEqual(10);
  });

  const edges: [string, Omit<Case, "backward">][] = [
    ["one query row", { batch: 2, heads: 3, rows: 1, keys: 5, dk: 4, dv: 3, causal: false, maskInput: false, dropout: true, split: true }],
    ["two keys", { batch: 1, heads: 2, rows: 7, keys: 2, dk: 3, dv: 2, causal: true, maskInput: true, dropout: false, split: false }],
    ["three blocks of query rows, the last of 2", { batch: 1, heads: 2, rows: 130, keys: 9, dk: 5, dv: 6, causal: false, maskInput: false, dropout: true, split: false }],
    ["65 rows and keys, causal, dropout", { batch: 2, heads: 1, rows: 65, keys: 65, dk: 8, dv: 5, causal: true, maskInput: true, dropout: true, split: true }],
    ["heads wider than a packed strip (dk 33, dv 17)", { batch: 1, heads: 2, rows: 9, keys: 11, dk: 33, dv: 17, causal: false, maskInput: false, dropout: false, split: true }],
  ];
  for (const [name, c] of edges) {
    it(`joins and runs block by block: ${name}, forward and gradients`, () => {
      expect(check({ ...c, backward: false })).not.toBe("");
      expect(check({ ...c, backward: true })).not.toBe("");
    });
  }

  it("splits work items of many heads among two threads (a tiny-gpt layer's shape)", () => {
    const account = check({ batch: 8, heads: 4, rows: 63, keys: 63, dk: 32, dv: 32, causal: true, maskInput: true, dropout: true, split: true, backward: true });
    expect(account).toContain("32 × 1 blocks of ≤ 64 query rows × 63 keys");
    expect(splits).toBeGreaterThan(0);
  });

  it("runs on the JavaScript fallback too (no WebAssembly SIMD: the kernel's ops one by one)", () => {
    const { graph, feeds } = attention({ batch: 2, heads: 3, rows: 9, keys: 11, dk: 4, dv: 5, causal: true, maskInput: false, dropout: true, split: true, backward: false });
    const kg = planKernelGraph(graph, CPU_PLAN);
    expect(kg.kernels.some((k) => k.kind === "attention")).toBe(true);
    const exe = compileCpu(kg, { simd: false });
    expect(exe.kernels).toBe("javascript");
    expectOutputsAgree("cpu javascript", ["o"], exe.run(feeds), compileReference(planKernelGraph(graph)).run(feeds), 1e-5);
  });

  it("keeps the probabilities the backward pass reads as extra outputs of the kernel, not the scores", () => {
    const { graph } = attention({ batch: 2, heads: 2, rows: 5, keys: 7, dk: 3, dv: 4, causal: true, maskInput: true, dropout: true, split: true, backward: true });
    const kg = planKernelGraph(graph, CPU_PLAN);
    const att = kg.kernels.find((k) => k.kind === "attention")!;
    const full = [2, 2, 5, 7];
    // Every value it writes is the output or a value of the score space or its rows that a later kernel reads.
    for (const e of att.extraOutputs ?? []) {
      const v = kg.values[e.value]!;
      expect(v.shape.length === 4 && v.shape.every((d, i) => d === full[i] || (i === 3 && d === 1))).toBe(true);
      expect(v.lastUse).toBeGreaterThan(att.id);
    }
    // No kernel writes the score matrix: nothing before the attention kernel computes a matmul of the score space.
    for (const k of kg.kernels) if (k.id !== att.id && k.ops.some((o) => o.op === "matmul")) expect(k.id).toBeGreaterThan(att.id);
  });

  // Agreement of whole example steps with the reference, as the CPU plans them: test/gradients/cpu-train-step.test.ts.
  for (const [file, count] of [["tiny-gpt.repr", 4], ["masked-autoencoder.repr", 5]] as const) {
    it(`${file}: every attention kernel of the training step runs block by block, with the unfused step's very bits on 1 and 2 threads`, () => {
      const ex = examplePrograms().find((p) => p.file === file)!;
      const step = buildModelPlan(ex.program, ex.program.models[0]!.name, {}).training[0]!;
      const graph = instantiateBatchGraph(step.graph, 3);
      const kg = planKernelGraph(graph, CPU_PLAN);
      const joined = kg.kernels.filter((k) => k.kind === "attention");
      expect(joined.length).toBeGreaterThanOrEqual(count);
      const feeds = Object.fromEntries(
        [...kg.inputs, ...kg.params].map((n, i) => [n.name, { shape: n.shape, data: n.dtype === "f32" ? numbers(sizeOf(n.shape), 50 + i, -0.5, 0.5) : new Int32Array(sizeOf(n.shape)).map((_, j) => (j * 7 + i) % 5) }]),
      );
      const one = compileCpu(kg, { threads: 1 });
      for (const k of joined) expect(one.account.kernels[k.id]).toMatch(/^k\d+_\d+: attention: /);
      const got = copied(one.run(feeds, feeds));
      const plain = copied(compileCpu(planKernelGraph(graph, UNJOINED), { threads: 1 }).run(feeds, feeds));
      const two = copied(compileCpu(kg, { threads: 2 }).run(feeds, feeds));
      for (const n of Object.keys(got)) {
        expect(bits(got[n]!), `${n}: fused vs unfused`).toEqual(bits(plain[n]!));
        expect(bits(two[n]!), `${n}: 1 vs 2 threads`).toEqual(bits(got[n]!));
      }
    });
  }
});
