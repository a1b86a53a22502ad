/**
 * Gradients through the augmentations of `augment` (spec/views.md) against
 * central finite differences: views of a value a part computes, so the
 * gradient flows through the crop's bilinear resampling, the jitter's
 * factors and clamps, grayscale and the blur, with every draw fixed by the
 * seed and step. Random options and image sizes (fast-check).
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { feedsFor, lowerSrc } from "../lower/harness.js";
import { checkLoweredGradients, expectGradientsMatch } from "./helpers.js";

const options = fc.record({
  crop: fc.constantFrom(1, 0.5, 0.2),
  jitter: fc.constantFrom(0, 0.3),
  grayscale: fc.constantFrom(0, 0.5, 1),
  blur: fc.constantFrom(0, 0.7, 2),
  side: fc.integer({ min: 2, max: 5 }),
  channels: fc.constantFrom(1, 3),
});

describe("augmentations: gradients against finite differences", () => {
  it("views of a computed image, with random options and sizes", () => {
    let compared = 0;
    fc.assert(
      fc.property(options, (o) => {
        const [c, s] = [o.channels, o.side];
        const src = `model V {
  input x: f32[${c * s * s}]
  part p = dense(${c * s * s}) -> sigmoid -> reshape(shape: [${c}, ${s}, ${s}])
  views a, b = augment(p(x), crop: ${o.crop}, jitter: ${o.jitter}, grayscale: ${o.grayscale}, blur: ${o.blur})
  loss l = mse(a, b * 0.5) + mean(a * a)
}
`;
        const lowered = lowerSrc(src, { batch: 3, prediction: false });
        const report = checkLoweredGradients(lowered, feedsFor(lowered), 4, 9);
        // The jitter's clamps are kinks; a case may skip every coordinate it samples.
        if (report.checked.length > 0) expectGradientsMatch(report);
        compared += report.checked.length;
      }),
      { numRuns: 24, seed: 7 },
    );
    expect(compared).toBeGreaterThan(100);
  });
});
