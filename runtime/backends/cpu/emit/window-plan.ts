/**
 * How a matmul operand that reads the windows of an image (a convolution's
 * im2col columns: pads, strided slices and a concat of the k×k offsets) is
 * read in place: an implicit GEMM. The plan is derived from the operand's
 * read (`reads.ts`) alone, for any kernel size, stride, padding and channel
 * count, and is refused (undefined) for reads it does not fit, which then
 * take the packer's general element-by-element path.
 *
 * The operand is a matrix over two coordinates: the one its packer strips
 * run along (rows of A, columns of B: `outer`) and k (`p`). One of them, S,
 * takes few values (a convolution's channel × kernel offset, C·k·k), the
 * other, T, many (its positions, batch × Ho × Wo). For each value s of S the
 * read is resolved at compile time: the concat picks its part, the pads'
 * conditions on s alone are decided, and what is left is a load of one input
 * at an offset affine in T's mixed-radix digits (T = n·Ho·Wo + y·Wo + x),
 * guarded by conditions affine in those digits (a pad's border), else a
 * constant (the pad's value). T's part of the offset and of each guard is
 * the same for every s; s's part goes into a table, one row per s:
 *
 *   [offset_s, lo_s,0, width_s,0, lo_s,1, width_s,1, …]
 *
 * and the element at (t, s) is `input[F(t) + offset_s]` where every guard
 * holds (`F_g(t) − lo_s,g < width_s,g`, unsigned), else the constant. A guard
 * an s does not have gets the range its T part takes anyway (always true); an
 * s whose read is the constant everywhere gets width 0.
 *
 * *Invariant*: the plan reads what the view chain reads, at every (t, s). The
 * resolution evaluates the read's own expressions at s; the offset is
 * simplified under its guards' bounds only (it is used only where they
 * hold), the guards under no assumption.
 */
import type { Shape } from "../../../ir/ops.js";
import type { Kernel, KernelArg } from "../../../kernel/graph.js";
import { add, constant, coord, divisions, exprKey, isAffine, linear, mentions, range, substitute, type Atom, type Expr } from "../../../kernel/index-expr.js";
import { readAt, type Cond, type Read } from "../../../kernel/reads.js";

/** The most values of S a table holds (rows). */
const MAX_ROWS = 4096;

/** How a windows operand is packed: see the file comment. */
export interface WindowPlan {
  /** Which coordinate the table runs over. */
  readonly side: "p" | "outer";
  /** The kernel input the windows are read from. */
  readonly input: number;
  /** T's digits, most significant first: t = Σ digit_d · stride_d, digit_d < dim_d. */
  readonly digits: readonly { readonly stride: number; readonly dim: number }[];
  /** Per digit, its coefficient in T's part of the offset. */
  readonly offset: readonly number[];
  /** Per guard, its coefficients per digit. */
  readonly guards: readonly (readonly number[])[];
  /** Rows of 1 + 2 · guards i32 values, one per value of S. */
  readonly table: Int32Array;
  /** The value outside the guards. */
  readonly fill: number;
}

/** A value of S resolved: the constant everywhere, or a guarded load. */
type Resolved =
  | { readonly kind: "fill"; readonly value: number }
  | { readonly kind: "load"; readonly input: number; readonly offset: Expr; readonly guards: readonly Cond[]; readonly fill: number | undefined };

/**
 * The window plan of operand `arg` of kernel `k`'s matmul, read at
 * coordinates (outer, p) in that order for A and (p, outer) for B, or
 * undefined where the read is no window read this plan fits.
 */
