/**
 * Fusion, the tiled matmul and tree reductions on WebGPU, against the
 * reference backend: random elementwise chains with broadcasts, slices and
 * transposes (fast-check) fused into few dispatches; matmuls with random
 * epilogues; tiled matmuls of odd, batched and transposed sizes; long
 * reductions; split-K matmuls (few output tiles, a long k); and the MNIST
 * autoencoder's training step, which gives the same loss and new weights
 * fused as unfused, in far fewer dispatches, and split as unsplit.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import { initialize, lowerModel, lowerTrainStep } from "../../compiler/lower/index.js";
import { Source } from "../../language/source.js";
import type { TensorFeed } from "../../runtime/backends/backend.js";
import { kernelWgsl } from "../../runtime/backends/webgpu/index.js";
import { blockSide } from "../../runtime/backends/webgpu/wgsl-matmul.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { numbers, relativeError } from "../cpu/compare.js";
import { expectAgree, gpu, runGpu, skipReason, shaderGroups } from "./gpu.js";

const feed = (shape: readonly number[], seed: number, lo = -2, hi = 2): { shape: number[]; data: number[] } => ({ shape: [...shape], data: numbers(sizeOf(shape), seed, lo, hi) });

/** A·B (either read transposed) on WebGPU against the reference, on operands from seeds `seed` and `seed + 1`; its kernel graph. */
async function expectMatmulAgrees(aShape: number[], bShape: number[], ta: boolean, tb: boolean, seed: number) {
  const b = new IRBuilder();
  const a = b.input("a", aShape);
  const c = b.input("b", bShape);
  const y = b.matmul(ta ? b.transpose(a) : a, tb ? b.transpose(c) : c);
  return await expectAgree(b.graph({ y }), { a: feed(aShape, seed), b: feed(bShape, seed + 1) }, 1e-5);
}

describe.skipIf(skipReason !== null)("webgpu fusion", () => {
  it("random elementwise chains with broadcasts agree with the reference in fewer dispatches", async () => {
    const step = fc.record({ op: fc.nat(11), a: fc.nat(), b: fc.nat(), keep: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        fc.array(step, { minLength: 2, maxLength: 9 }),
        fc.nat(),
        async (shape, ones, steps, seed) => {
          const b = new IRBuilder();
          const x = b.input("x", shape);
          // A broadcast operand: x's shape with some axes 1, and a scalar constant.
          const yShape = shape.map((d, i) => (ones[i] ? 1 : d));
          const y = b.input("y", yShape);
          // Read through views: every other element of a longer last axis, and a transpose.
          const last = shape.length - 1;
          const zShape = shape.map((d, i) => (i === last ? 2 * d : d));
          const z = b.input("z", zShape);
          const tShape = [...shape].reverse();
          const t = b.input("t", tShape);
          const reversed = shape.map((_, i) => last - i);
          const nodes: Node[] = [x, y, b.add(x, 0.5)];
          const outputs: Record<string, Node> = {};
          steps.forEach((s, j) => {
            const p = nodes[s.a % nodes.length]!;
            const q = nodes[s.b % nodes.length]!;
            const made = [
              () => b.add(p, q),
              () => b.sub(p, y),
              () => b.mul(p, q),
              () => b.maximum(p, 1.25),
              () => b.minimum(q, p),
              () => b.tanh(p),
              () => b.sigmoid(q),
              () => b.relu(b.neg(p)),
              () => b.where(b.cmplt(p, q), p, b.mul(q, 2)),
              () => b.abs(b.sin(p)),
              () => b.add(p, b.sliceAxis(z, last, 1, 2 * shape[last]!, 2)),
              () => b.mul(q, b.permute(t, reversed)),
            ][s.op]!();
            nodes.push(made);
            // Some intermediates are outputs too: they must be written although read further on.
            if (s.keep) outputs[`o${j}`] = made;
          });
          outputs["last"] = nodes[nodes.length - 1]!;
          const graph = b.graph(outputs);
          const kg = await expectAgree(graph, { x: feed(shape, seed), y: feed(yShape, seed + 1), z: feed(zShape, seed + 2), t: feed(tShape, seed + 3) }, 1e-5);
          expect(shaderGroups(kg).length).toBeLessThanOrEqual(planKernelGraph(graph, { fuse: false }).kernels.length);
          expect(kernelWgsl(kg).length).toBe(shaderGroups(kg).length);
        },
      ),
      { numRuns: 16 },
    );
  });

  it("a bias, activation and scaling chain becomes one dispatch", async () => {
    const b = new IRBuilder();
    const x = b.input("x", [5, 7]);
    const bias = b.input("bias", [7]);
    const y = b.mul(b.relu(b.add(x, bias)), 3);
    const graph = b.graph({ y });
    const kg = await expectAgree(graph, { x: feed([5, 7], 1), bias: feed([7], 2) });
    const primitives = planKernelGraph(graph, { fuse: false }).kernels.length;
    expect(primitives).toBeGreaterThan(3);
    expect(kg.kernels.length).toBe(1);
    expect(shaderGroups(kg).length).toBe(1);
    expect(shaderGroups(kg, { fuse: false }).length).toBe(primitives);
  });
});

