/**
 * Integer index expressions over a kernel's loop coordinates, in a normal
 * form that simplifies as it is built: a constant plus terms `coef · atom`,
 * where an atom is a coordinate, or a floor division or remainder of an
 * expression by a positive constant. Views (reshape, permute, slice, …) turn
 * the coordinates a kernel loops over into the coordinates of the values it
 * reads, and these expressions are how backends see that map: an affine one
 * (no division left) becomes a pointer stepped by a stride.
 *
 * Every coordinate has a bound (0 ≤ c < dim), and simplification uses the
 * ranges that follow: ⌊(k·q + r)/k⌋ = q and (k·q + r) mod k = r when
 * 0 ≤ r < k, and k·⌊x/k⌋ + (x mod k) = x everywhere, which is what a
 * reshape of a contiguous value needs to become affine again. Division and remainder are floor division and its
 * remainder, and are only simplified where their operand cannot be negative,
 * so every rewrite here keeps the value of the expression at every
 * coordinate within the bounds.
 */

/** An atom: a loop coordinate, or ⌊x / by⌋, or x mod by (by > 0). */
export type Atom =
  | { readonly kind: "coord"; readonly axis: number }
  | { readonly kind: "div"; readonly x: Expr; readonly by: number }
  | { readonly kind: "mod"; readonly x: Expr; readonly by: number };

/** A term of an expression: an integer coefficient times an atom. */
export interface Term {
  readonly coef: number;
  readonly atom: Atom;
}

/** An index expression: `constant + Σ coef · atom`, its terms sorted by atom key, like atoms merged, no zero coefficient. */
export interface Expr {
  readonly constant: number;
  readonly terms: readonly Term[];
}

/** The bounds of the loop coordinates: coordinate a ranges over 0 ‥ dims[a] − 1. */
export type Bounds = readonly number[];

/** A constant expression. */
export function constant(n: number): Expr {
  return { constant: n, terms: [] };
}

/** Loop coordinate `axis`. */
export function coord(axis: number): Expr {
  return { constant: 0, terms: [{ coef: 1, atom: { kind: "coord", axis } }] };
}

/** A text key of an atom: equal atoms have equal keys. */
export function atomKey(a: Atom): string {
  if (a.kind === "coord") return `c${a.axis}`;
  return `(${exprKey(a.x)})${a.kind === "div" ? "/" : "%"}${a.by}`;
}

/** A text key of an expression, also its readable form: `c0*4 + (c1)/3 + 2`. */
export function exprKey(e: Expr): string {
  const parts = e.terms.map((t) => (t.coef === 1 ? atomKey(t.atom) : `${atomKey(t.atom)}*${t.coef}`));
  if (e.constant !== 0 || parts.length === 0) parts.push(String(e.constant));
  return parts.join(" + ");
}

function normal(constant: number, terms: readonly Term[]): Expr {
  const merged = new Map<string, Term>();
  for (const t of terms) {
    if (t.coef === 0) continue;
    const key = atomKey(t.atom);
    const had = merged.get(key);
    merged.set(key, { coef: (had?.coef ?? 0) + t.coef, atom: t.atom });
  }
  const list = [...merged.entries()].filter(([, t]) => t.coef !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, t]) => t);
  // c·k·⌊x/k⌋ + c·(x mod k) = c·x for every integer x: what flattening a reshape's unflattened coordinates
  // leaves (a [B, 1, 28, 28] image read as [B, 784] rows), made affine again.
  for (const m of list) {
    if (m.atom.kind !== "mod") continue;
    const x = m.atom.x;
    const divKey = `(${exprKey(x)})/${m.atom.by}`;
    const d = list.find((t) => t.atom.kind === "div" && atomKey(t.atom) === divKey);
    if (d === undefined || d.coef !== m.coef * m.atom.by) continue;
    const rest = list.filter((t) => t !== m && t !== d);
    return normal(constant + m.coef * x.constant, [...rest, ...x.terms.map((t) => ({ coef: t.coef * m.coef, atom: t.atom }))]);
  }
  return { constant, terms: list };
}

