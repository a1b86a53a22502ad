/**
 * The random resized crop, colour jitter, grayscale and Gaussian blur of
 * `augment` (spec/views.md) against pixel-by-pixel computations from the
 * shared generator's numbers, each view from its own streams; and the crop's
 * integer draws against their definition over many examples.
 */
import { describe, expect, it } from "vitest";
import { quantizeProbability, streamOf, uniformAt } from "../../runtime/rng/index.js";
import { evaluate } from "../../runtime/backends/reference/evaluate.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { cropBox, smallestSide, uniformBits } from "../../compiler/lower/views-crop.js";
import { reflect } from "../../compiler/lower/views-colour.js";
import { at, expectClose, feedsFor, lowerSrc, runLowered, type T } from "./harness.js";

/** Both views of `augment(image, <options>)` on a [2, C, H, W] batch, and the image fed. */
function views(options: string, shape: string): { a: T; b: T; x: T } {
  const src = `model V {\n  input image: f32[${shape}]\n  views a, b = augment(image, ${options})\n  let first = a\n  let second = b\n  loss l = mse(a, b)\n}\n`;
  const lowered = lowerSrc(src, { values: ["first", "second"], prediction: false });
  // Pixels in [0, 1], as images are.
  const feeds = feedsFor(lowered);
  const x = { shape: feeds["image"]!.shape, data: feeds["image"]!.data.map((v) => (v + 1) / 2) };
  const out = runLowered(lowered, { ...feeds, image: x });
  return { a: out["value/first"]!, b: out["value/second"]!, x };
}

/** Element `index` of view `view`'s stream `what` (seed 5, step 3, as the harness feeds). */
const u = (view: string, what: string, index: number) => uniformAt(5, streamOf("view", `${view}.${what}`), index, 3);
const dims = (x: T) => x.shape as [number, number, number, number];
const gray = (x: T, b: number, i: number, j: number) =>
  x.shape[1] === 1 ? at(x, b, 0, i, j) : 0.299 * at(x, b, 0, i, j) + 0.587 * at(x, b, 1, i, j) + 0.114 * at(x, b, 2, i, j);
const clamp01 = (v: number) => Math.min(Math.max(v, 0), 1);

/** An integer uniform on 0..n−1 from a uniform, as the crop draws it. */
const below = (v: number, n: number) => Math.floor((Math.floor((v * 2 ** 24) / 4096) * n) / 4096);

/** The crop of view `view`, pixel by pixel. */
function naiveCrop(x: T, view: string, c: number): number[] {
  const [batch, channels, h, w] = dims(x);
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const box = (size: number, side: number, start: number) => {
      const least = smallestSide(c, size);
      const s = least + below(u(view, "crop", 4 * b + side), size - least + 1);
      return { side: s, start: below(u(view, "crop", 4 * b + start), size - s + 1) };
    };
    const [rows, cols] = [box(h, 0, 2), box(w, 1, 3)];
    // Position i of the output reads the box at start + (i + ½)·side/size − ½, clamped to the box.
    const taps = (i: number, size: number, bx: { side: number; start: number }) => {
      const src = Math.min(Math.max(bx.start + ((i + 0.5) * bx.side) / size - 0.5, bx.start), bx.start + bx.side - 1);
      const lo = Math.floor(src + 1e-12);
      return [lo, Math.min(lo + 1, bx.start + bx.side - 1), src - lo] as const;
    };
    for (let ch = 0; ch < channels; ch++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++) {
          const [y0, y1, fy] = taps(i, h, rows);
          const [x0, x1, fx] = taps(j, w, cols);
          const v = (yy: number, xx: number) => at(x, b, ch, yy, xx);
          out.push((v(y0, x0) * (1 - fx) + v(y0, x1) * fx) * (1 - fy) + (v(y1, x0) * (1 - fx) + v(y1, x1) * fx) * fy);
        }
  }
  return out;
}

/** Colour jitter of view `view`: brightness, contrast, saturation, each clamped. */
function naiveJitter(x: T, view: string, s: number): number[] {
  const [batch, channels, h, w] = dims(x);
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const f = (k: number) => 1 - s + 2 * s * u(view, "jitter", 3 * b + k);
    let img = { shape: [1, channels, h, w], data: x.data.slice(b * channels * h * w, (b + 1) * channels * h * w).map((v) => clamp01(v * f(0))) };
    let m = 0;
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) m += gray(img, 0, i, j) / (h * w);
    img = { ...img, data: img.data.map((v) => clamp01((v - m) * f(1) + m)) };
    const sat = img.data.map((v, n) => {
      const [i, j] = [Math.floor(n / w) % h, n % w];
      const g = gray(img, 0, i, j);
      return clamp01((v - g) * f(2) + g);
    });
    out.push(...sat);
  }
  return out;
}

