/**
 * The random resized crop of `augment(x, crop: c)` (spec/views.md): each view
 * of each example takes a box of h × w pixels, h uniform on the integers
 * ceil(c·H)..H and w on ceil(c·W)..W, at a uniform position inside the
 * image, and resizes it back to H × W by bilinear interpolation (pixel
 * centres aligned, as PyTorch's `align_corners=False`, clamped at the box).
 *
 * Every decision is integer arithmetic on a uniform's 24 bits, so it is the
 * same on every backend: k = u·2^24 is exact in float32 and float64, and an
 * integer uniform on 0..n−1 is ⌊⌊k / 2^12⌋·n / 2^12⌋. The sample positions are
 * integer numerators over 2H; only the interpolation weights are floats.
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";

/** The 24 bits of uniforms u (f32, multiples of 2^−24 in [0, 1)) as i32 integers in [0, 2^24). */
export function uniformBits(b: IRBuilder, u: Node): Node {
  return b.cast(b.mul(u, 2 ** 24), "i32");
}

/** An integer uniform on 0..n−1 (i32) from 24 uniform bits k (i32); n may be a per-example i32 tensor, at most 2^19. */
export function below(b: IRBuilder, k: Node, n: Node | number): Node {
  return b.div(b.mul(b.div(k, 4096), n), 4096);
}

/** The sides a crop of `c` draws from: ceil(c·size)..size, at least 1. */
export function smallestSide(c: number, size: number): number {
  return Math.min(size, Math.max(1, Math.ceil(c * size - 1e-9)));
}

/**
 * One axis of the crop: each example's box [start, start + side) along an
 * axis of `size` pixels, from two uniforms' bits (i32 [B]): the side, then
 * the start.
 */
export function cropBox(b: IRBuilder, kSide: Node, kStart: Node, size: number, c: number): { side: Node; start: Node } {
  const least = smallestSide(c, size);
  const side = b.add(below(b, kSide, size - least + 1), least);
  return { side, start: below(b, kStart, b.sub(size + 1, side)) };
}

/**
 * Bilinear resampling along `axis` (2 or 3) of x [B, C, H, W]: output pixel i
 * reads the box [start, start + side) at start + (i + ½)·side/size − ½,
 * clamped to the box, i.e. the numerator 2·size·start + (2i + 1)·side − size
 * over 2·size.
 */
export function resampleAxis(b: IRBuilder, x: Node, box: { side: Node; start: Node }, axis: 2 | 3): Node {
  const size = x.shape[axis]!;
  const batch = x.shape[0]!;
  const column = (t: Node): Node => b.reshape(t, [batch, 1]);
  const i = b.iota([batch, size], 1);
  const lowest = b.mul(column(box.start), 2 * size);
  const highest = b.mul(b.sub(b.add(column(box.start), column(box.side)), 1), 2 * size);
  const numerator = b.sub(b.add(lowest, b.mul(b.add(b.mul(i, 2), 1), column(box.side))), size);
  const clamped = b.minimum(b.maximum(numerator, lowest), highest);
  const lo = b.div(clamped, 2 * size);
  const hi = b.minimum(b.add(lo, 1), b.div(highest, 2 * size));
  // The weight of the upper neighbour: the remainder over 2·size, by a multiplication (exact in float32 on every backend).
  const weight = b.mul(b.cast(b.sub(clamped, b.mul(lo, 2 * size)), "f32"), 1 / (2 * size));
  const lifted = (t: Node): Node => b.broadcastTo(b.reshape(t, axis === 2 ? [batch, 1, size, 1] : [batch, 1, 1, size]), x.shape);
  const w = lifted(weight);
  return b.add(b.mul(b.gather(x, lifted(lo), axis), b.sub(1, w)), b.mul(b.gather(x, lifted(hi), axis), w));
}

/** The random resized crop of x [B, C, H, W], from four uniforms per example (f32 [B, 4]). */
export function randomResizedCrop(b: IRBuilder, x: Node, u: Node, c: number): Node {
  const batch = x.shape[0]!;
  const k = uniformBits(b, u);
  const column = (j: number): Node => b.reshape(b.sliceAxis(k, 1, j, j + 1), [batch]);
  const rows = cropBox(b, column(0), column(2), x.shape[2]!, c);
  const columns = cropBox(b, column(1), column(3), x.shape[3]!, c);
  return resampleAxis(b, resampleAxis(b, x, rows, 2), columns, 3);
}