/** a + b. */
export function add(a: Expr, b: Expr): Expr {
  return normal(a.constant + b.constant, [...a.terms, ...b.terms]);
}

/** k · a for an integer k. */
export function scale(a: Expr, k: number): Expr {
  if (k === 0) return constant(0);
  return normal(a.constant * k, a.terms.map((t) => ({ coef: t.coef * k, atom: t.atom })));
}

/** Σ coefs[i] · xs[i] + c. */
export function linear(xs: readonly Expr[], coefs: readonly number[], c = 0): Expr {
  let e = constant(c);
  xs.forEach((x, i) => {
    if (coefs[i] !== 0) e = add(e, scale(x, coefs[i]!));
  });
  return e;
}

/** The constant value of `e`, or undefined when it depends on a coordinate. */
export function constantValue(e: Expr): number | undefined {
  return e.terms.length === 0 ? e.constant : undefined;
}

/** The least and greatest values of an atom over the bounds. */
function atomRange(a: Atom, bounds: Bounds): [number, number] {
  if (a.kind === "coord") return [0, Math.max(0, (bounds[a.axis] ?? 1) - 1)];
  const [lo, hi] = range(a.x, bounds);
  if (a.kind === "div") return [Math.floor(lo / a.by), Math.floor(hi / a.by)];
  return lo >= 0 && hi < a.by ? [lo, hi] : [0, a.by - 1];
}

/** The least and greatest values of `e` with every coordinate within its bound. */
export function range(e: Expr, bounds: Bounds): [number, number] {
  let lo = e.constant;
  let hi = e.constant;
  for (const t of e.terms) {
    const [a, b] = atomRange(t.atom, bounds);
    if (t.coef > 0) {
      lo += t.coef * a;
      hi += t.coef * b;
    } else {
      lo += t.coef * b;
      hi += t.coef * a;
    }
  }
  return [lo, hi];
}

function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Splits e into k·q + r: q the terms whose coefficient k divides (and ⌊constant / k⌋), r the rest (and constant mod k, in 0 ‥ k − 1). */
function splitBy(e: Expr, k: number): { q: Expr; r: Expr } {
  const qc = Math.floor(e.constant / k);
  const rc = e.constant - qc * k;
  const q: Term[] = [];
  const r: Term[] = [];
  for (const t of e.terms) (t.coef % k === 0 ? q : r).push(t.coef % k === 0 ? { coef: t.coef / k, atom: t.atom } : t);
  return { q: normal(qc, q), r: normal(rc, r) };
}

/** ⌊x / k⌋ for a positive integer k, simplified over the bounds. */
export function floorDiv(x: Expr, k: number, bounds: Bounds): Expr {
  if (k === 1) return x;
  const value = constantValue(x);
  if (value !== undefined) return constant(Math.floor(value / k));
  const { q, r } = splitBy(x, k);
  const [lo, hi] = range(r, bounds);
  if (lo >= 0 && hi < k) return q;
  if (lo < 0) return { constant: 0, terms: [{ coef: 1, atom: { kind: "div", x, by: k } }] };
  // r ≥ 0: ⌊(k·q + r)/k⌋ = q + ⌊r/k⌋; a factor common to r and k cancels.
  const g = r.terms.reduce((acc, t) => gcd(acc, t.coef), gcd(r.constant, k));
  const inner = g > 1 ? scaleDown(r, g) : r;
  const by = k / g;
  if (by === 1) return add(q, inner);
  // ⌊⌊y / a⌋ / b⌋ = ⌊y / (a·b)⌋.
  if (inner.constant === 0 && inner.terms.length === 1 && inner.terms[0]!.coef === 1 && inner.terms[0]!.atom.kind === "div") {
    const a = inner.terms[0]!.atom;
    return add(q, floorDiv(a.x, a.by * by, bounds));
  }
  return add(q, { constant: 0, terms: [{ coef: 1, atom: { kind: "div", x: inner, by } }] });
}

