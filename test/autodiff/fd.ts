/**
 * Finite-difference checking of autodiff on the reference backend (float64).
 *
 * The numerical derivative uses the fourth-order central stencil
 * (−f(x+2h) + 8f(x+h) − 8f(x−h) + f(x−2h)) / 12h with h = 1e-4: its
 * truncation error (~h⁴) and rounding error (~ε/h) are both far below the
 * 1e-6 relative tolerance, as long as no kink lies within 2h of the point.
 */
import { evaluate, type Feed } from "../../runtime/backends/reference/evaluate.js";
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { grad } from "../../compiler/autodiff/grad.js";

/** The step of the finite differences. */
export const FD_STEP = 1e-4;

/** A comparison of autodiff against finite differences. */
export interface GradCheck {
  /** The largest |autodiff − finite difference| over all elements of all gradients. */
  readonly maxError: number;
  /** The scale errors are measured against: max(1, largest |finite difference|). */
  readonly scale: number;
  /** The worst element, for messages. */
  readonly worst: string;
}

/** Deterministic numbers in [0, 1) (mulberry32), so test data needs no fixtures. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The name of an input or param leaf. */
function leafName(node: Node): string {
  if (node.op !== "input" && node.op !== "param") throw new Error(`fd: %${node.id} (${node.op}) is not an input or param`);
  return node.attrs.name;
}

/** Central finite-difference gradient of the scalar `loss` with respect to the leaf `leaf`. */
export function fdGradient(loss: Node, leaf: Node, feeds: Readonly<Record<string, Feed>>): Float64Array {
  const name = leafName(leaf);
  const x = Float64Array.from(feeds[name]!.data);
  const at = (j: number, delta: number): number => {
    const data = x.slice();
    data[j]! += delta;
    return evaluate([loss], { ...feeds, [name]: { shape: leaf.shape, data } }).get(loss)!.data[0]!;
  };
  const h = FD_STEP;
  return x.map((_, j) => (-at(j, 2 * h) + 8 * at(j, h) - 8 * at(j, -h) + at(j, -2 * h)) / (12 * h));
}

/**
 * Differentiates `loss` with respect to the leaves `wrt` with `grad`, and
 * compares every element with finite differences.
 */
export function checkGradients(b: IRBuilder, loss: Node, wrt: readonly Node[], feeds: Readonly<Record<string, Feed>>): GradCheck {
  const grads = grad(b, loss, wrt);
  const values = evaluate(grads, feeds);
  let maxError = 0;
  let scale = 1;
  let worst = "none";
  wrt.forEach((w, k) => {
    const ad = values.get(grads[k]!)!.data;
    const fd = fdGradient(loss, w, feeds);
    fd.forEach((f, j) => {
      scale = Math.max(scale, Math.abs(f));
      const e = Math.abs(ad[j]! - f);
      if (!(e <= maxError)) {
        maxError = Number.isNaN(e) ? Infinity : e;
        worst = `${leafName(w)}[${j}]: autodiff ${ad[j]}, finite difference ${f}`;
      }
    });
  });
  return { maxError, scale, worst };
}

/** Random feeds for the leaves: uniform in [lo, hi). */
export function randomFeeds(leaves: readonly Node[], next: () => number, lo = -2, hi = 2): Record<string, Feed> {
  return Object.fromEntries(
    leaves.map((l) => [leafName(l), { shape: l.shape, data: Array.from({ length: l.shape.reduce((a, d) => a * d, 1) }, () => lo + (hi - lo) * next()) }]),
  );
}

/** sum(x · R) for fixed random weights R: a scalar loss whose cotangent is not all ones. */
export function weightedSum(b: IRBuilder, x: Node, next: () => number): Node {
  const n = x.shape.reduce((a, d) => a * d, 1);
  const weights = b.literal(
    Array.from({ length: n }, () => Math.round((next() * 2 - 1) * 1000) / 1000),
    x.shape,
  );
  return b.sum(b.mul(x, weights));
}
