/**
 * Cotangents of a value cut into tiles (`compiler/autodiff/tile-pads.ts`):
 * where slices tile a value, its gradient is the pieces' gradients joined by
 * concats (no sum of zero pads), with the same values; anything else (slices
 * that overlap or leave a gap) is the sum it always was. Checked against
 * the gradient written out by hand, on the float64 reference. Strided slices
 * that interleave (a pool's windows at stride = size) are joined by a stack
 * and reshapes instead.
 */
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { convTranspose2d, pool } from "../../compiler/lower/layers-conv.js";
import { evaluate } from "../../runtime/backends/reference/evaluate.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { topoSort, type Node } from "../../runtime/ir/node.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { numbers } from "../cpu/compare.js";

/** The ops of the nodes computing `g` that the forward value `x` does not already need. */
function gradientOps(g: Node, forward: readonly Node[]): string[] {
  const before = new Set(topoSort(forward));
  return topoSort([g]).filter((n) => !before.has(n)).map((n) => n.op);
}

/** x [2, 3, 4, 5] cut by `boxes` (start and size per axis), each piece scaled by its own factor; the gradient of the sum. */
function cut(boxes: readonly { start: number[]; size: number[] }[]) {
  const b = new IRBuilder();
  const shape = [2, 3, 4, 5];
  const x = b.input("x", shape);
  const pieces = boxes.map((box, i) => b.mul(b.slice(x, box.start, box.start.map((s, a) => s + box.size[a]!)), i + 2));
  const loss = pieces.map((p) => b.sum(p)).reduce((s, p) => b.add(s, p));
  const [dx] = grad(b, loss, [x]);
  // By hand: each element's factor summed over the boxes holding it.
  const want = new Float64Array(sizeOf(shape));
  for (let i = 0; i < want.length; i++) {
    const c = [Math.floor(i / 60), Math.floor(i / 20) % 3, Math.floor(i / 5) % 4, i % 5];
    boxes.forEach((box, k) => {
      if (c.every((v, a) => v >= box.start[a]! && v < box.start[a]! + box.size[a]!)) want[i] += k + 2;
    });
  }
  const got = evaluate([dx!], { x: { shape, data: numbers(sizeOf(shape), 3) } }).get(dx!)!.data;
  return { ops: gradientOps(dx!, [loss]), got: [...got], want: [...want] };
}

