/**
 * Pooling in a convolution's epilogue on WebGPU (`wgsl-pool.ts`): a
 * convolution, its bias and activation, and a max or average pool (three
 * kernels of the plan) run as one dispatch whose tiles hold each pooled
 * pixel's window, and agree with the reference: odd image sides (pixels no
 * window covers), a batch, strides, 5×5 kernels, and inside a gradient
 * graph, where the activation is also written for the backward pass.
 */
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { conv2d, pool } from "../../compiler/lower/layers-conv.js";
import { kernelWgsl } from "../../runtime/backends/webgpu/index.js";
import { reshapeStrides } from "../../runtime/backends/webgpu/wgsl-pool.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { numbers } from "../cpu/compare.js";
import { expectAgree, skipReason } from "./gpu.js";

const PLAN = { wideViews: true } as const;

interface Case {
  readonly x: number[];
  readonly filters: number;
  readonly k: number;
  readonly stride: number;
  readonly padding: string;
  readonly kind: "max" | "avg";
  readonly size: number;
  readonly bias?: boolean;
}

const cases: Case[] = [
  { x: [1, 2, 8, 8], filters: 3, k: 3, stride: 1, padding: "same", kind: "max", size: 2, bias: true },
  { x: [2, 3, 7, 9], filters: 5, k: 3, stride: 1, padding: "same", kind: "avg", size: 2, bias: true },
  { x: [1, 2, 13, 12], filters: 4, k: 5, stride: 1, padding: "valid", kind: "max", size: 2 },
  { x: [2, 1, 11, 11], filters: 17, k: 3, stride: 2, padding: "same", kind: "max", size: 2, bias: true },
  { x: [1, 2, 36, 34], filters: 20, k: 3, stride: 1, padding: "same", kind: "avg", size: 2, bias: true },
];

function convPool(b: IRBuilder, c: Case): { y: Node; act: Node; feeds: Record<string, { shape: number[]; data: number[] }>; x: Node; w: Node } {
  const x = b.input("x", c.x);
  const w = b.input("w", [c.filters, c.x[1]!, c.k, c.k]);
  let act: Node = conv2d(b, x, w, c.stride, c.padding);
  const feeds: Record<string, { shape: number[]; data: number[] }> = {
    x: { shape: c.x, data: numbers(sizeOf(c.x), 1) },
    w: { shape: [...w.shape], data: numbers(sizeOf(w.shape), 2) },
  };
  if (c.bias) {
    act = b.add(act, b.reshape(b.input("bias", [c.filters]), [c.filters, 1, 1]));
    feeds["bias"] = { shape: [c.filters], data: numbers(c.filters, 3) };
  }
  act = b.relu(act);
  return { y: pool(b, act, c.kind, c.size, c.size), act, feeds, x, w };
}

/** The first line of each dispatch's shader. */
function heads(wgsl: readonly { wgsl: string }[]): string[] {
  return wgsl.map((s) => s.wgsl.split("\n")[0]!);
}

describe("reshapeStrides", () => {
  it("splits and merges strided axes where no copy is needed, and refuses otherwise", () => {
    expect(reshapeStrides([2, 4, 64], [256, 1, 4], [2, 4, 8, 8])).toEqual([256, 1, 32, 4]);
    expect(reshapeStrides([6, 4], [4, 1], [24])).toEqual([1]);
    expect(reshapeStrides([4, 6], [1, 4], [24])).toBeNull();
    expect(reshapeStrides([3, 1, 4], [4, 0, 1], [12, 1])).toEqual([1, 0]);
  });
});

describe.skipIf(skipReason !== null)("webgpu convolution with its pool in one dispatch", () => {
  for (const c of cases) {
    it(`${c.k}×${c.k} stride ${c.stride} ${c.padding}, ${c.kind} pool ${c.size}, x ${c.x.join("×")}`, async () => {
      const b = new IRBuilder();
      const { y, feeds } = convPool(b, c);
      const kg = await expectAgree(b.graph({ y }), feeds, 1e-5, {}, PLAN);
      const shaders = heads(kernelWgsl(kg));
      expect(shaders.filter((h) => h.includes("pool"))).toHaveLength(1);
      // The whole forward is that one dispatch: no epilogue or window dispatch of its own.
      expect(shaders).toHaveLength(1);
    });
  }

  it("inside a gradient graph: the activation is written too, and the gradients agree", async () => {
    const b = new IRBuilder();
    const c = cases[0]!;
    const { y, feeds, x, w } = convPool(b, c);
    const loss = b.sum(b.mul(y, b.input("dy", y.shape)));
    feeds["dy"] = { shape: [...y.shape], data: numbers(sizeOf(y.shape), 9) };
    const [dx, dw] = grad(b, loss, [x, w]);
    const kg = await expectAgree(b.graph({ y, dx: dx!, dw: dw! }), feeds, 1e-5, {}, PLAN);
    const pooled = kernelWgsl(kg).filter((s) => s.wgsl.split("\n")[0]!.includes("pool"));
    expect(pooled).toHaveLength(1);
    expect(pooled[0]!.wgsl).toMatch(/out1\[/);
  });
});
