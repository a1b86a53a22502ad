/**
 * The augmentations of `augment` (spec/views.md) make the same views on
 * every backend: the crop's integer boxes and the grayscale decisions are
 * bit-identical on the reference, CPU and WebGPU (SwiftShader) backends, and
 * the views agree within float32 rounding — a different draw anywhere would
 * move whole pixels. Fused and unfused WebGPU give the same.
 */
import { describe, expect, it } from "vitest";
import { lowerSrc, feedsFor } from "../lower/harness.js";
import { compileCpu } from "../../runtime/backends/cpu/index.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import type { TensorFeed, TensorValue } from "../../runtime/backends/backend.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { cropBox, uniformBits } from "../../compiler/lower/views-crop.js";
import { quantizeProbability } from "../../runtime/rng/index.js";
import { runGpu, skipReason } from "./gpu.js";

/** Feeds as typed arrays: images in [0, 1], seed and step. */
function typed(feeds: Record<string, { shape: readonly number[]; data: number[] }>): Record<string, TensorFeed> {
  return Object.fromEntries(
    Object.entries(feeds).map(([k, v]) => [k, { shape: v.shape, data: k === "seed" || k === "step" ? Int32Array.from(v.data) : Float32Array.from(v.data, (x) => (x + 1) / 2) }]),
  );
}

function expectClose(name: string, got: TensorValue, want: TensorValue, tol: number): void {
  expect(got.shape, name).toEqual(want.shape);
  let worst = 0;
  for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(got.data[i]! - want.data[i]!));
  expect(worst, name).toBeLessThanOrEqual(tol);
}

describe.skipIf(skipReason !== null)("augmentations agree across backends", () => {
  it("the crop's boxes and the grayscale decisions are bit-identical", async () => {
    const b = new IRBuilder();
    const n = 512;
    const key = (stream: number) => ({ seed: b.input("seed", [], "i32"), step: b.input("step", [], "i32"), stream });
    const k = uniformBits(b, b.uniform([n, 2], key(11)));
    const col = (j: number) => b.reshape(b.sliceAxis(k, 1, j, j + 1), [n]);
    const box = cropBox(b, col(0), col(1), 32, 0.08);
    const gray = b.cmplt(b.uniform([n], key(12)), quantizeProbability(0.2));
    const kg = planKernelGraph(b.graph({ side: box.side, start: box.start, gray }));
    const feeds = { seed: { shape: [], data: Int32Array.of(9) }, step: { shape: [], data: Int32Array.of(4) } };
    const ref = compileReference(kg).run(feeds, {});
    const cpu = compileCpu(kg).run(feeds, {});
    const web = await runGpu(kg, feeds);
    for (const name of ["side", "start", "gray"]) {
      expect([...cpu[name]!.data], `cpu ${name}`).toEqual([...ref[name]!.data]);
      expect([...web[name]!.data], `webgpu ${name}`).toEqual([...ref[name]!.data]);
    }
    // Many boxes and both decisions occur.
    expect(new Set(ref["side"]!.data).size).toBeGreaterThan(20);
    expect(new Set(ref["gray"]!.data)).toEqual(new Set([0, 1]));
  });

  for (const [what, options, shape] of [
    ["crop", "crop: 0.3", "3, 12, 10"],
    ["jitter", "jitter: 0.5", "3, 6, 6"],
    ["grayscale", "grayscale: 0.5", "3, 5, 5"],
    ["blur", "blur: 1.5", "1, 9, 8"],
    ["all of them", "crop: 0.5, shift: 2, flip: true, jitter: 0.4, grayscale: 0.3, blur: 1, channel_drop: 0.2", "3, 10, 10"],
  ] as const) {
    it(`${what}: both views on reference, CPU and WebGPU, fused or not`, async () => {
      const src = `model V {\n  input image: f32[${shape}]\n  views a, b = augment(image, ${options})\n  let first = a\n  let second = b\n  loss l = mse(a, b)\n}\n`;
      const lowered = lowerSrc(src, { batch: 6, values: ["first", "second"], prediction: false });
      const kg = planKernelGraph(lowered.graph);
      const feeds = typed(feedsFor(lowered));
      const ref = compileReference(kg).run(feeds, {});
      const cpu = compileCpu(kg).run(feeds, {});
      const fused = await runGpu(kg, feeds);
      const unfused = await runGpu(kg, feeds, {}, false);
      for (const name of ["value/first", "value/second"]) {
        expectClose(`cpu ${name}`, cpu[name]!, ref[name]!, 1e-5);
        expectClose(`webgpu ${name}`, fused[name]!, cpu[name]!, 1e-5);
        expectClose(`webgpu unfused ${name}`, unfused[name]!, cpu[name]!, 1e-5);
      }
      expect([...ref["value/first"]!.data]).not.toEqual([...ref["value/second"]!.data]);
    }, 120_000);
  }
});