describe("cotangents of tiled slices", () => {
  it("joins the gradients of slices tiling a value (a 2 × 2 grid over axes 1 and 3) with concats, not sums of pads", () => {
    const boxes = [0, 1].flatMap((i) => [0, 1].map((j) => ({ start: [0, i === 0 ? 0 : 1, 0, j === 0 ? 0 : 2], size: [2, i === 0 ? 1 : 2, 4, j === 0 ? 2 : 3] })));
    const { ops, got, want } = cut(boxes);
    expect(got).toEqual(want);
    expect(ops).toContain("concat");
    expect(ops).not.toContain("pad");
    expect(ops.filter((o) => o === "add")).toEqual([]);
  });

  it("sums pads as before where slices overlap or leave a gap", () => {
    const overlap = cut([
      { start: [0, 0, 0, 0], size: [2, 2, 4, 5] },
      { start: [0, 1, 0, 0], size: [2, 2, 4, 5] },
    ]);
    expect(overlap.got).toEqual(overlap.want);
    expect(overlap.ops).not.toContain("concat");
    expect(overlap.ops).toContain("add");
    const gap = cut([
      { start: [0, 0, 0, 0], size: [2, 1, 4, 5] },
      { start: [0, 2, 0, 0], size: [2, 1, 4, 5] },
    ]);
    expect(gap.got).toEqual(gap.want);
    expect(gap.ops).not.toContain("concat");
  });

  it("makes a transposed convolution's image gradient read the output gradient's windows through views, summing no pads", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 3, 5, 4]);
    const w = b.input("w", [3, 4, 3, 3]);
    const y = convTranspose2d(b, x, w, 2, "same");
    const loss = b.sum(b.mul(y, b.input("dy", y.shape)));
    const [dx] = grad(b, loss, [x]);
    const ops = gradientOps(dx!, [y]);
    expect(ops).toContain("concat");
    expect(ops).not.toContain("add");
  });

  /** x [2, 3, 6, 4] cut by the strided slices at `phases` (start per axis, steps s on axes 2 and 3), each scaled by its own factor. */
  function strided(phases: readonly [number, number][], s: number, shape = [2, 3, 6, 4]) {
    const b = new IRBuilder();
    const x = b.input("x", shape);
    const pieces = phases.map(([p, q], i) => b.mul(b.slice(x, [0, 0, p, q], [shape[0]!, shape[1]!, shape[2]! - (s - 1 - p), shape[3]! - (s - 1 - q)], [1, 1, s, s]), i + 2));
    const loss = pieces.map((p) => b.sum(p)).reduce((t, p) => b.add(t, p));
    const [dx] = grad(b, loss, [x]);
    const want = new Float64Array(sizeOf(shape));
    for (let i = 0; i < want.length; i++) {
      const [y, z] = [Math.floor(i / shape[3]!) % shape[2]!, i % shape[3]!];
      phases.forEach(([p, q], k) => {
        if (y % s === p && z % s === q && y < shape[2]! - (s - 1 - p) && z < shape[3]! - (s - 1 - q)) want[i] += k + 2;
      });
    }
    const got = evaluate([dx!], { x: { shape, data: numbers(sizeOf(shape), 4) } }).get(dx!)!.data;
    return { ops: gradientOps(dx!, [loss]), got: [...got], want: [...want] };
  }

  it("joins the gradients of strided slices that interleave (every phase of a 2 × 2 stride once) by a stack and reshapes, not sums of pads", () => {
    const { ops, got, want } = strided([[1, 0], [0, 0], [1, 1], [0, 1]], 2);
    expect(got).toEqual(want);
    expect(ops).not.toContain("pad");
    expect(ops).not.toContain("add");
    expect(ops).toContain("permute");
  });

  it("sums pads as before where strided slices leave a phase out, or a last row (an odd side)", () => {
    const missing = strided([[0, 0], [0, 1], [1, 0]], 2);
    expect(missing.got).toEqual(missing.want);
    expect(missing.ops).toContain("pad");
    const odd = strided([[0, 0], [0, 1], [1, 0], [1, 1]], 2, [2, 3, 7, 4]);
    expect(odd.got).toEqual(odd.want);
    expect(odd.ops).toContain("pad");
  });

  it("makes max and average pooling's image gradients views of the window gradients (no pads), with the reference's values", () => {
    for (const kind of ["max", "avg"] as const) {
      const b = new IRBuilder();
      const shape = [2, 3, 6, 4];
      const x = b.input("x", shape);
      const y = pool(b, x, kind, 2, 2);
      const dyIn = b.input("dy", y.shape);
      const loss = b.sum(b.mul(y, dyIn));
      const [dx] = grad(b, loss, [x]);
      expect(gradientOps(dx!, [y]), kind).not.toContain("pad");
      // By hand: the window's gradient to its maximum (shared among ties; none here) or a quarter to each element.
      const xs = numbers(sizeOf(shape), 5);
      const dys = numbers(sizeOf(y.shape), 6);
      const want = new Float64Array(xs.length);
      for (let n = 0; n < 6; n++)
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 2; j++) {
            const at = [0, 1].flatMap((dy) => [0, 1].map((dz) => n * 24 + (2 * i + dy) * 4 + 2 * j + dz));
            const g = dys[n * 6 + i * 2 + j]!;
            const top = Math.max(...at.map((a) => xs[a]!));
            for (const a of at) want[a] = kind === "avg" ? g / 4 : xs[a] === top ? g : 0;
          }
      const got = evaluate([dx!], { x: { shape, data: xs }, dy: { shape: y.shape, data: dys } }).get(dx!)!.data;
      expect([...got].map((v, k) => Math.abs(v - want[k]!)).every((d) => d < 1e-12), kind).toBe(true);
    }
  });
});
