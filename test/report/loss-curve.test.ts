import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { lossCurvePng, seriesColor, SMOOTHING_THRESHOLD, type LossSeries } from "../../cli/report/loss-curve.js";
import { decode, key, type Picture } from "./picture.js";

const legendFrame = key([160, 160, 160]);

/** Pixels of a colour inside the plot, that is left of the legend box (which sits to the right of the plot). */
function plotPixels(picture: Picture, rgb: readonly number[]): [number, number][] {
  const legend = picture.bounds((c) => c === legendFrame);
  const limit = legend ? legend.x0 : picture.width;
  return picture.where(rgb).filter(([x]) => x < limit);
}

/** The mean row of a colour's pixels in a column band, or NaN if it has none there. */
function meanRow(pixels: readonly [number, number][], x0: number, x1: number): number {
  const ys = pixels.filter(([x]) => x >= x0 && x < x1).map(([, y]) => y);
  return ys.reduce((a, b) => a + b, 0) / ys.length;
}

const decay = (n: number, from = 0, scale = 1): LossSeries["points"] =>
  Array.from({ length: n }, (_, i) => ({ step: from + i, loss: scale * Math.exp(-i / (n / 3)) + 0.1 }));

describe("lossCurvePng", () => {
  it("has the default size, or the size asked for", () => {
    const p = decode(lossCurvePng([{ name: "pretrain", points: decay(20) }]));
    expect([p.width, p.height]).toEqual([800, 480]);
    const q = decode(lossCurvePng([{ name: "pretrain", points: decay(20) }], { width: 321, height: 123 }));
    expect([q.width, q.height]).toEqual([321, 123]);
  });

  it("draws a falling loss falling, in the series colour", () => {
    const p = decode(lossCurvePng([{ name: "pretrain", points: decay(40) }]));
    const pixels = plotPixels(p, seriesColor(0));
    expect(pixels.length).toBeGreaterThan(200);
    const span = p.width;
    // Rows grow downwards: a falling loss has larger rows on the right.
    expect(meanRow(pixels, span * 0.1, span * 0.2)).toBeLessThan(meanRow(pixels, span * 0.5, span * 0.6));
    expect(meanRow(pixels, span * 0.5, span * 0.6)).toBeLessThan(meanRow(pixels, span * 0.75, span * 0.85));
  });

  it("gives each phase its own colour at its own steps, with a legend", () => {
    const p = decode(
      lossCurvePng([
        { name: "pretrain", points: decay(30, 0) },
        { name: "adapt", points: decay(30, 30, 0.5) },
      ]),
    );
    const first = plotPixels(p, seriesColor(0));
    const second = plotPixels(p, seriesColor(1));
    expect(first.length).toBeGreaterThan(100);
    expect(second.length).toBeGreaterThan(100);
    // Step 29→30 is the boundary: the first series ends where the second starts.
    expect(Math.max(...first.map(([x]) => x))).toBeLessThanOrEqual(Math.min(...second.map(([x]) => x)) + 1);
    // The legend shows a swatch of each colour.
    const legend = p.bounds((c) => c === legendFrame)!;
    const inLegend = (rgb: readonly number[]): number => p.where(rgb).filter(([x]) => x > legend.x0).length;
    expect(inLegend(seriesColor(0))).toBe(16 * 3);
    expect(inLegend(seriesColor(1))).toBe(16 * 3);
  });

  it("skips non-finite points as if they were not there", () => {
    const clean = decay(30);
    const dirty = [...clean.slice(0, 10), { step: 10.5, loss: Number.NaN }, { step: Number.POSITIVE_INFINITY, loss: 1 }, { step: 11.5, loss: Number.POSITIVE_INFINITY }, ...clean.slice(10)];
    expect(lossCurvePng([{ name: "pretrain", points: dirty }]).equals(lossCurvePng([{ name: "pretrain", points: clean }]))).toBe(true);
  });

  it("sorts points by step", () => {
    const points = decay(30);
    const shuffled = [...points.slice(15), ...points.slice(0, 15)];
    expect(lossCurvePng([{ name: "p", points: shuffled }]).equals(lossCurvePng([{ name: "p", points }]))).toBe(true);
  });

  it("uses a log axis when the loss spans more than two decades, so exponential decay is straight", () => {
    // 10^(1 - 4·i/99): from 10 down to 0.001, a straight line on a log axis.
    const points = Array.from({ length: 100 }, (_, i) => ({ step: i, loss: 10 ** (1 - (4 * i) / 99) }));
    const rowsAt = (png: Buffer): number[] => {
      const p = decode(png);
      const pixels = plotPixels(p, seriesColor(0));
      const xs = pixels.map(([x]) => x);
      const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
      return [0.25, 0.5, 0.75].map((f) => meanRow(pixels, lo + f * (hi - lo) - 2, lo + f * (hi - lo) + 3));
    };
    const [a, b, c] = rowsAt(lossCurvePng([{ name: "p", points }]));
    expect(Math.abs(b! - a! - (c! - b!))).toBeLessThan(3);
    // Forced linear, the same data bends: most of the drop happens in the first quarter.
    const [la, lb, lc] = rowsAt(lossCurvePng([{ name: "p", points }], { logY: false }));
    expect(lb! - la!).toBeGreaterThan(3 * (lc! - lb! + 1));
    // And a narrow range stays linear unless asked: a linear ramp is then straight.
    const ramp = Array.from({ length: 100 }, (_, i) => ({ step: i, loss: 2 - i / 99 }));
    const [ra, rb, rc] = rowsAt(lossCurvePng([{ name: "p", points: ramp }]));
    expect(Math.abs(rb! - ra! - (rc! - rb!))).toBeLessThan(3);
  });

  it("leaves out losses that a log axis cannot show", () => {
    const points = decay(30);
    const withZero = [...points, { step: 30, loss: 0 }, { step: 31, loss: -1 }];
    expect(lossCurvePng([{ name: "p", points: withZero }], { logY: true }).equals(lossCurvePng([{ name: "p", points }], { logY: true }))).toBe(true);
  });

  it("draws many noisy points pale with a smoothed line over them", () => {
    const noisy = Array.from({ length: 400 }, (_, i) => ({ step: i, loss: 1 + (i % 2 === 0 ? 0.3 : -0.3) }));
    const p = decode(lossCurvePng([{ name: "p", points: noisy }]));
    const pale = seriesColor(0).map((c) => Math.round(255 - (255 - c) * 0.35));
    const raw = plotPixels(p, pale);
    const smooth = plotPixels(p, seriesColor(0));
    expect(raw.length).toBeGreaterThan(500);
    // The average of ±0.3 noise is flat: the smoothed line, once settled, spans few rows while the raw zigzag spans many.
    const settled = smooth.filter(([x]) => x > p.width * 0.4);
    const rows = (px: readonly [number, number][]): number => Math.max(...px.map(([, y]) => y)) - Math.min(...px.map(([, y]) => y));
    expect(rows(settled)).toBeLessThan(rows(raw) / 4);
    // Few points are drawn as they are, with no pale copy.
    const few = decode(lossCurvePng([{ name: "p", points: noisy.slice(0, SMOOTHING_THRESHOLD) }]));
    expect(plotPixels(few, pale)).toEqual([]);
  });

  it("draws a single point as a dot", () => {
    const p = decode(lossCurvePng([{ name: "p", points: [{ step: 3, loss: 0.5 }] }]));
    const dot = plotPixels(p, seriesColor(0));
    expect(dot).toHaveLength(25);
    const xs = dot.map(([x]) => x);
    const ys = dot.map(([, y]) => y);
    expect([Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)]).toEqual([4, 4]);
  });

  it("still draws axes and a title when there is nothing to plot", () => {
    for (const series of [[], [{ name: "pretrain", points: [] }]]) {
      const p = decode(lossCurvePng(series, { title: "empty" }));
      expect([p.width, p.height]).toEqual([800, 480]);
      expect(p.where([0, 0, 0]).length).toBeGreaterThan(500);
      expect(plotPixels(p, seriesColor(0))).toEqual([]);
    }
  });

  it("copes with a long run", () => {
    const points = Array.from({ length: 200_000 }, (_, i) => ({ step: i, loss: 1 / (1 + i) }));
    const p = decode(lossCurvePng([{ name: "pretrain", points }]));
    expect(plotPixels(p, seriesColor(0)).length).toBeGreaterThan(500);
  });

  it("draws a valid picture of the asked size for any data", () => {
    const point = fc.record({ step: fc.double(), loss: fc.double() });
    const series = fc.array(fc.record({ name: fc.string({ maxLength: 12 }), points: fc.array(point, { maxLength: 20 }) }), { maxLength: 4 });
    fc.assert(
      fc.property(series, fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 200 }), fc.option(fc.boolean(), { nil: undefined }), (s, width, height, logY) => {
        const p = decode(lossCurvePng(s, { width, height, logY, title: "t" }));
        expect([p.width, p.height]).toEqual([width, height]);
      }),
      { numRuns: 60 },
    );
  });
});
