/**
 * The CPU backend's WebAssembly SIMD kernels and what surrounds them: the
 * generated module is valid and small enough for a browser's synchronous
 * compile; the SIMD matmul agrees with the reference on every shape class
 * (edges off multiples of 4 and 8, m = 1, k = 1, k across k blocks, n across
 * n blocks, transposed operands, broadcast batches, a big product), and so
 * does the JavaScript fallback on the same cases; transposes are folded into
 * the matmuls around them, and only where the values they read are intact; the SIMD elementwise
 * kernels give the fallback's bits exactly, special values included; chained
 * elementwise kernels run chunk by chunk agree with the reference, and a
 * chain never lets a kernel overwrite a broadcast's source.
 */
import { describe, expect, it } from "vitest";
import { compileCpu, simdAvailable, type CpuOptions } from "../../runtime/backends/cpu/index.js";
import { chunkedSteps, CHUNK, type CompiledKernel } from "../../runtime/backends/cpu/chunked.js";
import { foldedTransposes } from "../../runtime/backends/cpu/fold.js";
import { simdModuleBytes } from "../../runtime/backends/cpu/simd.js";
import { wasmApi } from "../../runtime/backends/cpu/wasm.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { expectAgree, numbers } from "./compare.js";

const SIMD: CpuOptions = { simd: true };
const FALLBACK: CpuOptions = { simd: false };

/** m × k × n: edges of the 4 × 8 tile, of the 4 × 4 and scalar column tails, of single rows and of the cache blocks. */
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 5, 9],
  [3, 1, 4],
  [4, 7, 8],
  [5, 3, 13],
  [7, 2, 3],
  [8, 16, 12],
  [9, 257, 7],
  [6, 300, 261],
  [13, 513, 17],
  [2, 40, 520],
  [4, 0, 5],
];

function matmulGraph(aShape: number[], bShape: number[], transposeA = false, transposeB = false) {
  const b = new IRBuilder();
  const x = b.input("a", aShape);
  const y = b.input("b", bShape);
  return b.graph({ y: b.matmul(transposeA ? b.transpose(x) : x, transposeB ? b.transpose(y) : y) });
}

function feeds(aShape: number[], bShape: number[], seed: number) {
  return { a: { shape: aShape, data: numbers(sizeOf(aShape), seed) }, b: { shape: bShape, data: numbers(sizeOf(bShape), seed + 1) } };
}

