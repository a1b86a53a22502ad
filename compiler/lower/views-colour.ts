/**
 * The photometric augmentations of `augment` (spec/views.md): colour jitter
 * (brightness, contrast, saturation, in that order, each clamped to [0, 1]),
 * grayscale, and a Gaussian blur with reflected borders. Images are
 * [B, C, H, W] with C = 1 (gray) or 3 (RGB); gray is the luminance
 * 0.299 R + 0.587 G + 0.114 B, as PNG folders read it (spec/data.md).
 *
 * Random numbers come from the caller's uniforms; the only decision,
 * grayscale or not, compares a uniform with a quantized probability, so it
 * is the same on every backend. Factors and standard deviations are
 * continuous functions of the uniforms.
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { quantizeProbability } from "../../runtime/rng/index.js";

/** The gray of each pixel, [B, 1, H, W]: the luminance of RGB, or the one channel. */
export function luminance(b: IRBuilder, x: Node): Node {
  if (x.shape[1] === 1) return x;
  const channel = (c: number, weight: number): Node => b.mul(b.sliceAxis(x, 1, c, c + 1), weight);
  return b.add(b.add(channel(0, 0.299), channel(1, 0.587)), channel(2, 0.114));
}

const unit = (b: IRBuilder, x: Node): Node => b.maximum(b.minimum(x, 1), 0);

/** A per-example factor [B, 1, 1, 1] uniform in [1 − j, 1 + j] from uniforms u [B]. */
function factor(b: IRBuilder, u: Node, j: number): Node {
  return b.reshape(b.add(b.mul(u, 2 * j), 1 - j), [u.shape[0]!, 1, 1, 1]);
}

/**
 * Colour jitter with strength `j` from three uniforms per example (f32 [B, 3]):
 * brightness x·f₁; contrast (x − m)·f₂ + m with m the image's mean gray;
 * saturation (x − g)·f₃ + g with g each pixel's gray. Each step is clamped to [0, 1].
 */
export function colourJitter(b: IRBuilder, x: Node, u: Node, j: number): Node {
  const batch = x.shape[0]!;
  const f = (k: number): Node => factor(b, b.reshape(b.sliceAxis(u, 1, k, k + 1), [batch]), j);
  let y = unit(b, b.mul(x, f(0)));
  const m = b.mean(luminance(b, y), [1, 2, 3], true);
  y = unit(b, b.add(b.mul(b.sub(y, m), f(1)), m));
  const g = luminance(b, y);
  return unit(b, b.add(b.mul(b.sub(y, g), f(2)), g));
}

/** With probability p per example (uniforms u [B]), every channel becomes the pixel's gray. */
export function randomGrayscale(b: IRBuilder, x: Node, u: Node, p: number): Node {
  const gray = b.broadcastTo(luminance(b, x), x.shape);
  return b.where(b.reshape(b.cmplt(u, quantizeProbability(p)), [x.shape[0]!, 1, 1, 1]), gray, x);
}

/** The radius of the blur's kernel along an axis of `size` pixels: 3 standard deviations, at most size − 1 (reflection needs it). */
export function blurRadius(blur: number, size: number): number {
  return Math.max(0, Math.min(Math.ceil(3 * blur), size - 1));
}

/** Index i + k reflected into 0..size−1 (PyTorch's `reflect` padding, without repeating the edge), for |k| < size. */
export function reflect(i: number, size: number): number {
  return i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i;
}

/** Σₖ wₖ · x[reflect(i + k)] along `axis` (2 or 3), wₖ per example [B, 2R + 1]. */
function convolveAxis(b: IRBuilder, x: Node, weights: Node, radius: number, axis: 2 | 3): Node {
  const size = x.shape[axis]!;
  const batch = x.shape[0]!;
  let sum: Node | null = null;
  for (let k = -radius; k <= radius; k++) {
    const index = Array.from({ length: size }, (_, i) => reflect(i + k, size));
    const lifted = b.broadcastTo(b.reshape(b.literal(index, [size], "i32"), axis === 2 ? [1, 1, size, 1] : [1, 1, 1, size]), x.shape);
    const w = b.reshape(b.sliceAxis(weights, 1, k + radius, k + radius + 1), [batch, 1, 1, 1]);
    const term = b.mul(b.gather(x, lifted, axis), w);
    sum = sum === null ? term : b.add(sum, term);
  }
  return sum!;
}

/** Normalized Gaussian weights exp(−k²/(2σ²)) for k = −R..R, σ per example ([B]): [B, 2R + 1]. */
function gaussian(b: IRBuilder, sigma: Node, radius: number): Node {
  const batch = sigma.shape[0]!;
  const k = Array.from({ length: 2 * radius + 1 }, (_, i) => -((i - radius) ** 2) / 2);
  const s = b.reshape(sigma, [batch, 1]);
  const e = b.exp(b.div(b.literal(k, [1, 2 * radius + 1]), b.mul(s, s)));
  return b.div(e, b.sum(e, 1, true));
}

/**
 * A Gaussian blur of x [B, C, H, W] with σ uniform in [blur/20, blur) per
 * example (uniforms u [B]), separable (rows, then columns), reflected at the
 * borders, the kernel cut at ±3·blur pixels.
 */
export function gaussianBlur(b: IRBuilder, x: Node, u: Node, blur: number): Node {
  const sigma = b.mul(b.add(b.mul(u, 0.95), 0.05), blur);
  const [rh, rw] = [blurRadius(blur, x.shape[2]!), blurRadius(blur, x.shape[3]!)];
  const rows = rh > 0 ? convolveAxis(b, x, gaussian(b, sigma, rh), rh, 2) : x;
  return rw > 0 ? convolveAxis(b, rows, gaussian(b, sigma, rw), rw, 3) : rows;
}
