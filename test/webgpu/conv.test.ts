/**
 * Convolutions as implicit GEMMs on WebGPU: the planner's `conv` kernel (a
 * matmul reading the windows of an image: pad, strided slices, concat) runs
 * as one matmul dispatch whose tiles load each window element from the image
 * itself, with no im2col copy in memory, and agrees with the reference:
 * stride 1 and 2, `same` and `valid` padding, sizes off the tile, a batch.
 * Its gradients agree too, the input's (a sum of padded window gradients)
 * computed in shaders that read each padded element where they need it.
 * Any k×k: planned as the WebGPU home plans (`wideViews`), the k² windows
 * join the matmul and are read as index arithmetic over the one image
 * binding (no branch per window), so k = 5 and 7 stay within the binding
 * limit; a user model with a 5×5 convolution trains as on the CPU.
 */
import { describe, expect, it } from "vitest";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { Model } from "../../runtime/index.js";
import { programOf } from "../api/plans.js";
import { grad } from "../../compiler/autodiff/grad.js";
import { conv2d, convTranspose2d } from "../../compiler/lower/layers-conv.js";
import { kernelWgsl } from "../../runtime/backends/webgpu/index.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { numbers, relativeError } from "../cpu/compare.js";
import { expectAgree, skipReason } from "./gpu.js";

/** The storage bindings a shader declares. */
function bindingCount(wgsl: string): number {
  return (wgsl.match(/@binding\(/g) ?? []).length;
}

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

  it("5×5 and 7×7: the k² windows join the matmul, by default (free views pass the slack) and with wideViews, within 8 bindings", () => {
    for (const k of [5, 7]) {
      const b = new IRBuilder();
      const graph = b.graph({ y: conv2d(b, b.input("x", [1, 2, 9, 8]), b.input("w", [3, 2, k, k]), 1, "same") });
      for (const kg of [planKernelGraph(graph), planKernelGraph(graph, { wideViews: true })]) {
        expect(kg.kernels.filter((q) => q.kind === "conv").length).toBe(1);
        for (const q of kg.kernels) expect(q.inputs.length + 1).toBeLessThanOrEqual(8);
      }
    }
  });
});

/** k×k convolutions with stride and padding, forward and both gradients, planned as on WebGPU. */
const wide: [number, number, string, number[]][] = [
  [1, 1, "valid", [2, 3, 5, 4]],
  [1, 2, "same", [1, 2, 7, 6]],
  [3, 2, "valid", [1, 2, 9, 8]],
  [5, 1, "same", [2, 2, 7, 6]],
  [5, 2, "same", [1, 3, 9, 10]],
  [5, 1, "valid", [1, 2, 9, 8]],
  [7, 1, "same", [1, 2, 8, 7]],
  [7, 3, "valid", [1, 1, 12, 13]],
];

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

  for (const [k, stride, padding, xShape] of wide) {
    it(`${k}×${k}, stride ${stride}, ${padding}: the output and both gradients, every dispatch within 8 bindings`, async () => {
      const b = new IRBuilder();
      const x = b.input("x", xShape);
      const w = b.input("w", [3, xShape[1]!, k, k]);
      const y = conv2d(b, x, w, stride, padding);
      const loss = b.sum(b.mul(b.relu(y), b.input("dy", y.shape)));
      const [dx, dw] = grad(b, loss, [x, w]);
      const feeds = Object.fromEntries((["x", "w", "dy"] as const).map((name, i) => {
        const shape = name === "x" ? x.shape : name === "w" ? w.shape : y.shape;
        return [name, { shape: [...shape], data: numbers(sizeOf(shape), i + 7) }];
      }));
      const kg = await expectAgree(b.graph({ y, dx: dx!, dw: dw! }), feeds, 1e-5, {}, { wideViews: true });
      const shaders = kernelWgsl(kg);
      for (const s of shaders) expect(bindingCount(s.wgsl), s.wgsl.split("\n")[0]).toBeLessThanOrEqual(8);
      // Every product reading windows (the forward pass, and at stride 1 the image gradient, its windows in
      // descending order) reads them in place, as index arithmetic: no branch per window.
      const forward = shaders.filter((s) => s.wgsl.startsWith("// matmul"));
      expect(forward.length).toBeGreaterThan(0);
      for (const s of forward) expect(s.wgsl).not.toMatch(/else if/);
      // Nothing joins the windows into columns in memory.
      expect(shaders.filter((s) => /^\/\/ (fused )?concat\b/.test(s.wgsl))).toEqual([]);
    });
  }

  for (const [k, stride, padding] of [[3, 2, "same"], [4, 2, "valid"], [5, 3, "same"]] as const) {
    it(`transposed ${k}×${k}, stride ${stride}, ${padding}: the sum of k² interior-padded planes is one shader, and the gradients agree`, async () => {
      const b = new IRBuilder();
      const x = b.input("x", [2, 3, 5, 4]);
      const w = b.input("w", [3, 2, k, k]);
      const y = convTranspose2d(b, x, w, stride, padding);
      const loss = b.sum(b.mul(y, b.input("dy", y.shape)));
      const [dx, dw] = grad(b, loss, [x, w]);
      const feeds = Object.fromEntries((["x", "w", "dy"] as const).map((name, i) => {
        const shape = name === "x" ? x.shape : name === "w" ? w.shape : y.shape;
        return [name, { shape: [...shape], data: numbers(sizeOf(shape), i + 11) }];
      }));
      const kg = await expectAgree(b.graph({ y, dx: dx!, dw: dw! }), feeds, 1e-5, {}, { wideViews: true });
      const heads = kernelWgsl(kg).map((s) => s.wgsl.split("\n")[0]!);
      // No pad runs as a dispatch of its own: each is read element by element where the sum needs it.
      expect(heads.filter((h) => /^\/\/ pad\b/.test(h))).toEqual([]);
    });
  }

  it("a user model with a 5×5 convolution and pooling trains as on the CPU", async () => {
    const program = programOf(`
model SmallConv {
  input image: f32[1, 12, 12]
  input label: label(classes: 3)
  encoder f = conv2d(filters: 4, kernel: 5, padding: valid) -> relu -> max_pool(size: 2) -> conv2d(filters: 3, kernel: 5, stride: 2) -> flatten
  head W = classifier(classes: 3)
  loss classify = cross_entropy(W(f(image)), label)
  output W(f(image))
}
`);
    const plan = buildModelPlan(program, "SmallConv", { trainBatch: 2 });
    const step = plan.training[0]!.name;
    const models = await Promise.all((["webgpu", "cpu"] as const).map((backend) => Model.create(plan, { backend, seed: 5 })));
    expect(models[0]!.backend).toBe("webgpu");
    const batch = (i: number) => ({ image: Float32Array.from(numbers(2 * 144, 30 + i, 0, 1)), label: Int32Array.from([i % 3, (i + 1) % 3]) });
    const losses = await Promise.all(models.map(async (m) => [await m.trainStep(step, batch(0)), await m.trainStep(step, batch(1))]));
    for (let i = 0; i < 2; i++) expect(Math.abs(losses[0]![i]! - losses[1]![i]!) / losses[1]![i]!).toBeLessThan(1e-4);
    const [g, c] = await Promise.all(models.map((m) => m.tensor("f.0.weight")));
    expect(relativeError(g!.data, c!.data)).toBeLessThan(1e-4);
    for (const m of models) m.dispose();
  });
});
