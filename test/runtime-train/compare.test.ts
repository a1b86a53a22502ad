/**
 * The comparison metrics (runtime/metrics/compare.ts) against formulas
 * written out here: accuracy, top-k and perplexity per position, mse, mae and
 * psnr per element, and sums over batches equal to the whole split.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Comparison, crossEntropySum } from "../../runtime/metrics/compare.js";

const metric = (name: string, args: Record<string, number> = {}) => new Comparison({ name, args });

describe("comparison metrics", () => {
  it("perplexity of uniform scores is the number of classes; of a sure, right guess 1", () => {
    const uniform = metric("perplexity");
    uniform.add(new Float32Array(6 * 4), Int32Array.of(0, 1, 2, 3, 0, 1));
    expect(uniform.result()).toBeCloseTo(4, 10);
    const sure = metric("perplexity");
    sure.add(Float32Array.of(50, 0, 0, 0, 50, 0), Int32Array.of(0, 1));
    expect(sure.result()).toBeCloseTo(1, 10);
  });

  it("cross-entropy sums logsumexp − score of the id, stably for large scores", () => {
    expect(crossEntropySum([1000, 0, 1001, 1], [0, 1], 2)).toBeCloseTo(Math.log(1 + Math.exp(-1000)) + (1001 + Math.log(1 + Math.exp(-1000)) - 1), 8);
    expect(crossEntropySum([1, 2, 3], [2], 3)).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3, 12);
  });

  it("accuracy and top-k count positions, ties to the lower class", () => {
    const scores = Float32Array.of(0.1, 0.7, 0.2, /**/ 0.5, 0.5, 0, /**/ 0, 0.2, 0.9);
    const ids = Int32Array.of(2, 1, 2);
    const acc = metric("accuracy");
    acc.add(scores, ids);
    expect(acc.result()).toBeCloseTo(1 / 3, 12);
    const top2 = metric("top_k", { k: 2 });
    top2.add(scores, ids);
    expect(top2.result()).toBe(1);
  });

  it("mse, mae and psnr per element; psnr with its max", () => {
    const p = Float32Array.of(0, 0.5, 1, 0.25);
    const t = Float32Array.of(0, 1, 0.5, 0.25);
    const [mse, mae, psnr, psnr255] = [metric("mse"), metric("mae"), metric("psnr"), metric("psnr", { max: 255 })];
    for (const m of [mse, mae, psnr, psnr255]) m.add(p, t);
    expect(mse.result()).toBeCloseTo(0.125, 12);
    expect(mae.result()).toBeCloseTo(0.25, 12);
    expect(psnr.result()).toBeCloseTo(10 * Math.log10(1 / 0.125), 10);
    expect(psnr255.result()).toBeCloseTo(10 * Math.log10(255 ** 2 / 0.125), 10);
  });

  it("added batch by batch is the same as the whole split at once", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 1000 }), (classes, batches, seed) => {
        const total = batches.reduce((a, b) => a + b, 0);
        let x = seed;
        const next = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 4 - 2;
        const scores = Float32Array.from({ length: total * classes }, next);
        const ids = Int32Array.from({ length: total }, () => Math.floor(((next() + 2) / 4) * classes) % classes);
        for (const name of ["accuracy", "perplexity", "mse", "mae"]) {
          const [whole, parts] = [metric(name), metric(name)];
          const target = name === "mse" || name === "mae" ? Float32Array.from(scores, (v) => v * 0.5) : ids;
          whole.add(scores, target);
          let begin = 0;
          for (const n of batches) {
            const per = target.length / total;
            parts.add(scores.subarray(begin * classes, (begin + n) * classes), target.subarray(begin * per, (begin + n) * per));
            begin += n;
          }
          expect(parts.result()).toBeCloseTo(whole.result(), 9);
        }
      }),
      { numRuns: 50 },
    );
  });
});
