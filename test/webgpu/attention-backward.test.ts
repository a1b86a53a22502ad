/**
 * The flash-style attention backward pass on WebGPU
 * (`wgsl-attention-backward.ts`): the gradients of softmax(mask(Q·Kᵀ·s))·V
 * with respect to Q, K and V run as two dispatches that recompute the
 * probabilities per tile from the row statistics, and agree with the
 * reference backend: with a causal mask and without, row and key counts off
 * the 64-lane tiles, two batch axes, heads of different widths, and dropout
 * on the probabilities.
 * No dispatch stores a matrix of the score space ([.., T, T′]).
 */
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { softmax } from "../../compiler/lower/ops.js";
import { kernelWgsl } from "../../runtime/backends/webgpu/index.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { numbers } from "../cpu/compare.js";
import { expectAgree, skipReason } from "./gpu.js";

interface Case {
  readonly batch: number[];
  readonly rows: number;
  readonly keys: number;
  readonly dk: number;
  readonly dv: number;
  readonly causal: boolean;
  /** Dropout on the probabilities (drawn again by the backward's dispatches from the same stream). */
  readonly dropout?: boolean;
}

const cases: Case[] = [
  { batch: [2], rows: 5, keys: 7, dk: 4, dv: 3, causal: true },
  { batch: [2], rows: 5, keys: 7, dk: 4, dv: 3, causal: false },
  { batch: [1, 2], rows: 70, keys: 67, dk: 8, dv: 5, causal: false },
  { batch: [3], rows: 67, keys: 67, dk: 6, dv: 6, causal: true },
  { batch: [1], rows: 2, keys: 3, dk: 2, dv: 2, causal: false },
  { batch: [2], rows: 9, keys: 70, dk: 4, dv: 3, causal: true, dropout: true },
];

function attentionGrads(c: Case): { b: IRBuilder; outputs: Record<string, Node>; feeds: Record<string, { shape: number[]; data: number[] }> } {
  const b = new IRBuilder();
  const qShape = [...c.batch, c.rows, c.dk];
  const kShape = [...c.batch, c.keys, c.dk];
  const vShape = [...c.batch, c.keys, c.dv];
  const q = b.input("q", qShape);
  const k = b.input("k", kShape);
  const v = b.input("v", vShape);
  let x: Node = b.mul(b.matmul(q, b.transpose(k)), 1 / Math.sqrt(c.dk));
  if (c.causal) {
    const future = b.cmplt(b.iota([c.rows, c.keys], 0), b.iota([c.rows, c.keys], 1));
    x = b.where(b.reshape(future, [...c.batch.map(() => 1), c.rows, c.keys]), -Infinity, x);
  }
  let p = softmax(b, x, c.batch.length + 1);
  const extra: Record<string, { shape: number[]; data: number[] }> = {};
  if (c.dropout) {
    const seed = b.input("seed", [], "i32");
    const step = b.input("step", [], "i32");
    p = b.where(b.cmplt(b.uniform([...c.batch, c.rows, c.keys], { seed, step, stream: b.newStream() }), 0.1), 0, b.mul(p, 1 / 0.9));
    extra["seed"] = { shape: [], data: [7] };
    extra["step"] = { shape: [], data: [3] };
  }
  const o = b.matmul(p, v);
  const loss = b.sum(b.mul(o, b.input("do", o.shape)));
  const [dq, dk, dv] = grad(b, loss, [q, k, v]);
  const feeds = {
    q: { shape: qShape, data: numbers(sizeOf(qShape), 1) },
    k: { shape: kShape, data: numbers(sizeOf(kShape), 2) },
    v: { shape: vShape, data: numbers(sizeOf(vShape), 3) },
    do: { shape: [...o.shape], data: numbers(sizeOf(o.shape), 4) },
    ...extra,
  };
  return { b, outputs: { o, dq: dq!, dk: dk!, dv: dv! }, feeds };
}

describe.skipIf(skipReason !== null)("webgpu flash attention backward", () => {
  for (const c of cases) {
    it(`${c.batch.join("×")} × ${c.rows} rows × ${c.keys} keys, dk ${c.dk}, dv ${c.dv}${c.causal ? ", causal" : ""}${c.dropout ? ", dropout" : ""}`, async () => {
      const { b, outputs, feeds } = attentionGrads(c);
      const kg = await expectAgree(b.graph(outputs), feeds, 1e-5, {}, { attention: true, attentionBindings: 12 });
      const heads = kernelWgsl(kg, { maxBindings: 12 }).map((s) => s.wgsl.split("\n")[0]!);
      expect(heads.filter((h) => h.startsWith("// attention backward (flash"))).toHaveLength(2);
      expect(heads.filter((h) => h.startsWith("// attention (flash"))).toHaveLength(1);
      // Nothing of the score space goes through memory.
      const scoreShape = `[${[...c.batch, c.rows, c.keys].join(", ")}]`;
      if (c.rows * c.keys > 1) expect(heads.filter((h) => h.endsWith(scoreShape))).toEqual([]);
    });
  }
});
