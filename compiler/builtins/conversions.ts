/**
 * The layer that turns one shape into another holding the same numbers, for
 * `help:` lines: 784 numbers against an image [1, 28, 28] want `reshape` (or
 * `flatten` the other way), 49 patches of 4x4 pixels against that image want
 * `unpatchify(size: 4)`.
 */
import { elementCount, formatDims, sameShape } from "../check/types.js";

/** The layer that makes `to` from `from`, or null when they differ in count (or not at all). */
export function conversion(from: readonly number[], to: readonly number[]): string | null {
  if (sameShape(from, to) || elementCount(from) !== elementCount(to)) return null;
  const patches = patchSize(from, to);
  if (patches !== null) return patches.channels === 1 ? `unpatchify(size: ${patches.size})` : `unpatchify(size: ${patches.size}, channels: ${patches.channels})`;
  const cut = patchSize(to, from);
  if (cut !== null) return `patchify(size: ${cut.size})`;
  if (to.length === 1) return "flatten";
  return `reshape(shape: ${formatDims(to)})`;
}

/** When `patches` [N, C·s·s] is a square grid of the image `image` [C, H, H] cut into s×s patches: s and C. */
function patchSize(patches: readonly number[], image: readonly number[]): { size: number; channels: number } | null {
  if (patches.length !== 2 || image.length !== 3 || image[1] !== image[2]) return null;
  const [n, p] = patches as [number, number];
  const [c, h] = image as [number, number, number];
  const side = Math.round(Math.sqrt(n));
  if (side * side !== n || h % side !== 0) return null;
  const s = h / side;
  return p === c * s * s ? { size: s, channels: c } : null;
}

/** The image a vector of `n` numbers most likely is: one square channel, [1, √n, √n]; null when n is not a square. */
export function squareImage(n: number): readonly number[] | null {
  const side = Math.round(Math.sqrt(n));
  return side > 1 && side * side === n ? [1, side, side] : null;
}
