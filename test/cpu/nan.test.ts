/**
 * NaN and ±∞ through the generated WebAssembly kernels (`generated.ts`): for
 * each kernel family (elementwise maps, reductions, matmuls with their
 * epilogues, relu and max, losses), inputs holding NaN, ±∞, ±0 and the
 * extremes of float32 give, element by element, the same NaN / +∞ / −∞ /
 * finite pattern as the JavaScript path (`simd: false`) and the float64
 * reference rounded to float32, and the same finite values within float32 rounding: with the
 * fused multiply-add and without, on one thread and on two (the matmul is
 * large enough to be split between them).
 *
 * The special values are in the inputs, so the patterns do not depend on how
 * products are rounded. (Float32 *overflow* is different: a fused
 * multiply-add keeps an overflowed dot product at ±∞ where separate rounding
 * of each product meets +∞ and −∞ and gives NaN, and float64 does not
 * overflow at all; no test here relies on that.)
 */
import { describe, expect, it } from "vitest";
import type { TensorFeeds, TensorValue } from "../../runtime/backends/backend.js";
import { compileCpu, type CpuOptions } from "../../runtime/backends/cpu/index.js";
import { relaxedSimdAvailable } from "../../runtime/backends/cpu/features.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import type { Shape } from "../../runtime/ir/ops.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
// Worker threads (the Node entry installs them), for the split runs.
import "../../runtime/node.js";
import { numbers, relativeError } from "./compare.js";

/** The shape of the maps', reductions' and losses' inputs: rows of 13, so each row ends in a partial vector. */
const SHAPE: Shape = [7, 13];

/** The special values every input holds somewhere. */
const SPECIALS = [Number.NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 1e-38];

/** Numbers in [-2, 2) with specials at `every`-spaced positions from `offset` (cycling through SPECIALS), as float32. */
function sprinkled(shape: Shape, seed: number, every = 5, offset = 0): Float32Array {
  const data = Float32Array.from(numbers(sizeOf(shape), seed));
  for (let i = offset, s = seed; i < data.length; i += every, s++) data[i] = SPECIALS[s % SPECIALS.length]!;
  return data;
}

/**
 * Numbers in [-2, 2) for SHAPE, with a row of its own per case: row 0 finite; row 1 a NaN; row 2 +∞; row 3 −∞;
 * row 4 +∞ and −∞; row 5 ±0 and subnormals; row 6 +∞ in the last column (a vector's tail lane).
 */
function rows(seed: number): Float32Array {
  const data = Float32Array.from(numbers(sizeOf(SHAPE), seed));
  const n = SHAPE[1]!;
  const put: [number, number, number][] = [[1, 3, Number.NaN], [2, 5, Infinity], [3, 0, -Infinity], [4, 2, Infinity], [4, 9, -Infinity], [5, 1, 0], [5, 4, -0], [5, 7, 1e-45], [5, 8, -1e-45], [6, 12, Infinity]];
  for (const [r, c, v] of put) data[r * n + c] = v;
  return data;
}

/** What an element is: NaN, +∞, −∞ or finite. */
const kind = (v: number): string => (Number.isNaN(v) ? "NaN" : v === Infinity ? "+∞" : v === -Infinity ? "−∞" : "finite");

/** Each output's element kinds (rounded to float32 first: the reference's float64 results overflow where float32 ones do once rounded). */
const pattern = (out: Record<string, TensorValue>, name: string): string[] => Array.from(out[name]!.data, (v) => kind(Math.fround(v)));

/** The CPU options to check: generated code with relaxed SIMD's fused multiply-add (where the engine has it) and without, on 1 and 2 threads. */
const GENERATED: readonly CpuOptions[] = [
  ...(relaxedSimdAvailable() ? [{ fma: true, threads: 1 }, { fma: true, threads: 2 }] : []),
  { fma: false, threads: 1 },
  { fma: false, threads: 2 },
];

/** Kernel calls split among threads by the generated executables so far. */
const split = { calls: 0 };

