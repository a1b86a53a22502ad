/**
 * The loops a kernel runs over its domain. A domain axis of size 1 is no
 * loop; an axis that its reads divide into equal runs (⌊c / k⌋ and c mod k,
 * from a reshape that splits it) becomes two loops, so that every read is a
 * pointer stepped by a stride; and two neighbouring axes that every read
 * steps through as one (stride of the outer = stride of the inner × its
 * size) become one loop, so that a contiguous kernel is one long loop.
 *
 * Each rewrite changes only how the domain's coordinates are spelled, never
 * which elements are visited, nor in which order: loops run row-major over
 * the same elements, so a kernel's results do not change. Reduced axes are
 * never split: a reduction's vector lanes run along its last loop, so a
 * split (28 as 14 × 2) would change which elements each lane sums, and the
 * bits of the sum with it, between two plans of the same reduction (one
 * reading a stored value, one reading it through an interleaving view).
 */
import { coefficientOf, constant, coord, divisions, floorDiv, floorMod, isAffine, linear, mentions, substitute, type Bounds, type Expr } from "../../../kernel/index-expr.js";

/** One loop: its trip count and whether it runs over reduced axes of the domain. */
export interface LoopAxis {
  readonly dim: number;
  readonly reduced: boolean;
}

/** The loops of a domain and how they spell its coordinates. */
export interface LoopNest {
  readonly axes: readonly LoopAxis[];
  /** Each coordinate of the domain as an expression of the loops' coordinates. */
  readonly coords: readonly Expr[];
}

/** Every index expression a kernel computes, for the domain coordinates `coords` over loops of `bounds`. */
export type ExprsOf = (coords: readonly Expr[], bounds: Bounds) => readonly Expr[];

/**
 * The loops of `domain` (axes in `reduced` over reduced axes) for a kernel
 * whose index expressions `exprsOf` gives; loops in `pinned` (domain axes)
 * are never merged or split (a matmul epilogue's rows and columns).
 */
export function loopNest(domain: readonly number[], reduced: ReadonlySet<number>, exprsOf: ExprsOf, pinned: ReadonlySet<number> = new Set()): LoopNest {
  let axes: { dim: number; reduced: boolean; pinned: boolean }[] = domain.map((d, a) => ({ dim: d, reduced: reduced.has(a), pinned: pinned.has(a) }));
  let coords: Expr[] = domain.map((_, a) => coord(a));
  const bounds = (): number[] => axes.map((x) => x.dim);
  /** Rewrites the loops: `by[i]` spells old loop coordinate i in the new loops. */
  const rewrite = (next: typeof axes, by: readonly Expr[]): void => {
    axes = next;
    coords = coords.map((e) => substitute(e, by, bounds()));
  };

  // Loops of one trip are no loops.
  if (axes.some((x) => x.dim === 1 && !x.pinned)) {
    const kept = axes.filter((x) => x.dim !== 1 || x.pinned);
    let j = 0;
    const by = axes.map((x) => (x.dim === 1 && !x.pinned ? constant(0) : coord(j++)));
    rewrite(kept, by);
  }
  // Split loops that reads divide into equal runs.
  for (let round = 0; round < 32; round++) {
    const exprs = exprsOf(coords, bounds());
    let split: { axis: number; by: number } | undefined;
    for (const e of exprs) {
      for (const d of divisions(e)) {
        const x = d.x;
        if (x.constant !== 0 || x.terms.length !== 1 || x.terms[0]!.coef !== 1 || x.terms[0]!.atom.kind !== "coord") continue;
        const axis = x.terms[0]!.atom.axis;
        const dim = axes[axis]!.dim;
        if (axes[axis]!.pinned || axes[axis]!.reduced || d.by <= 1 || d.by >= dim || dim % d.by !== 0) continue;
        split = { axis, by: d.by };
        break;
      }
      if (split !== undefined) break;
    }
    if (split === undefined) break;
    const { axis, by } = split;
    const x = axes[axis]!;
    const next = [...axes.slice(0, axis), { ...x, dim: x.dim / by }, { ...x, dim: by }, ...axes.slice(axis + 1)];
    const spelled = axes.map((_, i) => (i < axis ? coord(i) : i === axis ? linear([coord(axis), coord(axis + 1)], [by, 1]) : coord(i + 1)));
    rewrite(next, spelled);
  }
  // Merge neighbours that every expression steps through as one.
  for (let a = axes.length - 2; a >= 0; a--) {
    const [outer, inner] = [axes[a]!, axes[a + 1]!];
    if (outer.reduced !== inner.reduced || outer.pinned || inner.pinned) continue;
    const exprs = exprsOf(coords, bounds());
    const mergeable = exprs.every((e) => {
      if (!isAffine(e)) {
        // Non-affine parts must not involve either loop.
        const plain = { constant: 0, terms: e.terms.filter((t) => t.atom.kind !== "coord") };
        if (mentions(plain, a) || mentions(plain, a + 1)) return false;
      }
      return coefficientOf(e, a) === coefficientOf(e, a + 1) * inner.dim;
    });
    if (!mergeable) continue;
    const next = [...axes.slice(0, a), { dim: outer.dim * inner.dim, reduced: outer.reduced, pinned: false }, ...axes.slice(a + 2)];
    const b = next.map((x) => x.dim);
    const m = coord(a);
    const spelled = axes.map((_, i) => (i < a ? coord(i) : i === a ? floorDiv(m, inner.dim, b) : i === a + 1 ? floorMod(m, inner.dim, b) : coord(i - 1)));
    rewrite(next, spelled);
  }
  return { axes: axes.map(({ dim, reduced: r }) => ({ dim, reduced: r })), coords };
}