/** x mod k (floor remainder, in 0 ‥ k − 1) for a positive integer k, simplified over the bounds. */
export function floorMod(x: Expr, k: number, bounds: Bounds): Expr {
  if (k === 1) return constant(0);
  const value = constantValue(x);
  if (value !== undefined) return constant(((value % k) + k) % k);
  const { r } = splitBy(x, k);
  const [lo, hi] = range(r, bounds);
  if (lo >= 0 && hi < k) return r;
  if (lo < 0) return { constant: 0, terms: [{ coef: 1, atom: { kind: "mod", x, by: k } }] };
  // (g·y) mod (g·k') = g · (y mod k').
  const g = r.terms.reduce((acc, t) => gcd(acc, t.coef), gcd(r.constant, k));
  if (g > 1) return scale(floorMod(scaleDown(r, g), k / g, bounds), g);
  return { constant: 0, terms: [{ coef: 1, atom: { kind: "mod", x: r, by: k } }] };
}

function scaleDown(e: Expr, g: number): Expr {
  return normal(e.constant / g, e.terms.map((t) => ({ coef: t.coef / g, atom: t.atom })));
}

/** Row-major strides of a shape. */
function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i]!;
  }
  return out;
}

/** The row-major flat index of coordinates `coords` of a value of `shape`. */
export function flatten(coords: readonly Expr[], shape: readonly number[]): Expr {
  return linear(coords, strides(shape).map((s, a) => (shape[a] === 1 ? 0 : s)));
}

/** The coordinates in `shape` of the flat index `flat` (row-major), simplified over the bounds. */
export function unflatten(flat: Expr, shape: readonly number[], bounds: Bounds): Expr[] {
  const st = strides(shape);
  return shape.map((d, a) => (d === 1 ? constant(0) : a === 0 ? floorDiv(flat, st[a]!, bounds) : floorMod(floorDiv(flat, st[a]!, bounds), d, bounds)));
}

/** Whether `e` is affine in the coordinates: no division or remainder left. */
export function isAffine(e: Expr): boolean {
  return e.terms.every((t) => t.atom.kind === "coord");
}

/** The coefficient of coordinate `axis` in the affine part of `e` (0 when it does not appear there). */
export function coefficientOf(e: Expr, axis: number): number {
  for (const t of e.terms) if (t.atom.kind === "coord" && t.atom.axis === axis) return t.coef;
  return 0;
}

/** Whether coordinate `axis` appears in `e` at all (inside a division or remainder too). */
export function mentions(e: Expr, axis: number): boolean {
  return e.terms.some((t) => (t.atom.kind === "coord" ? t.atom.axis === axis : mentions(t.atom.x, axis)));
}

/** `e` with every coordinate a replaced by `by[a]`, simplified over `bounds` (the bounds of the new coordinates). */
export function substitute(e: Expr, by: readonly Expr[], bounds: Bounds): Expr {
  let out = constant(e.constant);
  for (const t of e.terms) {
    const a = t.atom;
    const value = a.kind === "coord" ? by[a.axis]! : a.kind === "div" ? floorDiv(substitute(a.x, by, bounds), a.by, bounds) : floorMod(substitute(a.x, by, bounds), a.by, bounds);
    out = add(out, scale(value, t.coef));
  }
  return out;
}

/** Every division and remainder atom in `e`, innermost last. */
export function divisions(e: Expr): { kind: "div" | "mod"; x: Expr; by: number }[] {
  const out: { kind: "div" | "mod"; x: Expr; by: number }[] = [];
  for (const t of e.terms) {
    if (t.atom.kind === "coord") continue;
    out.push(t.atom);
    out.push(...divisions(t.atom.x));
  }
  return out;
}

/** The value of `e` at concrete coordinates (floor division and remainder). */
export function evaluate(e: Expr, coords: readonly number[]): number {
  let v = e.constant;
  for (const t of e.terms) {
    const a = t.atom;
    let x: number;
    if (a.kind === "coord") x = coords[a.axis]!;
    else {
      const y = evaluate(a.x, coords);
      x = a.kind === "div" ? Math.floor(y / a.by) : y - Math.floor(y / a.by) * a.by;
    }
    v += t.coef * x;
  }
  return v;
}