/**
 * Builds a graph of `outputs` from `build`, feeds `feeds`, and expects every
 * generated variant to match the JavaScript path's and the reference's NaN/∞
 * pattern and finite values (`tol` relative to each output's finite scale).
 * Returns the JavaScript path's outputs, for checks that specials reached them.
 * Counts kernel calls split among threads into `split`.
 */
function expectSamePattern(build: (b: IRBuilder) => Record<string, Node>, feeds: TensorFeeds, tol = 2e-5): Record<string, TensorValue> {
  const b = new IRBuilder();
  const kg = planKernelGraph(b.graph(build(b)));
  const names = kg.outputs.map((o) => o.name);
  const js = compileCpu(kg, { simd: false }).run(feeds, {});
  const reference = compileReference(kg).run(feeds, {});
  for (const name of names) expect(pattern(js, name), `${name}: the JavaScript path against the reference`).toEqual(pattern(reference, name));
  for (const options of GENERATED) {
    const exe = compileCpu(kg, options);
    expect(exe.kernels, JSON.stringify(options)).toMatch(/^generated/);
    // Every kernel runs generated code (none falls back to a JavaScript maker), or the test would check the JavaScript path against itself.
    expect(exe.account.kernels.filter((a) => a.includes("JavaScript")), JSON.stringify(options)).toEqual([]);
    const got = exe.run(feeds, {});
    split.calls += exe.splitCalls ?? 0;
    for (const name of names) {
      const what = `${name} with ${JSON.stringify(options)}`;
      expect(pattern(got, name), what).toEqual(pattern(js, name));
      expect(relativeError(got[name]!.data, js[name]!.data), what).toBeLessThanOrEqual(tol);
    }
  }
  return js;
}

/** Expects the specials to have reached `out`: some element NaN and some infinite (so the check is not of finite numbers only). */
function expectSpecialsIn(out: Record<string, TensorValue>, names: readonly string[], infinite = true): void {
  for (const name of names) {
    const kinds = new Set(pattern(out, name));
    expect(kinds.has("NaN"), `${name} holds NaN`).toBe(true);
    if (infinite) expect(kinds.has("+∞") || kinds.has("−∞"), `${name} holds ±∞`).toBe(true);
  }
}

