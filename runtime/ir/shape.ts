/**
 * Shape arithmetic shared by the builder, the shape rules, the verifier and the
 * backends: element counts, row-major strides, NumPy broadcasting, formatting.
 */
import type { Shape } from "./ops.js";

/** The number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides: the distance in elements between neighbours along each axis. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** True when two shapes are identical. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** True when `d` is a valid dimension: a non-negative safe integer. */
export function isDim(d: unknown): d is number {
  return typeof d === "number" && Number.isSafeInteger(d) && d >= 0;
}

/**
 * The NumPy broadcast of shapes (right-aligned; a 1 stretches to match), or
 * null when they do not broadcast.
 */
export function broadcastShapes(...shapes: Shape[]): number[] | null {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i;
      const d = s[i]!;
      if (d === out[j] || d === 1) continue;
      if (out[j] === 1) out[j] = d;
      else return null;
    }
  }
  return out;
}

/** `[2, 3]`, as the printer and error messages show shapes. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/** Normalizes a possibly negative axis for a given rank, or returns null when out of range. */
export function normalizeAxis(axis: number, rank: number): number | null {
  if (!Number.isInteger(axis)) return null;
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : null;
}

/**
 * Calls `visit(flat, index)` for every element of `shape` in row-major order,
 * with `index` the multi-index (reused between calls: copy it to keep it).
 */
export function forEachIndex(shape: Shape, visit: (flat: number, index: readonly number[]) => void): void {
  const n = sizeOf(shape);
  if (n === 0) return;
  const index = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    visit(flat, index);
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++index[a]! < shape[a]!) break;
      index[a] = 0;
    }
  }
}