describe.skipIf(skipReason !== null)("webgpu matmul epilogues", () => {
  for (const [name, m, k, n] of [["tiled", 70, 33, 65], ["plain", 3, 4, 5]] as const) {
    it(`a ${name} matmul takes its bias and activation in registers`, async () => {
      const b = new IRBuilder();
      const x = b.input("x", [m, k]);
      const w = b.input("w", [n, k]);
      const bias = b.input("bias", [n]);
      const h = b.add(b.matmul(x, b.transpose(w)), bias);
      // `h` is read again later (as a backward pass does): it is written too.
      const y = b.relu(h);
      const z = b.sum(b.mul(h, h), 0, true);
      const kg = await expectAgree(b.graph({ y, z }), { x: feed([m, k], 1), w: feed([n, k], 2), bias: feed([n], 3) }, 1e-5);
      const groups = shaderGroups(kg);
      const first = groups.find((g) => g.kernels.some((j) => groups.graph.kernels[j]!.ops[0]!.op === "matmul"))!;
      expect(first.kernels.map((j) => groups.graph.kernels[j]!.ops[0]!.op)).toContain("relu");
      expect(first.outputs.length).toBe(2);
    });
  }
  it("random chains after random matmuls agree with the reference", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 70 }),
        fc.boolean(),
        fc.array(fc.nat(5), { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        async (m, k, n, transposed, ops, keep) => {
          const b = new IRBuilder();
          const x = b.input("x", [m, k]);
          const w = b.input("w", transposed ? [n, k] : [k, n]);
          const bias = b.input("bias", [n]);
          const h = b.matmul(x, transposed ? b.transpose(w) : w);
          let y = h;
          for (const op of ops) y = [() => b.add(y, bias), () => b.relu(y), () => b.mul(y, h), () => b.sigmoid(y), () => b.where(b.cmplt(h, 0), y, b.neg(y)), () => b.sub(bias, y)][op]!();
          const outputs: Record<string, Node> = keep ? { y, h } : { y };
          const feeds = { x: feed([m, k], m), w: feed(transposed ? [n, k] : [k, n], n), bias: feed([n], k) };
          const kg = await expectAgree(b.graph(outputs), feeds, 1e-5);
          expect(shaderGroups(kg).length).toBe(1);
        },
      ),
      { numRuns: 12 },
    );
  });
});