describe("cpu WebAssembly SIMD kernels", () => {
  it("the generated module is valid, under 4 KiB, and runs in Node 20", () => {
    const bytes = simdModuleBytes();
    expect(wasmApi()!.validate(bytes)).toBe(true);
    expect(bytes.length).toBeLessThan(4096);
    expect(simdAvailable()).toBe(true);
  });

  it("compileCpu uses the SIMD kernels by default and the fallback when asked", () => {
    const g = planKernelGraph(matmulGraph([2, 3], [3, 4]), { fuse: false });
    expect(compileCpu(g).simd).toBe(true);
    expect(compileCpu(g, FALLBACK).simd).toBe(false);
  });

  for (const [name, options] of [
    ["SIMD", SIMD],
    ["fallback", FALLBACK],
  ] as const) {
    it(`${name}: matmul agrees with reference on every shape class`, () => {
      SHAPES.forEach(([m, k, n], s) => {
        expectAgree(matmulGraph([m, k], [k, n]), feeds([m, k], [k, n], s), 2e-6, {}, options);
      });
    });

    it(`${name}: matmul with transposed operands (Aᵀ·B, A·Bᵀ, Aᵀ·Bᵀ) and broadcast batches`, () => {
      SHAPES.forEach(([m, k, n], s) => {
        expectAgree(matmulGraph([k, m], [k, n], true, false), feeds([k, m], [k, n], 50 + s), 2e-6, {}, options);
        expectAgree(matmulGraph([m, k], [n, k], false, true), feeds([m, k], [n, k], 80 + s), 2e-6, {}, options);
        expectAgree(matmulGraph([2, k, m], [n, k], true, true), feeds([2, k, m], [n, k], 90 + s), 2e-6, {}, options);
      });
      expectAgree(matmulGraph([3, 1, 5, 6], [2, 6, 9]), feeds([3, 1, 5, 6], [2, 6, 9], 7), 2e-6, {}, options);
    });
  }

  it("SIMD: transposes are folded into matmuls, and skipped when nothing else reads them", () => {
    expect(foldedTransposes(planKernelGraph(matmulGraph([5, 6], [7, 6], false, true), { fuse: false })).products.get(1)).toEqual({ a: { value: 0, transposed: false }, b: { value: 1, transposed: true } });
    expect(foldedTransposes(planKernelGraph(matmulGraph([6, 5], [7, 6], true, true), { fuse: false })).skipped.size).toBe(2);
    const b = new IRBuilder();
    const [x, w] = [b.input("a", [5, 6]), b.input("b", [7, 6])];
    const wt = b.transpose(w);
    const shared = b.graph({ y: b.matmul(x, wt), wt, z: b.matmul(b.transpose(x), b.constant(1, [5, 3])) });
    // wt is an output: still computed (and read from its source by the matmul); xᵀ is skipped, read as A.
    const folds = foldedTransposes(planKernelGraph(shared, { fuse: false }));
    expect(folds.skipped.size).toBe(1);
    expect([...folds.products.values()].map((p) => [p.a.transposed, p.b.transposed])).toEqual([[false, true], [true, false]]);
    expectAgree(shared, feeds([5, 6], [7, 6], 11), 2e-6, {}, SIMD);
  });

  it("SIMD: a transposed product is computed as Bᵀ·Aᵀ, and a transpose of a transpose reads the original", () => {
    const b = new IRBuilder();
    // The product [50, 7] is too big to take over wᵀ's buffer, so w stays intact.
    const [x, w] = [b.input("a", [50, 6]), b.input("b", [6, 7])];
    const g = b.graph({ y: b.transpose(b.matmul(x, b.transpose(b.transpose(w)))) });
    const kg = planKernelGraph(g, { fuse: false });
    const folds = foldedTransposes(kg);
    const [product] = [...folds.products.values()];
    expect(kg.kernels.filter((k) => !folds.skipped.has(k.id)).map((k) => k.ops[0]!.op)).toEqual(["permute"]);
    expect(product).toEqual({ a: { value: 1, transposed: true }, b: { value: 0, transposed: true } });
    expectAgree(g, { a: { shape: [50, 6], data: numbers(300, 1) }, b: { shape: [6, 7], data: numbers(42, 2) } }, 2e-6, {}, SIMD);
  });

  it("SIMD: a transpose is not folded when its source's buffer is reused before the matmul", () => {
    const b = new IRBuilder();
    const [w, x] = [b.input("w", [7, 6]), b.input("x", [7, 6])];
    // exp(w) dies at the transpose, and the plan hands its buffer to exp(x), computed before the matmul.
    const wt = b.transpose(b.exp(w));
    const g = b.graph({ y: b.matmul(b.neg(b.exp(x)), wt) });
    const kg = planKernelGraph(g, { fuse: false });
    const [source, reused] = [kg.kernels[0]!, kg.kernels[2]!];
    expect(kg.values[reused.output]!.buffer).toBe(kg.values[source.output]!.buffer);
    expect(foldedTransposes(kg).skipped.size).toBe(0);
    expectAgree(g, { w: { shape: [7, 6], data: numbers(42, 1) }, x: { shape: [7, 6], data: numbers(42, 2) } }, 2e-6, {}, SIMD);
  });

  it("SIMD: a big product (an autoencoder layer at batch 128), plain and with Bᵀ", () => {
    const [m, k, n] = [128, 784, 256];
    expectAgree(matmulGraph([m, k], [k, n]), feeds([m, k], [k, n], 3), 2e-6, {}, SIMD);
    expectAgree(matmulGraph([m, k], [n, k], false, true), feeds([m, k], [n, k], 4), 2e-6, {}, SIMD);
  });

  it("SIMD elementwise ops give the fallback's bits exactly, special values and every length mod 4 included", () => {
    const special = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 3.4e38, -3.4e38, 1, -1, 0.1];
    for (const length of [1, 2, 3, 4, 5, 7, 12, CHUNK + 5]) {
      const shape = [length];
      const xs = numbers(length, length, -3, 3).map((v, i) => (i % 5 === 0 ? special[(i / 5) % special.length]! : v));
      const ys = numbers(length, length + 1, -3, 3).map((v, i) => (i % 3 === 0 ? special[(i / 3 + 4) % special.length]! : v));
      const b = new IRBuilder();
      const [x, y] = [b.input("x", shape), b.input("y", shape)];
      const g = b.graph({ add: b.add(x, y), sub: b.sub(x, y), mul: b.mul(x, y), div: b.div(x, y), neg: b.neg(x), sqrt: b.sqrt(x) });
      const kg = planKernelGraph(g, { fuse: false });
      const input = { x: { shape, data: xs }, y: { shape, data: ys } };
      const fast = compileCpu(kg, SIMD).run(input);
      const slow = compileCpu(kg, FALLBACK).run(input);
      for (const name of Object.keys(fast)) expect([...fast[name]!.data], `${name} × ${length}`).toEqual([...slow[name]!.data]);
    }
  });

  it("chunked chains (an Adam-like update over several chunks, with broadcasts) agree with reference, both paths", () => {
    const shape = [3, CHUNK + 7];
    const b = new IRBuilder();
    const [p, gr, m, v] = [b.input("p", shape), b.input("g", shape), b.input("m", shape), b.input("v", shape)];
    const bias = b.input("bias", [CHUNK + 7]);
    const m1 = b.add(b.mul(m, 0.9), b.mul(gr, 0.1));
    const v1 = b.add(b.mul(v, 0.999), b.mul(b.mul(gr, gr), 0.001));
    const update = b.div(b.div(m1, 0.1), b.add(b.sqrt(b.div(v1, 0.001)), 1e-8));
    const g = b.graph({ p: b.add(b.sub(p, b.mul(update, 1e-3)), bias), m: m1, v: v1 });
    const data = (seed: number, lo = -1) => ({ shape, data: numbers(sizeOf(shape), seed, lo, 1) });
    const input = { p: data(1), g: data(2), m: data(3), v: data(4, 0), bias: { shape: [CHUNK + 7], data: numbers(CHUNK + 7, 5) } };
    expectAgree(g, input, 1e-6, {}, SIMD);
    expectAgree(g, input, 1e-6, {}, FALLBACK);
  });

  it("a chain stops before a kernel that would overwrite a broadcast's source", () => {
    const ran: string[] = [];
    const kernel = (name: string, outputBuffer: number, inputBuffers: number[], broadcast: number[]): CompiledKernel => ({
      outputBuffer,
      inputBuffers,
      size: 10,
      step: () => ran.push(`${name}:whole`),
      elementwise: { step: (from, to) => ran.push(`${name}:${from}-${to}`), broadcast, account: name },
      account: name,
    });
    // b broadcasts buffer 7; c writes buffer 7 and so must not join b's chain; d may join c's.
    const steps = chunkedSteps([kernel("a", 1, [0], []), kernel("b", 2, [7], [0]), kernel("c", 7, [2], []), kernel("d", 3, [7], [])]);
    expect(steps).toHaveLength(2);
    for (const s of steps) s();
    expect(ran).toEqual(["a:0-10", "b:0-10", "c:0-10", "d:0-10"]);
  });
});
