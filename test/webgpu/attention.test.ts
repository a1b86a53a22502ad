/**
 * Attention as one kernel: the planner joins softmax(f(Q·Kᵀ))·V into an
 * `attention` kernel only when asked (`planKernelGraph(…, { attention: true
 * })`, as the WebGPU home plans), and WebGPU runs it as one flash-attention
 * dispatch (`wgsl-attention.ts`) that agrees with the reference backend: at
 * edge sizes (one key, rows and keys past a 64-row workgroup and a key
 * block), with a causal mask and a scale, broadcast heads, dropout after the
 * softmax, and the probabilities kept as an extra output for a backward pass.
 */
import { describe, expect, it } from "vitest";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import { kernelWgsl } from "../../runtime/backends/webgpu/index.js";
import type { Graph } from "../../runtime/ir/node.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { expectOutputsAgree } from "../cpu/compare.js";
import { buildAttention, type AttentionCase, type Feeds } from "./attention-case.js";
import { runGpu, skipReason } from "./gpu.js";

/** The attention of `c` and its feeds; with dropout, the probabilities before it an output too. */
function attention(c: AttentionCase): { graph: Graph; feeds: Feeds } {
  const { b, scaled, o, feeds } = buildAttention(c);
  return { graph: b.graph(scaled === null ? { o } : { probs: scaled, o }), feeds };
}

describe("the attention kernel kind", () => {
  it("is joined only when asked, from the three kernels of softmax(Q·Kᵀ)·V", () => {
    const { graph } = attention({ batch: [2], rows: 5, keys: 7, dk: 4, dv: 3, causal: true });
    const kinds = (kg: ReturnType<typeof planKernelGraph>): string[] => kg.kernels.map((k) => k.kind ?? "single");
    expect(kinds(planKernelGraph(graph))).not.toContain("attention");
    const joined = kinds(planKernelGraph(graph, { attention: true }));
    expect(joined.filter((k) => k === "attention").length).toBe(1);
    expect(joined).not.toContain("reduce");
  });

  it("keeps a value the rest of the graph reads as an extra output", () => {
    const { graph } = attention({ batch: [1], rows: 4, keys: 4, dk: 2, dv: 2, dropout: true });
    const kg = planKernelGraph(graph, { attention: true });
    const att = kg.kernels.find((k) => k.kind === "attention")!;
    expect(att).toBeDefined();
    expect(att.extraOutputs?.map((e) => e.value)).toEqual([kg.outputs.find((o) => o.name === "probs")!.value]);
  });
});

describe.skipIf(skipReason !== null)("webgpu attention", () => {
  const cases: [string, AttentionCase][] = [
    ["one row, two keys, 3 heads", { batch: [3], rows: 1, keys: 2, dk: 3, dv: 2 }],
    ["3 rows, 5 keys, 2 × 3 heads", { batch: [2, 3], rows: 3, keys: 5, dk: 4, dv: 6 }],
    ["causal, 65 rows (two workgroups), 65 keys", { batch: [2], rows: 65, keys: 65, dk: 8, dv: 5, causal: true }],
    ["keys past one block (dk = dv = 128: blocks of 16)", { batch: [1], rows: 7, keys: 33, dk: 128, dv: 128, causal: false }],
    ["V shared by the heads", { batch: [2, 2], rows: 9, keys: 63, dk: 5, dv: 7, sharedV: true }],
    ["dropout after the softmax, probabilities kept", { batch: [2], rows: 17, keys: 20, dk: 4, dv: 4, causal: true, dropout: true }],
    ["rows without keys (65 rows, 3 keys, causal: the first row sees one)", { batch: [3], rows: 65, keys: 3, dk: 2, dv: 3, causal: true }],
  ];
  for (const [name, c] of cases) {
    it(name, async () => {
      const { graph, feeds } = attention(c);
      const kg = planKernelGraph(graph, { attention: true });
      const shaders = kernelWgsl(kg).map((s) => s.wgsl);
      // One dispatch for the whole attention (others only make the mask): no score matrix between dispatches.
      expect(shaders.filter((w) => w.startsWith("// attention (flash")).length).toBe(1);
      expect(shaders.filter((w) => !w.startsWith("// attention") && /matmul|exp|max|sum/.test(w.split("\n")[0]!))).toEqual([]);
      const ref = compileReference(planKernelGraph(graph)).run(feeds);
      const got = await runGpu(kg, feeds);
      expectOutputsAgree("webgpu attention", Object.keys(ref), got, ref, 1e-5);
    });
  }
});
