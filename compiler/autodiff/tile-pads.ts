/**
 * Summing a node's cotangent contributions. Where a value is cut into
 * pieces by slices that tile it (a grid of boxes, each read once: the k×k
 * planes of a transposed convolution, the heads of a fused projection), each
 * slice's VJP is its piece's gradient padded with zeros to the whole, and the
 * plain sum of those pads adds zeros everywhere but one piece. Such pads are
 * joined instead: the pieces' gradients concatenated along each cut axis, the
 * same values (x + 0 = x), as a view a matmul can read in place rather than
 * a sum written to memory.
 *
 * Anything else is summed in order, left to right (`grad.ts` builds that sum
 * as the contributions arrive; where the pads tile, it is left unused).
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node, NodeOf } from "../../runtime/ir/node.js";

/** The pads' pieces concatenated along their cut axes, or undefined unless they are (two or more) zero pads tiling one shape exactly. */
export function tiledPads(b: IRBuilder, parts: readonly Node[]): Node | undefined {
  if (parts.length < 2) return undefined;
  const pads: NodeOf<"pad">[] = [];
  for (const p of parts) {
    if (p.op !== "pad") return undefined;
    const pad = p as NodeOf<"pad">;
    if (pad.attrs.value !== 0 || pad.attrs.interior.some((g) => g !== 0) || pad.attrs.lo.some((l) => l < 0) || pad.attrs.hi.some((h) => h < 0)) return undefined;
    pads.push(pad);
  }
  const shape = pads[0]!.shape;
  // Per axis, the distinct pieces' intervals [lo, lo + size), which must cut [0, dim) into consecutive parts.
  const cuts: number[] = [];
  const intervals: number[][] = [];
  for (let a = 0; a < shape.length; a++) {
    const starts = new Map<number, number>();
    for (const p of pads) {
      const [lo, size] = [p.attrs.lo[a]!, p.inputs[0]!.shape[a]!];
      if (size === 0 || (starts.has(lo) && starts.get(lo) !== size)) return undefined;
      starts.set(lo, size);
    }
    const sorted = [...starts.entries()].sort((x, y) => x[0] - y[0]);
    let at = 0;
    for (const [lo, size] of sorted) {
      if (lo !== at) return undefined;
      at += size;
    }
    if (at !== shape[a]) return undefined;
    if (sorted.length > 1) cuts.push(a);
    intervals.push(sorted.map(([lo]) => lo));
  }
  // Each cell of the grid exactly once.
  const cells = cuts.reduce((n, a) => n * intervals[a]!.length, 1);
  const key = (p: NodeOf<"pad">) => cuts.map((a) => p.attrs.lo[a]).join(",");
  const byCell = new Map(pads.map((p) => [key(p), p]));
  if (cuts.length === 0 || byCell.size !== pads.length || pads.length !== cells) return undefined;
  // Nested concats: the first cut axis outermost.
  const join = (c: number, fixed: readonly number[]): Node => {
    if (c === cuts.length) return byCell.get(fixed.join(","))!.inputs[0]!;
    return b.concat(intervals[cuts[c]!]!.map((lo) => join(c + 1, [...fixed, lo])), cuts[c]!);
  };
  return join(0, []);
}
