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
import { kernelWgsl } from "../../runtime/backends/webgpu/index.js";
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { numbers } from "../cpu/compare.js";
import { buildAttention, type AttentionCase, type Feeds } from "./attention-case.js";
import { expectAgree, skipReason } from "./gpu.js";

const cases: AttentionCase[] = [
  { batch: [2], rows: 5, keys: 7, dk: 4, dv: 3, causal: true },
  { batch: [2], rows: 5, keys: 7, dk: 4, dv: 3, causal: false },
  { batch: [1, 2], rows: 70, keys: 67, dk: 8, dv: 5, causal: false },
  { batch: [3], rows: 67, keys: 67, dk: 6, dv: 6, causal: true },
  { batch: [1], rows: 2, keys: 3, dk: 2, dv: 2, causal: false },
  { batch: [2], rows: 9, keys: 70, dk: 4, dv: 3, causal: true, dropout: true },
];

/** The attention of `c` with the gradients of Σ o · do with respect to Q, K and V. */
function attentionGrads(c: AttentionCase): { b: IRBuilder; outputs: Record<string, Node>; feeds: Feeds } {
  const { b, q, k, v, o, feeds } = buildAttention(c);
  const loss = b.sum(b.mul(o, b.input("do", o.shape)));
  const [dq, dk, dv] = grad(b, loss, [q, k, v]);
  feeds["do"] = { shape: [...o.shape], data: numbers(sizeOf(o.shape), 4) };
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
