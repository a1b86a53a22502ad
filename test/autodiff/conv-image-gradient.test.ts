/**
 * The image gradient of a stride-1 convolution (`compiler/lower/layers-conv.ts`,
 * through `compiler/autodiff/custom-vjp.ts`): a convolution of the padded
 * output gradient, with no column buffer summed back by pads. Checked against
 * the gradient written out by hand in float64, for random shapes, kernel
 * sizes (odd and even), `same` and `valid`; and where the image also feeds
 * other ops, or two convolutions share their padded image (hash-consing).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { conv2d, pool } from "../../compiler/lower/layers-conv.js";
import { evaluate } from "../../runtime/backends/reference/evaluate.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { topoSort, type Node } from "../../runtime/ir/node.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { numbers } from "../cpu/compare.js";

/** d/dx of Σ conv2d(x, w) · g, by the definition: x [B, C, H, W], w [F, C, k, k], g [B, F, Ho, Wo]. */
function byHand(xs: readonly number[], shape: readonly number[], ws: readonly number[], k: number, gs: readonly number[], gShape: readonly number[], top: number, left: number): Float64Array {
  const [batch, c, h, w] = shape as [number, number, number, number];
  const [, f, ho, wo] = gShape as [number, number, number, number];
  const dx = new Float64Array(xs.length);
  for (let n = 0; n < batch; n++)
    for (let o = 0; o < f; o++)
      for (let y = 0; y < ho; y++)
        for (let z = 0; z < wo; z++) {
          const gv = gs[((n * f + o) * ho + y) * wo + z]!;
          for (let ch = 0; ch < c; ch++)
            for (let i = 0; i < k; i++)
              for (let j = 0; j < k; j++) {
                const [py, pz] = [y + i - top, z + j - left];
                if (py < 0 || py >= h || pz < 0 || pz >= w) continue;
                dx[((n * c + ch) * h + py) * w + pz] += gv * ws[((o * c + ch) * k + i) * k + j]!;
              }
        }
  return dx;
}

const maxError = (got: ArrayLike<number>, want: ArrayLike<number>) => Array.from(want, (v, i) => Math.abs(v - got[i]!)).reduce((a, e) => Math.max(a, e), 0);

describe("the image gradient of a stride-1 convolution", () => {
  it("is a convolution of the output gradient's windows (one product, no sum of pads) and equals the definition", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.constantFrom("same", "valid"),
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 7 }),
        fc.nat(),
        (k, padding, batch, c, f, h, w, seed) => {
          fc.pre(padding === "same" || (h >= k && w >= k));
          const b = new IRBuilder();
          const shape = [batch, c, h, w];
          const x = b.input("x", shape);
          const wt = b.input("w", [f, c, k, k]);
          const y = conv2d(b, x, wt, 1, padding);
          const g = b.input("g", y.shape);
          const [dx] = grad(b, b.sum(b.mul(y, g)), [x]);
          const forward = new Set(topoSort([y]));
          const ops = topoSort([dx!]).filter((n) => !forward.has(n)).map((n) => n.op);
          expect(ops.filter((o) => o === "matmul")).toHaveLength(1);
          expect(ops).not.toContain("add");
          const [xs, ws, gs] = [numbers(sizeOf(shape), seed), numbers(f * c * k * k, seed + 1), numbers(sizeOf(y.shape), seed + 2)];
          const got = evaluate([dx!], { x: { shape, data: xs }, w: { shape: [f, c, k, k], data: ws }, g: { shape: y.shape, data: gs } }).get(dx!)!.data;
          // `same` at stride 1 pads k − 1 in all, the smaller half before.
          const before = padding === "same" ? Math.floor((k - 1) / 2) : 0;
          expect(maxError(got, byHand(xs, shape, ws, k, gs, y.shape, before, before))).toBeLessThan(1e-9);
        },
      ),
      { numRuns: 60, seed: 11 },
    );
  });

  it("adds the other uses' gradients where the image feeds other ops, and two convolutions sharing their padded image each add theirs", () => {
    const b = new IRBuilder();
    const shape = [2, 2, 6, 6];
    const x = b.input("x", shape);
    const w1 = b.input("w1", [3, 2, 3, 3]);
    const w2 = b.input("w2", [1, 2, 3, 3]);
    const y1 = conv2d(b, x, w1, 1, "same");
    // The same padded image (hash-consed), another weight.
    const y2 = conv2d(b, x, w2, 1, "same");
    const p = pool(b, x, "avg", 2, 2);
    const [g1, g2, gp] = [b.input("g1", y1.shape), b.input("g2", y2.shape), b.input("gp", p.shape)];
    const loss = b.add(b.add(b.sum(b.mul(y1, g1)), b.sum(b.mul(y2, g2))), b.sum(b.mul(p, gp)));
    const [dx] = grad(b, loss, [x]);
    const data = { x: numbers(sizeOf(shape), 1), w1: numbers(54, 2), w2: numbers(18, 3), g1: numbers(sizeOf(y1.shape), 4), g2: numbers(sizeOf(y2.shape), 5), gp: numbers(sizeOf(p.shape), 6) };
    const feeds = { x: { shape, data: data.x }, w1: { shape: [3, 2, 3, 3], data: data.w1 }, w2: { shape: [1, 2, 3, 3], data: data.w2 }, g1: { shape: y1.shape, data: data.g1 }, g2: { shape: y2.shape, data: data.g2 }, gp: { shape: p.shape, data: data.gp } };
    const got = evaluate([dx!], feeds).get(dx!)!.data;
    const want = byHand(data.x, shape, data.w1, 3, data.g1, y1.shape, 1, 1);
    const second = byHand(data.x, shape, data.w2, 3, data.g2, y2.shape, 1, 1);
    for (let i = 0; i < want.length; i++) {
      const [r, s] = [Math.floor(i / 6) % 6, i % 6];
      want[i] += second[i]! + data.gp[Math.floor(i / 36) * 9 + Math.floor(r / 2) * 3 + Math.floor(s / 2)]! / 4;
    }
    expect(maxError(got, want)).toBeLessThan(1e-9);
  });
});
