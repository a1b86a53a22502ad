/**
 * Weights must be finite. A NaN or an infinity in a checkpoint poisons every
 * output and every later update without a word, so loading refuses it,
 * naming the tensor and the first bad element.
 */

/** The flat index of the first NaN or infinity in `data`, or null when every element is finite. */
export function firstNonFinite(data: ArrayLike<number>): number | null {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return null;
}

/** The position of flat element `index` in a row-major tensor of `shape`, as `[i, j, ...]`. */
export function positionOf(index: number, shape: readonly number[]): string {
  const at: number[] = [];
  let rest = index;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const d = shape[axis]!;
    at.unshift(d === 0 ? 0 : rest % d);
    rest = d === 0 ? 0 : Math.floor(rest / d);
  }
  return `[${at.join(", ")}]`;
}

/**
 * Why a float tensor cannot be loaded as weights — `holds NaN at element 12
 * ([0, 12]); weights must be finite` — or null when every element is finite.
 */
export function nonFiniteProblem(shape: readonly number[], data: ArrayLike<number>): string | null {
  const bad = firstNonFinite(data);
  if (bad === null) return null;
  return `holds ${data[bad]} at element ${bad} (${positionOf(bad, shape)}); weights must be finite`;
}
