/**
 * Random small shapes (fast-check) for each op family the WebGPU renderer
 * supports: a one-op graph (plus the builder's broadcasting reshapes and
 * expands) runs on WebGPU and on the reference backend and must agree, within
 * float32 tolerance for f32 results and exactly for i32 results.
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { BinaryOp, DType, UnaryOp } from "../../runtime/ir/ops.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { integers, numbers } from "../cpu/compare.js";
import { expectAgree, skipReason } from "./gpu.js";

const RUNS = { numRuns: 12 };
const shape = (maxRank = 4, maxDim = 5): fc.Arbitrary<number[]> => fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: 1, maxLength: maxRank });
const dtype = fc.constantFrom<DType>("f32", "i32");

/** A feed of random numbers (f32) or integers (i32) for `shape`. */
function data(shape: readonly number[], t: DType, seed: number): { shape: number[]; data: number[] } {
  const n = sizeOf(shape);
  return { shape: [...shape], data: t === "f32" ? numbers(n, seed, -3, 3) : integers(n, seed, -50, 50) };
}

describe.skipIf(skipReason !== null)("webgpu agrees with reference on random shapes", () => {
  it("binary ops with NumPy broadcasting, f32 and i32", async () => {
    const ops: BinaryOp[] = ["add", "sub", "mul", "div", "maximum", "minimum", "cmplt", "cmpeq"];
    await fc.assert(
      fc.asyncProperty(shape(), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.nat(3), fc.constantFrom(...ops), dtype, fc.nat(), async (a, ones, drop, op, t, seed) => {
        // b: a's trailing axes, some of them 1.
        const bShape = a.slice(Math.min(drop, a.length - 1)).map((d, i) => (ones[i] ? 1 : d));
        const b = new IRBuilder();
        const x = b.input("x", a, t);
        const y = b.input("y", bShape, t);
        await expectAgree(b.graph({ z: b.binary(op, x, y), w: b.binary(op, y, x) }), { x: data(a, t, seed), y: data(bShape, t, seed + 1) });
      }),
      RUNS,
    );
  });

  it("unary ops and where", async () => {
    const ops: UnaryOp[] = ["neg", "exp", "tanh", "sigmoid", "erf", "abs", "sign", "relu", "sin", "cos"];
    await fc.assert(
      fc.asyncProperty(shape(), fc.constantFrom(...ops), fc.nat(), async (s, op, seed) => {
        const b = new IRBuilder();
        const x = b.input("x", s);
        const c = b.input("c", s, "i32");
        const feeds = { x: data(s, "f32", seed), c: { shape: s, data: integers(sizeOf(s), seed + 2, 0, 2) } };
        await expectAgree(b.graph({ u: b.unary(op, x), w: b.where(c, x, b.unary(op, x)) }), feeds);
      }),
      RUNS,
    );
  });

  it("sum and max over random axes", async () => {
    await fc.assert(
      fc.asyncProperty(shape(), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), dtype, fc.nat(), async (s, pick, t, seed) => {
        const axes = s.map((_, a) => a).filter((a) => pick[a]);
        const b = new IRBuilder();
        const x = b.input("x", s, t);
        await expectAgree(b.graph({ sum: b.sum(x, axes, true), max: b.max(x, axes, true) }), { x: data(s, t, seed) }, 1e-5);
      }),
      RUNS,
    );
  });

  it("matmul with broadcast batch axes", async () => {
    const dim = fc.integer({ min: 1, max: 9 });
    await fc.assert(
      fc.asyncProperty(dim, dim, dim, fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }), fc.nat(), async (m, k, n, batch, ones, seed) => {
        const aShape = [...batch, m, k];
        const bShape = [...batch.map((d, i) => (ones[i] ? 1 : d)), k, n];
        const b = new IRBuilder();
        await expectAgree(b.graph({ y: b.matmul(b.input("a", aShape), b.input("b", bShape)) }), { a: data(aShape, "f32", seed), b: data(bShape, "f32", seed + 1) }, 1e-5);
      }),
      RUNS,
    );
  });

  it("matmul at tiled sizes: every block side, edges off the tile, operands transposed in place", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 24 }),
        fc.boolean(),
        fc.boolean(),
        fc.nat(),
        async (m, k, n, batch, ta, tb, seed) => {
          const aShape = ta ? [batch, k, m] : [batch, m, k];
          const bShape = tb ? [batch, n, k] : [batch, k, n];
          const b = new IRBuilder();
          const x = b.input("a", aShape);
          const y = b.input("b", bShape);
          await expectAgree(b.graph({ y: b.matmul(ta ? b.transpose(x) : x, tb ? b.transpose(y) : y) }), { a: data(aShape, "f32", seed), b: data(bShape, "f32", seed + 1) }, 1e-5);
        },
      ),
      { numRuns: 10 },
    );
  });

  it("permute, slice, pad, concat and expand", async () => {
    await fc.assert(
      fc.asyncProperty(shape(), fc.array(fc.nat(), { minLength: 12, maxLength: 12 }), dtype, fc.nat(), async (s, r, t, seed) => {
        const rank = s.length;
        const perm = s.map((_, a) => a).sort((p, q) => (r[p]! % 7) - (r[q]! % 7) || p - q);
        const starts = s.map((d, a) => r[a]! % d);
        const ends = s.map((d, a) => starts[a]! + 1 + (r[a + 4]! % (d - starts[a]!)));
        const steps = s.map((_, a) => 1 + (r[a + 8]! % 2));
        const lo = s.map((_, a) => r[a]! % 2);
        const hi = s.map((_, a) => r[a + 4]! % 3);
        const interior = s.map((_, a) => r[a + 8]! % 2);
        const axis = r[0]! % rank;
        const b = new IRBuilder();
        const x = b.input("x", s, t);
        const ones = s.map((d, a) => (r[a + 4]! % 2 === 0 ? 1 : d));
        const y = b.input("y", ones, t);
        await expectAgree(
          b.graph({
            permute: b.permute(x, perm),
            slice: b.slice(x, starts, ends, steps),
            pad: b.pad(x, lo, hi, { interior, value: t === "f32" ? -1.5 : 7 }),
            concat: b.concat([x, b.neg(x), x], axis),
            expand: b.broadcastTo(y, s),
          }),
          { x: data(s, t, seed), y: data(ones, t, seed + 1) },
        );
      }),
      RUNS,
    );
  });

  it("gather, scatter_add and argsort along a random axis", async () => {
    await fc.assert(
      fc.asyncProperty(shape(3), fc.nat(), fc.integer({ min: 1, max: 4 }), dtype, fc.nat(), async (s, a, count, t, seed) => {
        const axis = a % s.length;
        const idxShape = s.map((d, i) => (i === axis ? count : d));
        const b = new IRBuilder();
        const x = b.input("x", s, t);
        const idx = b.input("idx", idxShape, "i32");
        const u = b.input("u", idxShape, t);
        const feeds = {
          // Few distinct values, so argsort meets ties.
          x: { shape: s, data: integers(sizeOf(s), seed, -3, 3).map((v) => (t === "f32" ? v / 2 : v)) },
          idx: { shape: idxShape, data: integers(sizeOf(idxShape), seed + 1, 0, s[axis]!) },
          u: data(idxShape, t, seed + 2),
        };
        await expectAgree(
          b.graph({ gather: b.gather(x, idx, axis), scatter: b.scatterAdd(x, idx, u, axis), asc: b.argsort(x, axis), desc: b.argsort(x, axis, true) }),
          feeds,
        );
      }),
      RUNS,
    );
  });
});