export function windowPlan(k: Kernel, arg: KernelArg, which: "A" | "B", outerCount: number, kCount: number, inShapes: readonly Shape[], f32: (input: number) => boolean, follow: (op: number) => boolean): WindowPlan | undefined {
  for (const side of ["p", "outer"] as const) {
    const plan = planFor(side);
    if (plan !== undefined) return plan;
  }
  return undefined;

  function planFor(side: "p" | "outer"): WindowPlan | undefined {
    const sCount = side === "p" ? kCount : outerCount;
    const tCount = side === "p" ? outerCount : kCount;
    if (sCount > MAX_ROWS || sCount < 1 || tCount < 1) return undefined;
    const at = (t: Expr, s: Expr): Expr[] => {
      const [outer, p] = side === "p" ? [t, s] : [s, t];
      return which === "A" ? [outer, p] : [p, outer];
    };
    // T's digits, from the divisions the read makes of T (coordinate 0 here, S coordinate 1).
    const generic = readAt(k, arg, at(coord(0), coord(1)), [tCount, sCount], inShapes, follow);
    const digits = digitsOf(generic, tCount);
    const bounds = digits.map((d) => d.dim);
    const t = linear(digits.map((_, d) => coord(d)), digits.map((d) => d.stride));
    const rows: Resolved[] = [];
    for (let s = 0; s < sCount; s++) {
      const r = resolve(readAt(k, arg, at(t, constant(s)), bounds, inShapes, follow), bounds);
      if (r === undefined) return undefined;
      rows.push(r.kind === "load" ? refine(r, bounds) ?? r : r);
    }
    // One input, one T part of the offset, one fill value.
    const loads = rows.filter((r): r is Extract<Resolved, { kind: "load" }> => r.kind === "load");
    if (loads.length === 0) return undefined;
    const input = loads[0]!.input;
    if (!f32(input)) return undefined;
    const offsetKey = exprKey(tPart(loads[0]!.offset));
    const fills = new Set<number>();
    for (const r of rows) {
      if (r.kind === "fill") fills.add(r.value);
      else if (r.fill !== undefined) fills.add(r.fill);
    }
    if (fills.size > 1) return undefined;
    const fill = [...fills][0] ?? 0;
    const guardKeys = new Map<string, Expr>();
    for (const r of loads) {
      if (r.input !== input || !isAffine(r.offset) || exprKey(tPart(r.offset)) !== offsetKey) return undefined;
      for (const g of r.guards) {
        if (!isAffine(g.expr) || g.step > 1) return undefined;
        const key = exprKey(tPart(g.expr));
        if (!guardKeys.has(key)) guardKeys.set(key, tPart(g.expr));
      }
    }
    // A read that is the fill at some s needs a guard to say so.
    if (guardKeys.size === 0 && rows.some((r) => r.kind === "fill")) guardKeys.set(exprKey(constant(0)), constant(0));
    const guardExprs = [...guardKeys.values()];
    const width = 1 + 2 * guardExprs.length;
    const table = new Int32Array(sCount * width);
    const fits = (x: number) => Number.isSafeInteger(x) && x >= -(2 ** 31) && x < 2 ** 31;
    for (let s = 0; s < sCount; s++) {
      const r = rows[s]!;
      const row = s * width;
      for (let i = 0; i < guardExprs.length; i++) {
        const g = guardExprs[i]!;
        // Always true unless a guard of this s narrows it; never where the read is the fill.
        let [lo, hi] = range(g, bounds);
        if (r.kind === "fill") [lo, hi] = [0, -1];
        else
          for (const c of r.guards) {
            if (exprKey(tPart(c.expr)) !== exprKey(g)) continue;
            lo = Math.max(lo, c.lo - c.expr.constant);
            hi = Math.min(hi, c.hi - c.expr.constant);
          }
        if (hi < lo) [lo, hi] = [0, -1];
        if (!fits(lo) || !fits(hi - lo + 1)) return undefined;
        table[row + 1 + 2 * i] = lo;
        table[row + 2 + 2 * i] = hi - lo + 1;
      }
      const offsetS = r.kind === "load" ? r.offset.constant : 0;
      if (!fits(offsetS)) return undefined;
      table[row] = offsetS;
    }
    const coefs = (e: Expr): number[] => digits.map((_, d) => e.terms.find((x) => x.atom.kind === "coord" && x.atom.axis === d)?.coef ?? 0);
    return { side, input, digits, offset: coefs(tPart(loads[0]!.offset)), guards: guardExprs.map(coefs), table, fill };
  }
}

/** `e` without its constant. */
function tPart(e: Expr): Expr {
  return { constant: 0, terms: e.terms };
}

/**
 * T's digits: the longest chain of divisors d₁ | d₂ | … of its count that
 * the read divides T (coordinate 0) by: as ⌊t / d⌋ or t mod d, or through
 * nested divisions (⌊⌊t / a⌋ / b⌋ mod c stands for t's divisors a·b and a·b·c).
 */