describe.skipIf(skipReason !== null)("webgpu tiled matmul", () => {
  const cases: [string, number[], number[], boolean, boolean][] = [
    ["1×1×1", [1, 1], [1, 1], false, false],
    ["7×5×3", [7, 5], [5, 3], false, false],
    ["63×17×65", [63, 17], [17, 65], false, false],
    ["65×64×63", [65, 64], [64, 63], false, false],
    ["130×33×70", [130, 33], [33, 70], false, false],
    ["1×130×96", [1, 130], [130, 96], false, false],
    ["batched 3×2 of 65×20×70, b broadcast", [3, 2, 65, 20], [20, 70], false, false],
    ["batched, both", [2, 33, 9], [2, 9, 67], false, false],
    ["a transposed", [40, 65], [40, 30], true, false],
    ["b transposed", [65, 40], [30, 40], false, true],
    ["both transposed", [130, 7], [66, 130], true, true],
    ["32 × 32 tiles", [200, 9], [9, 200], false, false],
    ["batched, 64 × 64 tiles", [20, 65, 9], [20, 9, 130], false, false],
    // 128 × 128 tiles (8 × 8 per invocation): 4 × 5 × 16 = 320 tiles, edges not multiples of the tile.
    ["batched, 128 × 128 tiles", [16, 500, 7], [16, 7, 530], false, false],
    ["batched, 128 × 128 tiles, both transposed", [16, 9, 390], [16, 600, 9], true, true],
  ];
  for (const [name, aShape, bShape, ta, tb] of cases) {
    it(name, async () => {
      const kg = await expectMatmulAgrees(aShape, bShape, ta, tb, 3);
      // Transposes are read in place: one dispatch.
      expect(shaderGroups(kg).length).toBe(1);
    });
  }

  it("chooses the block side by shape: 8 × 8 per invocation only where its tiles still fill a GPU", () => {
    expect(blockSide(4096, 4096, 1)).toBe(8);
    expect(blockSide(500, 530, 16)).toBe(8);
    expect(blockSide(8192, 256, 1)).toBe(4);
    expect(blockSide(200, 200, 1)).toBe(2);
    expect(blockSide(40, 40, 1)).toBe(1);
    const b = new IRBuilder();
    const kg = planKernelGraph(b.graph({ y: b.matmul(b.input("a", [2048, 64]), b.input("b", [64, 2048])) }));
    const wgsl = kernelWgsl(kg).map((s) => s.wgsl).join("\n");
    expect(wgsl).toContain("var acc: array<f32, 64>;");
    // Both staged 128 × 16 tiles in WebGPU's guaranteed 16 KiB of workgroup memory.
    expect(wgsl).toContain("var<workgroup> As: array<f32, 2048>;");
  });

  // [name, a's shape, b's shape, a read transposed, b read transposed, a read as vec4, b read as vec4]
  const vec4Cases: [string, number[], number[], boolean, boolean, boolean, boolean][] = [
    ["k = 64: a along k four at a time, n = 129: b one at a time", [65, 64], [64, 129], false, false, true, false],
    ["k = 68, n = 64: both four at a time", [63, 68], [68, 64], false, false, true, true],
    ["k = 3, n = 65: both one at a time", [129, 3], [3, 65], false, false, false, false],
    ["aᵀ read in place along its rows (m = 64), n = 63", [20, 64], [20, 63], true, false, true, false],
    ["bᵀ read in place along k (k = 36)", [3, 36], [65, 36], false, true, true, true],
    ["both transposed, m = 129 and k = 63: one at a time", [63, 129], [65, 63], true, true, false, false],
    ["aᵀ along m = 64, bᵀ along k = 5", [5, 64], [68, 5], true, true, true, false],
    ["batched a, b broadcast (batch stride 0)", [3, 65, 8], [8, 12], false, false, true, true],
    ["split-K, k = 1024", [16, 1024], [1024, 20], false, false, true, true],
    ["split-K, k = 1027", [16, 1027], [1027, 20], false, false, false, true],
  ];
  for (const [name, aShape, bShape, ta, tb, va, vb] of vec4Cases) {
    it(`vec4 loads: ${name}`, async () => {
      const kg = await expectMatmulAgrees(aShape, bShape, ta, tb, 5);
      // The tiled shader (the split-K partials where k is split) binds a as in0 and b as in1.
      const tiled = kernelWgsl(kg).map((s) => s.wgsl).find((w) => w.includes("(tiled)") || w.includes("split-K partials"))!;
      expect(tiled, "no tiled shader").toBeDefined();
      expect(tiled.includes("var<storage, read> in0: array<vec4<f32>>"), "a's loads").toBe(va);
      expect(tiled.includes("var<storage, read> in1: array<vec4<f32>>"), "b's loads").toBe(vb);
    });
  }

  it("vec4 loads: an operand the epilogue also reads, or read as both operands, stays scalar", async () => {
    const b = new IRBuilder();
    const x = b.input("x", [64, 64]);
    const kg = await expectAgree(b.graph({ y: b.add(b.matmul(x, b.transpose(x)), x) }), { x: feed([64, 64], 9) }, 1e-5);
    const wgsl = kernelWgsl(kg).map((s) => s.wgsl).join("\n");
    expect(wgsl).toContain("(tiled)");
    expect(wgsl).not.toContain("vec4<f32>>");
  });

  it("the big cases use the tiled shader", () => {
    const b = new IRBuilder();
    const kg = planKernelGraph(b.graph({ y: b.matmul(b.transpose(b.input("a", [130, 7])), b.input("b", [130, 66])) }));
    expect(kernelWgsl(kg).map((s) => s.wgsl).join("\n")).toContain("matmul (tiled)");
  });
});

