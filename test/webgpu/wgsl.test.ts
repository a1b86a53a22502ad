/**
 * The WGSL renderer without a device: golden shaders for a few small kernels
 * (`golden/*.wgsl`: a missing golden is written locally and fails on CI;
 * REPR_BLESS=1 rewrites all), how numbers are spelled, and the clear errors
 * for what it does not render.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { kernelWgsl, renderKernel } from "../../runtime/backends/webgpu/index.js";
import { f32Lit, i32Lit } from "../../runtime/backends/webgpu/wgsl-lib.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Graph } from "../../runtime/ir/node.js";
import type { Kernel } from "../../runtime/kernel/graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";

const dir = join(import.meta.dirname, "golden");
const bless = process.env.REPR_BLESS === "1";

/** The WGSL of the graph's last kernel. */
function lastKernel(graph: Graph): string {
  const all = kernelWgsl(planKernelGraph(graph));
  return all[all.length - 1]!.wgsl;
}

const GOLDENS: readonly [string, () => string][] = [
  [
    "add-broadcast",
    () => {
      const b = new IRBuilder();
      return lastKernel(b.graph({ y: b.add(b.input("x", [2, 3]), b.input("bias", [3])) }));
    },
  ],
  [
    "sum-axis",
    () => {
      const b = new IRBuilder();
      return lastKernel(b.graph({ y: b.sum(b.input("x", [4, 5, 6]), [0, 2], true) }));
    },
  ],
  [
    "matmul-batched",
    () => {
      const b = new IRBuilder();
      return lastKernel(b.graph({ y: b.matmul(b.input("a", [3, 1, 4, 5]), b.input("b", [2, 5, 6])) }));
    },
  ],
  [
    "uniform",
    () => {
      const b = new IRBuilder();
      return lastKernel(b.graph({ y: b.uniform([8], { seed: b.input("seed", [], "i32"), step: b.input("step", [], "i32"), stream: 3 }) }));
    },
  ],
];

describe("golden WGSL", () => {
  for (const [name, make] of GOLDENS) {
    it(name, () => {
      const text = make();
      const path = join(dir, `${name}.wgsl`);
      const missing = !existsSync(path);
      expect(missing && process.env.CI === "true", `${path} is missing`).toBe(false);
      if (bless || missing) writeFileSync(path, text);
      expect(text).toBe(readFileSync(path, "utf8"));
    });
  }
});

describe("the WGSL renderer", () => {
  it("spells numbers only, non-finite values and −0 by their bits", () => {
    expect(f32Lit(1)).toBe("1.0f");
    expect(f32Lit(-2.5)).toBe("-2.5f");
    expect(f32Lit(1e-30)).toBe(`${Math.fround(1e-30)}f`);
    expect(f32Lit(NaN)).toBe("f32_bits(0x7fc00000u)");
    expect(f32Lit(-Infinity)).toBe("f32_bits(0xff800000u)");
    expect(f32Lit(-0)).toBe("f32_bits(0x80000000u)");
    expect(f32Lit(1e39)).toBe("f32_bits(0x7f800000u)");
    expect(i32Lit(-(2 ** 31))).toBe("bitcast<i32>(0x80000000u)");
    expect(() => i32Lit(1.5)).toThrow(/not an i32/);
    expect(() => f32Lit("1; }" as unknown as number)).toThrow(/not a number/);
  });

  it("puts no name from the graph into the shader", () => {
    const b = new IRBuilder();
    const evil = "x*/ } fn evil() { /*";
    const wgsl = kernelWgsl(planKernelGraph(b.graph({ [evil]: b.exp(b.input(evil, [2])) })));
    for (const { wgsl: text } of wgsl) expect(text).not.toContain("evil");
  });

  it("an empty result renders a shader that computes nothing and dispatches no workgroup", () => {
    const b = new IRBuilder();
    const kg = planKernelGraph(b.graph({ y: b.sum(b.input("x", [3, 0]), [1], true), z: b.exp(b.input("e", [0, 2])) }));
    const z = kg.kernels[kg.kernels.length - 1]!;
    expect(renderKernel(z, z.inputs.map((v) => kg.values[v]!)).workgroups).toEqual([0, 0, 0]);
    expect(kernelWgsl(kg)[0]!.wgsl).toContain("out[i] = 0.0f;");
  });

  it("refuses fused kernels and unknown ops by name", () => {
    const b = new IRBuilder();
    const kg = planKernelGraph(b.graph({ y: b.exp(b.input("x", [2])) }));
    const k = kg.kernels[0]!;
    const types = k.inputs.map((v) => kg.values[v]!);
    const fused: Kernel = { ...k, ops: [k.ops[0]!, { ...k.ops[0]!, args: [{ op: 0 }] }] };
    expect(() => renderKernel(fused, types)).toThrow("webgpu: kernels of 2 ops (fused kernels) are not supported yet");
    const unknown: Kernel = { ...k, ops: [{ ...k.ops[0]!, op: "fft" as never }] };
    expect(() => renderKernel(unknown, types)).toThrow("webgpu: op fft is not supported yet");
    const inherited: Kernel = { ...k, ops: [{ ...k.ops[0]!, op: "constructor" as never }] };
    expect(() => renderKernel(inherited, types)).toThrow("webgpu: op constructor is not supported yet");
    expect(() => renderKernel({ ...k, shape: ["2\n} fn x() {" as never] }, types)).toThrow(/malformed shape/);
    expect(() => renderKernel({ ...k, dtype: "f64" as never }, types)).toThrow(/unknown dtype/);
  });
});