function digitsOf(read: Read, count: number): { stride: number; dim: number }[] {
  const candidates = new Set<number>();
  /** How far T moves for x to move by one, where x follows T through one chain of divisions. */
  const unit = (x: Expr): number | undefined => {
    const direct = x.terms.find((t) => t.atom.kind === "coord" && t.atom.axis === 0);
    if (direct !== undefined) return 1 / Math.abs(direct.coef);
    const inner = x.terms.filter((t) => t.atom.kind !== "coord" && mentions(t.atom.x, 0));
    if (inner.length !== 1 || Math.abs(inner[0]!.coef) !== 1) return undefined;
    const a = inner[0]!.atom as Exclude<Atom, { kind: "coord" }>;
    const u = unit(a.x);
    return u === undefined ? undefined : a.kind === "div" ? u * a.by : u;
  };
  const visitExpr = (e: Expr) => {
    for (const a of divisions(e)) {
      if (!mentions(a.x, 0)) continue;
      const u = unit(a.x);
      if (u === undefined) continue;
      const d = Math.round(u * a.by);
      if (d > 0 && Math.abs(d - u * a.by) < 1e-9) candidates.add(d);
    }
  };
  const visit = (r: Read) => {
    if (r.kind === "load") visitExpr(r.offset);
    else if (r.kind === "index") visitExpr(r.expr);
    else if (r.kind === "select") {
      r.when.forEach((c) => visitExpr(c.expr));
      visit(r.then);
      visit(r.otherwise);
    }
  };
  visit(read);
  const ds = [...candidates].filter((d) => d > 1 && d < count && count % d === 0).sort((a, b) => a - b);
  // Longest divisibility chain.
  const best: number[][] = [];
  ds.forEach((d, i) => {
    let chain: number[] = [d];
    for (let j = 0; j < i; j++) if (d % ds[j]! === 0 && best[j]!.length + 1 > chain.length) chain = [...best[j]!, d];
    best.push(chain);
  });
  const chain = best.reduce<number[]>((a, c) => (c.length > a.length ? c : a), []);
  const strides = [...chain].reverse().concat([1]);
  return strides.map((stride, i) => ({ stride, dim: (i === 0 ? count : strides[i - 1]!) / stride }));
}

/** Resolves the read at one value of S: conditions without a coordinate decided, the rest kept as guards. */
function resolve(r: Read, bounds: readonly number[]): Resolved | undefined {
  switch (r.kind) {
    case "const":
      return { kind: "fill", value: r.value };
    case "load":
      return { kind: "load", input: r.input, offset: r.offset, guards: [], fill: undefined };
    case "index":
    case "op":
      return undefined;
    case "select": {
      const guards: Cond[] = [];
      for (const c of r.when) {
        if (c.hi < c.lo) return resolve(r.otherwise, bounds);
        const [min, max] = range(c.expr, bounds);
        if (min === max) {
          if (min < c.lo || min > c.hi || (c.step > 1 && (min - c.lo) % c.step !== 0)) return resolve(r.otherwise, bounds);
          continue;
        }
        if (max < c.lo || min > c.hi) return resolve(r.otherwise, bounds);
        if (c.step === 1 && min >= c.lo && max <= c.hi) continue;
        guards.push(c);
      }
      const then = resolve(r.then, bounds);
      if (then === undefined) return undefined;
      if (guards.length === 0) return then;
      const otherwise = resolve(r.otherwise, bounds);
      if (otherwise === undefined || otherwise.kind !== "fill") return undefined;
      if (then.kind === "fill") return then.value === otherwise.value ? then : undefined;
      if (then.fill !== undefined && then.fill !== otherwise.value) return undefined;
      return { ...then, guards: [...guards, ...then.guards], fill: otherwise.value };
    }
  }
}

/**
 * The load's offset simplified where its guards hold: each guard on one
 * digit (a·x + b within [lo, hi]) narrows that digit's range, the offset is
 * rewritten over the narrowed digits and shifted back. Undefined when no
 * guard narrows anything or the guards exclude every position.
 */
function refine(r: Extract<Resolved, { kind: "load" }>, bounds: readonly number[]): Resolved | undefined {
  const lo = bounds.map(() => 0);
  const hi = bounds.map((d) => d - 1);
  let narrowed = false;
  for (const g of r.guards) {
    if (g.step > 1 || g.expr.terms.length !== 1) continue;
    const term = g.expr.terms[0]!;
    if (term.atom.kind !== "coord") continue;
    const d = term.atom.axis;
    const [a, b] = [term.coef, g.expr.constant];
    const [from, to] = a > 0 ? [Math.ceil((g.lo - b) / a), Math.floor((g.hi - b) / a)] : [Math.ceil((g.hi - b) / a), Math.floor((g.lo - b) / a)];
    if (from > lo[d]!) [lo[d], narrowed] = [from, true];
    if (to < hi[d]!) [hi[d], narrowed] = [to, true];
  }
  if (!narrowed) return undefined;
  if (lo.some((l, d) => l > hi[d]!)) return { kind: "fill", value: r.fill ?? 0 };
  const inner = lo.map((l, d) => hi[d]! - l + 1);
  const narrow = substitute(r.offset, lo.map((l, d) => add(coord(d), constant(l))), inner);
  if (!isAffine(narrow)) return undefined;
  const offset = substitute(narrow, lo.map((l, d) => add(coord(d), constant(-l))), bounds);
  return { ...r, offset };
}