describe.skipIf(skipReason !== null)("webgpu tree reductions", () => {
  const cases: [string, number[], number[], "sum" | "max", "f32" | "i32"][] = [
    ["sum over a long last axis", [3, 700], [1], "sum", "f32"],
    ["sum over a long first axis", [600, 5], [0], "sum", "f32"],
    ["sum over two axes", [2, 300, 3], [0, 1], "sum", "f32"],
    ["sum of everything", [517], [0], "sum", "f32"],
    ["i32 sum", [4, 1000], [1], "sum", "i32"],
    ["max over a long axis", [700, 3], [0], "max", "f32"],
    ["i32 max", [2, 257], [1], "max", "i32"],
  ];
  for (const [name, shape, axes, kind, t] of cases) {
    it(name, async () => {
      const b = new IRBuilder();
      const x = b.input("x", shape, t);
      const y = kind === "sum" ? b.sum(x, axes, true) : b.max(x, axes, true);
      const data = t === "f32" ? numbers(sizeOf(shape), 9, -3, 3) : numbers(sizeOf(shape), 9, -1000, 1000).map(Math.floor);
      const kg = await expectAgree(b.graph({ y }), { x: { shape, data } }, 1e-5);
      expect(kernelWgsl(kg).map((s) => s.wgsl).join("\n")).toContain(`${kind} (tree)`);
    });
  }
});

describe.skipIf(skipReason !== null)("webgpu fused reductions", () => {
  for (const [name, shape, axes, kind] of [
    ["a squared error summed whole", [40, 13], [0, 1], "sum"],
    ["a column sum of a masked product", [600, 5], [0], "sum"],
    ["a row max of a shifted exponential", [3, 300], [1], "max"],
  ] as const) {
    it(`${name} is one dispatch`, async () => {
      const b = new IRBuilder();
      const x = b.input("x", [...shape]);
      const y = b.input("y", [shape[1]]);
      const d = b.sub(x, y);
      const e = kind === "max" ? b.exp(b.mul(d, 0.5)) : b.where(b.cmplt(x, 1), b.mul(d, d), b.neg(d));
      const r = kind === "sum" ? b.sum(e, [...axes], true) : b.max(e, [...axes], true);
      const kg = await expectAgree(b.graph({ r }), { x: feed(shape, 11), y: feed([shape[1]], 12) }, 1e-5);
      expect(shaderGroups(kg).length).toBe(1);
      expect(kernelWgsl(kg)[0]!.wgsl).toContain(`fused ${kind} (tree)`);
    });
  }
});

