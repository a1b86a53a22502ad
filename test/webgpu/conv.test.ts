/**
 * Convolutions as implicit GEMMs on WebGPU: the planner's `conv` kernel (a
 * matmul reading the windows of an image: pad, strided slices, concat) runs
 * as one matmul dispatch whose tiles load each window element from the image
 * itself, with no im2col copy in memory, and agrees with the reference:
 * stride 1 and 2, `same` and `valid` padding, sizes off the tile, a batch.
 * Its gradients agree too, the input's (a sum of padded window gradients)
 * computed in shaders that read each padded element where they need it.
 */
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { conv2d } from "../../compiler/lower/layers-conv.js";
import { kernelWgsl } from "../../runtime/backends/webgpu/index.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { numbers } from "../cpu/compare.js";
import { expectAgree, skipReason } from "./gpu.js";

const cases: [string, number[], number[], number, string][] = [
  ["3×3, same, stride 1", [2, 3, 7, 6], [4, 3, 3, 3], 1, "same"],
  ["3×3, same, stride 2", [1, 2, 9, 9], [5, 2, 3, 3], 2, "same"],
  ["3×3, valid, stride 1, one channel", [3, 1, 12, 11], [6, 1, 3, 3], 1, "valid"],
  ["3×3, same, 70 × 66 pixels (tiles off the edge)", [1, 2, 70, 66], [3, 2, 3, 3], 1, "same"],
  ["5×5, same, stride 2 (a concat of 25 windows)", [2, 3, 11, 9], [4, 3, 5, 5], 2, "same"],
];

describe("conv kernels", () => {
  it("the planner reads windows in place: one conv kernel, no pad or concat of its own", () => {
    const b = new IRBuilder();
    const y = conv2d(b, b.input("x", [2, 3, 7, 6]), b.input("w", [4, 3, 3, 3]), 1, "same");
    const kg = planKernelGraph(b.graph({ y }));
    expect(kg.kernels.filter((k) => k.kind === "conv").length).toBe(1);
    expect(kg.kernels.filter((k) => k.ops.length === 1 && (k.ops[0]!.op === "pad" || k.ops[0]!.op === "concat"))).toEqual([]);
  });
});

describe.skipIf(skipReason !== null)("webgpu implicit-GEMM convolution", () => {
  for (const [name, xShape, wShape, stride, padding] of cases) {
    it(name, async () => {
      const b = new IRBuilder();
      const y = conv2d(b, b.input("x", xShape), b.input("w", wShape), stride, padding);
      const graph = b.graph({ y: b.relu(y) });
      const kg = await expectAgree(graph, { x: { shape: xShape, data: numbers(sizeOf(xShape), 1) }, w: { shape: wShape, data: numbers(sizeOf(wShape), 2) } }, 1e-5);
      const shaders = kernelWgsl(kg).map((s) => s.wgsl.split("\n")[0]!);
      // The windows are read by the matmul's loads: no dispatch pads, slices or joins the image.
      expect(shaders.filter((c) => /\b(pad|concat|slice)\b/.test(c) && !c.includes("matmul"))).toEqual([]);
      expect(shaders.filter((c) => c.includes("matmul")).length).toBe(1);
    });
  }

  it("the gradients of a convolution, with respect to its image and its weight", async () => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 3, 9, 8]);
    const w = b.input("w", [4, 3, 3, 3]);
    const y = conv2d(b, x, w, 1, "same");
    const loss = b.sum(b.mul(y, b.input("dy", y.shape)));
    const [dx, dw] = grad(b, loss, [x, w]);
    const feeds = Object.fromEntries((["x", "w", "dy"] as const).map((name, i) => {
      const shape = name === "x" ? x.shape : name === "w" ? w.shape : y.shape;
      return [name, { shape: [...shape], data: numbers(sizeOf(shape), i + 4) }];
    }));
    const kg = await expectAgree(b.graph({ dx: dx!, dw: dw! }), feeds, 1e-5);
    // No dispatch of its own pads a window gradient.
    expect(kernelWgsl(kg).map((s) => s.wgsl.split("\n")[0]!).filter((c) => /^\/\/ pad\b/.test(c))).toEqual([]);
  });
});
