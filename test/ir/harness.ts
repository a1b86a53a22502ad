/**
 * Shared helpers for IR tests: build one node with a fresh builder, run it on
 * the reference backend, and compare with hand-computed numbers.
 */
import { expect } from "vitest";
import { evaluate, type Feeds } from "../../runtime/backends/reference/evaluate.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";

/** Builds a node with a fresh builder and returns its reference value as plain arrays. */
export function evalWith(build: (b: IRBuilder) => Node, feeds: Feeds = {}): { shape: number[]; dtype: string; data: number[]; node: Node } {
  const b = new IRBuilder();
  const node = build(b);
  const value = evaluate([node], feeds).get(node)!;
  return { shape: [...value.shape], dtype: value.dtype, data: [...value.data], node };
}

/** Expects `actual` to equal `expected` elementwise within `tol` (absolute + relative). */
export function expectClose(actual: readonly number[], expected: readonly number[], tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (Number.isNaN(e)) expect(a).toBeNaN();
    else if (!Number.isFinite(e)) expect(a).toBe(e);
    else if (Math.abs(a - e) > tol * (1 + Math.abs(e))) expect.fail(`element ${i}: got ${a}, expected ${e}`);
  });
}

/** A feed of `data` in `shape`. */
export function feed(shape: number[], data: number[]): { shape: number[]; data: number[] } {
  return { shape, data };
}