describe.skipIf(skipReason !== null)("webgpu split reductions", () => {
  for (const [name, shape, axes, kind, t] of [
    ["a squared error over 200,000 elements, summed whole", [250, 800], [0, 1], "sum", "f32"],
    ["row sums of 3 rows of 70,000", [3, 70_000], [1], "sum", "f32"],
    ["a max over 40,000 elements of 2 columns", [40_000, 2], [0], "max", "f32"],
    ["an i32 sum over 50,000", [50_000], [0], "sum", "i32"],
  ] as const) {
    it(`${name}: chunks first, then the chunks' results, as the reference computes`, async () => {
      const b = new IRBuilder();
      const x = b.input("x", [...shape], t);
      const e = t === "f32" && kind === "sum" ? b.mul(x, x) : x;
      const r = kind === "sum" ? b.sum(e, [...axes], true) : b.max(e, [...axes], true);
      const n = sizeOf([...shape]);
      const data = t === "f32" ? numbers(n, 13, -2, 2) : numbers(n, 13, -100, 100).map(Math.floor);
      const kg = await expectAgree(b.graph({ r }), { x: { shape: [...shape], data } }, 1e-5);
      const shaders = kernelWgsl(kg).map((s) => s.wgsl);
      expect(shaders.length).toBe(2);
      expect(shaders[0]).toMatch(new RegExp(`${kind} \\(tree, split in \\d+ parts\\)`));
      expect(kernelWgsl(kg, { splitK: false }).length).toBe(1);
    });
  }

  it("a reduction with many outputs, or a short one, runs in one pass", () => {
    const b = new IRBuilder();
    const wide = b.sum(b.input("x", [64, 40_000]), [1], true);
    const short = b.sum(b.input("y", [3, 20_000]), [1], true);
    expect(kernelWgsl(planKernelGraph(b.graph({ wide, short }))).length).toBe(2);
  });
});

/**
 * The MNIST autoencoder's training step (Adam) at `batch`: its lowering, its
 * kernel graph, initial params with nonzero moments (so every term of the
 * update shows), and feeds.
 */
function autoencoderStep(batch: number) {
  const path = "examples/mnist-autoencoder.repr";
  const { program } = checkProgram(new Source(path, readFileSync(path, "utf8")), nodeFileHost);
  const lowered = lowerModel(program!, "Autoencoder", { batch, mode: "train" });
  const step = lowerTrainStep(lowered, null);
  const graph = lowered.builder.graph(Object.fromEntries(step.graph.outputs.map((o) => [o.name, o.node])));
  const kg = planKernelGraph(graph);
  const params: Record<string, TensorFeed> = {};
  for (const [name, data] of initialize(lowered.params, 1)) {
    const p = lowered.params.find((q) => q.name === name)!;
    params[name] = { shape: p.shape, data: Float32Array.from(data) };
  }
  for (const s of step.state) params[s.name] = { shape: s.node.shape, data: Float32Array.from(numbers(sizeOf(s.node.shape), 7, 0, 0.01)) };
  const feeds = Object.fromEntries(
    kg.inputs.map((i) => [i.name, i.dtype === "i32" ? { shape: i.shape, data: [3] } : { shape: i.shape, data: Float32Array.from(numbers(sizeOf(i.shape), 5, 0, 1)) }]),
  );
  return { lowered, step, kg, unfused: planKernelGraph(graph, { fuse: false }), params, feeds };
}

describe.skipIf(skipReason !== null)("webgpu fusion on a whole training step", () => {
  it("the MNIST autoencoder's adam step: fused and unfused agree within 1e-5, in far fewer dispatches", async () => {
    const { kg, unfused: primitives, params, feeds } = autoencoderStep(8);
    const dispatches = shaderGroups(kg).length;
    expect(primitives.kernels.length).toBeGreaterThan(300);
    expect(dispatches).toBeLessThanOrEqual(50);

    const [fused, unfused] = [await runGpu(kg, feeds, params, true), await runGpu(kg, feeds, params, false)];
    expect(Object.keys(fused).sort()).toEqual(Object.keys(unfused).sort());
    for (const [name, want] of Object.entries(unfused)) {
      const got = fused[name]!;
      expect(got.shape, name).toEqual(want.shape);
      const err = relativeError(got.data, want.data);
      if (!(err <= 1e-5)) expect.fail(`${name}: relative error ${err} between fused and unfused`);
    }
    expect(fused["loss"]!.data[0]).toBeCloseTo(unfused["loss"]!.data[0]!, 5);
  });
});