/** A Gaussian blur of view `view`: σ in [blur/20, blur), reflected borders, rows then columns. */
function naiveBlur(x: T, view: string, blur: number): number[] {
  const [batch, channels, h, w] = dims(x);
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const sigma = blur * (0.05 + 0.95 * u(view, "blur", b));
    const weights = (r: number) => {
      const e = Array.from({ length: 2 * r + 1 }, (_, k) => Math.exp(-((k - r) ** 2) / (2 * sigma * sigma)));
      const total = e.reduce((p, q) => p + q, 0);
      return e.map((v) => v / total);
    };
    const [rh, rw] = [Math.min(Math.ceil(3 * blur), h - 1), Math.min(Math.ceil(3 * blur), w - 1)];
    const [wh, ww] = [weights(rh), weights(rw)];
    for (let ch = 0; ch < channels; ch++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++) {
          let v = 0;
          for (let p = -rh; p <= rh; p++) for (let q = -rw; q <= rw; q++) v += wh[p + rh]! * ww[q + rw]! * at(x, b, ch, reflect(i + p, h), reflect(j + q, w));
          out.push(v);
        }
  }
  return out;
}

describe("augment: random resized crop", () => {
  it("each view crops its own box and resizes it back bilinearly", () => {
    const { a, b, x } = views("crop: 0.5", "2, 6, 7");
    expect(a.shape).toEqual([2, 2, 6, 7]);
    expectClose(a.data, naiveCrop(x, "a", 0.5), 1e-12);
    expectClose(b.data, naiveCrop(x, "b", 0.5), 1e-12);
    expect(a.data).not.toEqual(b.data);
  });

  it("crop: 1 keeps the image", () => {
    const { a, x } = views("crop: 1, noise: 0", "1, 4, 4");
    expect(a.data).toEqual(x.data);
  });

  it("draws every side and start of its range, from 24 uniform bits, the same as the definition", () => {
    const b = new IRBuilder();
    const n = 4000;
    const uniforms = b.uniform([n, 2], { seed: b.input("seed", [], "i32"), step: b.input("step", [], "i32"), stream: 7 });
    const k = uniformBits(b, uniforms);
    const col = (j: number) => b.reshape(b.sliceAxis(k, 1, j, j + 1), [n]);
    const box = cropBox(b, col(0), col(1), 10, 0.35);
    const values = evaluate([uniforms, box.side, box.start], { seed: { shape: [], data: [1] }, step: { shape: [], data: [0] } });
    const [us, sides, starts] = [values.get(uniforms)!.data, values.get(box.side)!.data, values.get(box.start)!.data];
    const seen = new Set<string>();
    for (let e = 0; e < n; e++) {
      const side = 4 + below(us[2 * e]!, 7);
      expect(sides[e]).toBe(side);
      expect(starts[e]).toBe(below(us[2 * e + 1]!, 10 - side + 1));
      seen.add(`${side},${starts[e]}`);
    }
    // Sides 4..10, and every start 0..10 − side: 49 boxes in all.
    expect(seen.size).toBe([4, 5, 6, 7, 8, 9, 10].reduce((s, side) => s + 11 - side, 0));
  });
});

describe("augment: colour", () => {
  it("jitter: brightness, contrast and saturation of an RGB image, each view its own factors", () => {
    const { a, b, x } = views("jitter: 0.4", "3, 4, 5");
    expectClose(a.data, naiveJitter(x, "a", 0.4), 1e-12);
    expectClose(b.data, naiveJitter(x, "b", 0.4), 1e-12);
  });

  it("jitter on a gray image: saturation changes nothing", () => {
    const { a, x } = views("jitter: 0.8", "1, 3, 3");
    expectClose(a.data, naiveJitter(x, "a", 0.8), 1e-12);
  });

  it("grayscale: with its probability, every channel becomes the luminance", () => {
    const { a, x } = views("grayscale: 0.5", "3, 2, 2");
    const expected = [0, 1].flatMap((b) => {
      const turned = u("a", "grayscale", b) < quantizeProbability(0.5);
      return [0, 1, 2].flatMap((ch) => [0, 1].flatMap((i) => [0, 1].map((j) => (turned ? gray(x, b, i, j) : at(x, b, ch, i, j)))));
    });
    expectClose(a.data, expected, 1e-12);
    const always = views("grayscale: 1", "3, 2, 2");
    expectClose(always.a.data.slice(0, 4), always.a.data.slice(4, 8), 1e-12);
  });

  it("blur: a Gaussian of σ in [blur/20, blur), reflected at the borders", () => {
    const { a, b, x } = views("blur: 1.2", "2, 5, 6");
    expectClose(a.data, naiveBlur(x, "a", 1.2), 1e-12);
    expectClose(b.data, naiveBlur(x, "b", 1.2), 1e-12);
    // The kernel is cut at the image: a radius of 4 on a side of 5.
    expectClose(views("blur: 3", "1, 5, 3").a.data, naiveBlur(views("blur: 3", "1, 5, 3").x, "a", 3), 1e-12);
  });

  it("all of them in order: crop, shift, flip, jitter, grayscale, blur, channel drop, noise", () => {
    const { a } = views("crop: 0.6, shift: 1, flip: true, jitter: 0.3, grayscale: 0.2, blur: 0.8, channel_drop: 0.1, noise: 0.05", "3, 8, 8");
    expect(a.shape).toEqual([2, 3, 8, 8]);
    expect(a.data.every(Number.isFinite)).toBe(true);
  });
});
