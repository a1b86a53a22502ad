/**
 * Summing a node's cotangent contributions. Where a value is cut into
 * pieces by slices that tile it (a grid of boxes, each read once: the k×k
 * planes of a transposed convolution, the heads of a fused projection), each
 * slice's VJP is its piece's gradient padded with zeros to the whole, and the
 * plain sum of those pads adds zeros everywhere but one piece. Such pads are
 * joined instead: the pieces' gradients concatenated along each cut axis, the
 * same values (x + 0 = x), as a view a matmul can read in place rather than
 * a sum written to memory. Pads that interleave instead (a pool's s²
 * strided windows: every s-th element from each piece) are joined by a
 * stack and a reshape (`interleavedPads`).
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

/**
 * The pieces of interleaved zero pads joined, or undefined unless `parts`
 * are exactly that: pads of one shape whose interior padding puts each
 * piece on every s-th element of the axes it strides (s = interior + 1, the
 * same for every piece), each at its own phase lo < s with s − 1 − lo zeros
 * after it, so that every element of the whole comes from exactly one piece
 * (the VJP of a pool's s² strided windows when s divides the image). The
 * pieces are stacked in phase order and the phases interleaved into the
 * strided axes by a reshape, a permute and a reshape: views, where the sum of
 * pads computed and added zeros at every element. Where the pieces are
 * consecutive slices of one value along one axis (the pool's window axis),
 * that value is the stack itself.
 */
export function interleavedPads(b: IRBuilder, parts: readonly Node[]): Node | undefined {
  if (parts.length < 2) return undefined;
  const pads: NodeOf<"pad">[] = [];
  for (const p of parts) {
    if (p.op !== "pad") return undefined;
    pads.push(p as NodeOf<"pad">);
  }
  const piece = pads[0]!.inputs[0]!.shape;
  const rank = piece.length;
  const steps = pads[0]!.attrs.interior.map((g) => g + 1);
  const strided = steps.flatMap((s, a) => (s > 1 ? [a] : []));
  if (strided.length === 0) return undefined;
  for (const p of pads) {
    const { lo, hi, interior, value } = p.attrs;
    if (value !== 0 || p.inputs[0]!.shape.some((d, a) => d !== piece[a] || d === 0)) return undefined;
    for (let a = 0; a < rank; a++) {
      if (interior[a]! + 1 !== steps[a]) return undefined;
      if (lo[a]! < 0 || lo[a]! >= steps[a]! || hi[a] !== steps[a]! - 1 - lo[a]!) return undefined;
    }
  }
  // Each phase (lo on the strided axes, row-major) exactly once.
  const count = strided.reduce((n, a) => n * steps[a]!, 1);
  const phase = (p: NodeOf<"pad">) => strided.reduce((n, a) => n * steps[a]! + p.attrs.lo[a]!, 0);
  const byPhase = new Map(pads.map((p) => [phase(p), p]));
  if (pads.length !== count || byPhase.size !== count) return undefined;
  const ordered = Array.from({ length: count }, (_, i) => byPhase.get(i)!.inputs[0]!);
  // The stack [s_a…, ...piece] (phases first), as one value's axis where the pieces slice it in order.
  const stack = stackOf(b, ordered, piece, strided.map((a) => steps[a]!));
  // Each strided axis followed by its phase: [..., piece_a, s_a, ...], then merged.
  const perm: number[] = [];
  piece.forEach((_, a) => {
    perm.push(strided.length + a);
    const k = strided.indexOf(a);
    if (k >= 0) perm.push(k);
  });
  return b.reshape(b.permute(stack, perm), piece.map((d, a) => d * steps[a]!));
}

/**
 * The pieces stacked along new leading axes `phases` ([p₀, p₁, …, ...piece]):
 * where every piece is a reshape of a one-wide slice of one value V along one
 * axis, in order and covering it, V itself permuted and reshaped; else a concat.
 */
function stackOf(b: IRBuilder, pieces: readonly Node[], piece: readonly number[], phases: readonly number[]): Node {
  const shape = [...phases, ...piece];
  const whole = slicedValue(pieces);
  if (whole !== undefined) {
    const { value, axis } = whole;
    // V's axis first, then the rest in order: the pieces' elements in the pieces' order.
    const perm = [axis, ...value.shape.map((_, a) => a).filter((a) => a !== axis)];
    const moved = axis === 0 ? value : b.permute(value, perm);
    if (moved.shape.slice(1).reduce((n, d) => n * d, 1) === piece.reduce((n, d) => n * d, 1)) return b.reshape(moved, shape);
  }
  return b.reshape(b.concat(pieces.map((p) => b.reshape(p, [1, ...piece])), 0), shape);
}

/** The value and axis the pieces slice one after another (reshapes of slices one wide, steps 1, full elsewhere), if they do. */
function slicedValue(pieces: readonly Node[]): { value: Node; axis: number } | undefined {
  let value: Node | undefined;
  let axis = -1;
  for (let i = 0; i < pieces.length; i++) {
    const r = pieces[i]!;
    const s = r.op === "reshape" ? r.inputs[0]! : r;
    if (s.op !== "slice") return undefined;
    const { starts, ends, steps } = (s as NodeOf<"slice">).attrs;
    const v = s.inputs[0]!;
    if (value !== undefined && v !== value) return undefined;
    value = v;
    const cut = v.shape.flatMap((d, a) => (starts[a] === 0 && ends[a] === d ? [] : [a]));
    if (steps.some((st) => st !== 1) || cut.length > 1) return undefined;
    const a = cut[0] ?? -1;
    if (a < 0 ? pieces.length !== 1 : starts[a] !== i || ends[a] !== i + 1) return undefined;
    if (axis !== -1 && a !== axis) return undefined;
    axis = a;
  }
  return value !== undefined && axis >= 0 && value.shape[axis] === pieces.length ? { value, axis } : undefined;
}