describe.skipIf(skipReason !== null)("webgpu split-K matmuls", () => {
  // Few output tiles and a long k: the partial products over ranges of k, then their sum.
  const cases: [string, number[], number[], boolean, boolean][] = [
    ["[64×4096]ᵀ · [4096×96]", [4096, 64], [4096, 96], true, false],
    ["batched 3 of 48×2048×40", [3, 48, 2048], [3, 2048, 40], false, false],
    ["b transposed, b broadcast over a batch", [2, 64, 2048], [96, 2048], false, true],
    ["both transposed, k not a multiple of the k tile", [1100, 40], [24, 1100], true, true],
  ];
  for (const [name, aShape, bShape, ta, tb] of cases) {
    it(name, async () => {
      const kg = await expectMatmulAgrees(aShape, bShape, ta, tb, 5);
      const shaders = kernelWgsl(kg).map((s) => s.wgsl);
      expect(shaders.length).toBe(2);
      expect(shaders[0]).toContain("matmul (split-K partials)");
      expect(shaders[1]).toContain("split-K sum of");
      expect(kernelWgsl(kg, { splitK: false }).length).toBe(1);
    });
  }

  it("a split matmul runs its bias and activation after the sum, and writes a value read later", async () => {
    const b = new IRBuilder();
    const x = b.input("x", [4096, 64]);
    const w = b.input("w", [4096, 96]);
    const bias = b.input("bias", [96]);
    const h = b.add(b.matmul(b.transpose(x), w), bias);
    const y = b.relu(h);
    const z = b.sum(b.mul(h, h), 0, true);
    const kg = await expectAgree(b.graph({ y, z }), { x: feed([4096, 64], 7), w: feed([4096, 96], 8), bias: feed([96], 9) }, 1e-5);
    const sums = kernelWgsl(kg).filter((s) => s.wgsl.includes("split-K sum of"));
    expect(sums.length).toBe(1);
    expect(sums[0]!.wgsl).toContain("relu");
    expect(sums[0]!.wgsl).toContain("out1[i]");
  });

  it("a short k or many output tiles run whole", () => {
    const b = new IRBuilder();
    const kg = planKernelGraph(b.graph({ short: b.matmul(b.input("a", [64, 512]), b.input("b", [512, 96])), wide: b.matmul(b.input("c", [1024, 2048]), b.input("d", [2048, 1024])) }));
    expect(kernelWgsl(kg).some((s) => s.wgsl.includes("split-K"))).toBe(false);
  });

  it("the autoencoder's adam step at batch 2048 splits its weight gradients and agrees with the unsplit run within 1e-5", { timeout: 300_000 }, async () => {
    const { lowered, kg, params, feeds } = autoencoderStep(2048);
    // One split per weight matrix: its partials' [rows, cols] are a weight's shape.
    const partials = kernelWgsl(kg).flatMap((s) => [...s.wgsl.matchAll(/^\/\/ matmul \(split-K partials\) → f32\[\d+, (\d+), (\d+)\]$/gm)].map((h) => `${h[1]}×${h[2]}`));
    const weights = lowered.params.filter((p) => p.shape.length === 2).map((p) => `${p.shape[0]}×${p.shape[1]}`);
    expect(weights.length).toBe(6);
    expect(partials.sort()).toEqual(weights.sort());
    // The loss, summed over the whole batch, is folded in chunks first: one more dispatch.
    const splitReductions = kernelWgsl(kg).filter((s) => /\(tree, split in \d+ parts\)/.test(s.wgsl)).length;
    expect(splitReductions).toBe(1);
    expect(kernelWgsl(kg).length).toBe(shaderGroups(kg).length + partials.length + splitReductions);

    const split = await runGpu(kg, feeds, params);
    const exe = gpu!.compile(kg, { splitK: false });
    const whole = await exe.runAsync(feeds, params).finally(() => exe.destroy());
    for (const [name, want] of Object.entries(whole)) {
      const err = relativeError(split[name]!.data, want.data);
      if (!(err <= 1e-5)) expect.fail(`${name}: relative error ${err} between split and unsplit`);
    }
  });
});
