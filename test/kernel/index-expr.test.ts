/**
 * Index expressions (`runtime/kernel/index-expr.ts`) simplify as they are
 * built without changing their value at any coordinate within the bounds:
 * random expressions of sums, multiples, floor divisions and remainders
 * agree with plain integer arithmetic; and a reshape's coordinates flattened
 * again (k·⌊x/k⌋ + x mod k) come back affine.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { add, coord, evaluate, flatten, floorDiv, floorMod, isAffine, linear, scale, unflatten, type Expr } from "../../runtime/kernel/index-expr.js";

/** An expression and its value as a function of the coordinates, built the same way. */
type Built = { e: Expr; value: (c: readonly number[]) => number };

const floor = (y: number, k: number) => Math.floor(y / k);
const mod = (y: number, k: number) => y - Math.floor(y / k) * k;

function build(bounds: readonly number[], steps: readonly { op: number; a: number; k: number }[]): Built {
  const stack: Built[] = bounds.map((_, axis) => ({ e: coord(axis), value: (c) => c[axis]! }));
  for (const { op, a, k } of steps) {
    const x = stack[a % stack.length]!;
    const y = stack[(a * 7 + 3) % stack.length]!;
    if (op === 0) stack.push({ e: add(x.e, y.e), value: (c) => x.value(c) + y.value(c) });
    else if (op === 1) stack.push({ e: scale(x.e, k - 3), value: (c) => (k - 3) * x.value(c) });
    else if (op === 2) stack.push({ e: floorDiv(x.e, k, bounds), value: (c) => floor(x.value(c), k) });
    else if (op === 3) stack.push({ e: floorMod(x.e, k, bounds), value: (c) => mod(x.value(c), k) });
    // k·⌊x/k⌋ + x mod k, the pair a reshape leaves.
    else stack.push({ e: add(scale(floorDiv(x.e, k, bounds), k), floorMod(x.e, k, bounds)), value: (c) => x.value(c) });
  }
  return stack[stack.length - 1]!;
}

describe("index expressions", () => {
  it("keep their value at every coordinate within the bounds through every simplification", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.record({ op: fc.integer({ min: 0, max: 4 }), a: fc.nat(), k: fc.integer({ min: 1, max: 6 }) }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
        (bounds, steps, pick) => {
          const { e, value } = build(bounds, steps);
          const c = bounds.map((d, a) => pick[a]! % d);
          // + 0: a zero multiple of a negative value is −0 in JavaScript, 0 as an index.
          expect(evaluate(e, c) + 0).toBe(value(c) + 0);
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });

  it("flatten a reshape's unflattened coordinates back to an affine index (an image [B, 1, 28, 28] read as [B, 784])", () => {
    const bounds = [256, 784];
    const flat = flatten([coord(0), coord(1)], [256, 784]);
    const back = flatten(unflatten(flat, [256, 1, 28, 28], bounds), [256, 1, 28, 28]);
    expect(isAffine(back)).toBe(true);
    expect(back).toEqual(linear([coord(0), coord(1)], [784, 1]));
    // Only the exact pair folds: 2·28·⌊p/28⌋ + (p mod 28) keeps its division.
    const p = coord(1);
    const uneven = add(scale(floorDiv(p, 28, bounds), 56), floorMod(p, 28, bounds));
    expect(isAffine(uneven)).toBe(false);
    expect(evaluate(uneven, [0, 57])).toBe(2 * 28 * 2 + 1);
  });
});
