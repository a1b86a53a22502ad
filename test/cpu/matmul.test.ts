/**
 * The blocked matmul against the reference on random sizes: rows and columns
 * off multiples of 4, k across several k blocks, n across n blocks, batch
 * dimensions that broadcast.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KC, matmulInto, matmulScratch, NC } from "../../runtime/backends/cpu/matmul.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { expectAgree, numbers, relativeError } from "./compare.js";

describe("cpu matmul", () => {
  it("agrees with reference on random sizes and broadcast batches", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9 }),
        fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: KC - 3, max: 2 * KC + 5 })),
        fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: NC - 2, max: NC + 6 })),
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
        fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
        fc.nat(),
        (m, k, n, batch, ones, seed) => {
          // Each operand's batch: the batch, with some axes 1 (broadcast) or dropped.
          const aBatch = batch.map((d, i) => (ones[i] ? 1 : d));
          const bBatch = ones[0] ? batch.slice(1) : batch;
          const aShape = [...aBatch, m, k];
          const bShape = [...bBatch, k, n];
          const b = new IRBuilder();
          const g = b.graph({ y: b.matmul(b.input("a", aShape), b.input("b", bShape)) });
          expectAgree(
            g,
            { a: { shape: aShape, data: numbers(sizeOf(aShape), seed) }, b: { shape: bShape, data: numbers(sizeOf(bShape), seed + 1) } },
            2e-6,
          );
        },
      ),
      { numRuns: 60, seed: 42 },
    );
  });

  it("matmulInto writes only its block of C, at the given offsets", () => {
    const [m, k, n] = [5, 7, 6];
    const a = new Float32Array([0, 0, ...numbers(m * k, 1)]);
    const b = new Float32Array([0, ...numbers(k * n, 2)]);
    const c = new Float32Array(3 + m * n + 3).fill(9);
    matmulInto(a, 2, b, 1, c, 3, m, k, n, matmulScratch(k, n));
    expect([...c.slice(0, 3), ...c.slice(3 + m * n)]).toEqual([9, 9, 9, 9, 9, 9]);
    const want: number[] = [];
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[2 + i * k + p]! * b[1 + p * n + j]!;
        want.push(s);
      }
    expect(relativeError(c.slice(3, 3 + m * n), want)).toBeLessThan(1e-6);
  });
});