describe("NaN and ±∞ through the generated kernels", () => {
  it("elementwise maps: every unary op, the binary ops, comparisons and where", () => {
    const unary = ["neg", "exp", "log", "sqrt", "recip", "tanh", "sigmoid", "erf", "abs", "sign", "relu", "sin", "cos"] as const;
    const binary = ["add", "sub", "mul", "div", "maximum", "minimum", "pow"] as const;
    const feeds = { x: { shape: SHAPE, data: sprinkled(SHAPE, 1) }, y: { shape: SHAPE, data: sprinkled(SHAPE, 7, 3, 1) } };
    const js = expectSamePattern((b) => {
      const [x, y] = [b.input("x", SHAPE), b.input("y", SHAPE)];
      return {
        ...Object.fromEntries(unary.map((op) => [op, b.unary(op, x)])),
        ...Object.fromEntries(binary.map((op) => [op, b.binary(op, x, y)])),
        lt: b.cmplt(x, y),
        eq: b.cmpeq(x, y),
        where: b.where(b.cmplt(x, y), x, y),
        // A chain in one kernel: specials flow through several ops in registers.
        chain: b.mul(b.tanh(b.add(x, y)), b.sigmoid(b.sub(x, y))),
      };
    }, feeds);
    expectSpecialsIn(js, ["neg", "add", "sub", "mul", "div", "maximum", "minimum", "relu", "exp", "log", "recip", "sqrt", "abs", "pow", "where"]);
    expectSpecialsIn(js, ["tanh", "sigmoid", "erf", "sign", "sin", "cos", "chain"], false);
  });

  it("reductions: sums and maxima along either axis and over everything, mean, softmax and layer norm rows", () => {
    const x = rows(3);
    const js = expectSamePattern(
      (b) => {
        const v = b.input("x", SHAPE);
        const [m, n] = SHAPE as [number, number];
        const e = b.exp(b.sub(v, b.broadcastTo(b.max(v, 1, true), [m, n])));
        const centered = b.sub(v, b.broadcastTo(b.mean(v, 1, true), [m, n]));
        const variance = b.mean(b.mul(centered, centered), 1, true);
        return {
          rowSum: b.sum(v, 1),
          columnSum: b.sum(v, 0),
          total: b.sum(v),
          rowMax: b.max(v, 1),
          columnMax: b.max(v, 0),
          mean: b.mean(v, 1),
          softmax: b.div(e, b.broadcastTo(b.sum(e, 1, true), [m, n])),
          layerNorm: b.div(centered, b.broadcastTo(b.sqrt(b.add(variance, 1e-5)), [m, n])),
        };
      },
      { x: { shape: SHAPE, data: x } },
    );
    expectSpecialsIn(js, ["rowSum", "columnSum", "rowMax", "columnMax", "mean"]);
    expectSpecialsIn(js, ["total", "softmax", "layerNorm"], false);
    // Some rows stay finite: the NaN did not spread beyond where it belongs.
    expect(pattern(js, "rowSum")).toContain("finite");
  });

  it("matmuls: NaN and ±∞ in either operand, across a k-slice boundary, with a bias and relu epilogue and a transposed operand", () => {
    const [m, k, n] = [130, 300, 11];
    split.calls = 0;
    // Specials sparse enough that some dot products stay finite.
    const a = sprinkled([m, k], 5, 97, 40);
    const w = sprinkled([k, n], 9, 331, 100);
    const bias = sprinkled([n], 2, 4, 1);
    const js = expectSamePattern(
      (b) => {
        const [av, wv, bv] = [b.input("a", [m, k]), b.input("w", [k, n]), b.input("bias", [n])];
        const product = b.matmul(av, wv);
        return {
          product,
          layer: b.relu(b.add(product, b.broadcastTo(b.reshape(bv, [1, n]), [m, n]))),
          transposed: b.matmul(b.transpose(wv), b.transpose(av)),
        };
      },
      { a: { shape: [m, k], data: a }, w: { shape: [k, n], data: w }, bias: { shape: [n], data: bias } },
      1e-4,
    );
    expectSpecialsIn(js, ["product", "layer", "transposed"]);
    expect(split.calls).toBeGreaterThan(0);
    expect(pattern(js, "product")).toContain("finite");
  });

  it("losses: mean squared error, cross-entropy from logits and binary cross-entropy, per row and in all", () => {
    const [m, n] = SHAPE as [number, number];
    const y = rows(4);
    const t = Float32Array.from(numbers(m * n, 8, 0, 1));
    const js = expectSamePattern(
      (b) => {
        const [yv, tv] = [b.input("y", SHAPE), b.input("t", SHAPE)];
        const d = b.sub(yv, tv);
        const top = b.broadcastTo(b.max(yv, 1, true), [m, n]);
        const logSumExp = b.add(b.log(b.sum(b.exp(b.sub(yv, top)), 1, true)), b.max(yv, 1, true));
        const logSoftmax = b.sub(yv, b.broadcastTo(logSumExp, [m, n]));
        const s = b.sigmoid(yv);
        const bce = b.neg(b.add(b.mul(tv, b.log(s)), b.mul(b.sub(1, tv), b.log(b.sub(1, s)))));
        return {
          mseRows: b.mean(b.mul(d, d), 1),
          mse: b.mean(b.mul(d, d)),
          crossEntropyRows: b.neg(b.sum(b.mul(tv, logSoftmax), 1)),
          crossEntropy: b.mean(b.neg(b.sum(b.mul(tv, logSoftmax), 1))),
          bceRows: b.mean(bce, 1),
        };
      },
      { y: { shape: SHAPE, data: y }, t: { shape: SHAPE, data: t } },
    );
    expectSpecialsIn(js, ["mseRows", "crossEntropyRows", "bceRows"]);
    expect(pattern(js, "mse")).toEqual(["NaN"]);
    expect(pattern(js, "crossEntropy")).toEqual(["NaN"]);
    expect(pattern(js, "mseRows")).toContain("finite");
  });
});
