/**
 * Rewrites of a source graph before it is translated, each keeping every
 * number (only copies go away): transposes that ONNX Runtime would run as
 * separate copies are composed or moved so that they cancel or land on a
 * matmul operand, where ONNX Runtime folds them into the product
 * (`FusedMatMul`, `Gemm`'s `transA`/`transB`).
 *
 * - `permute(permute(x, p), q)` is one `permute(x, p∘q)`, and nothing at all
 *   when that is the identity (a weight transposed for the forward pass and
 *   back for its gradient);
 * - `permute(matmul(a, b))` swapping the last two axes is
 *   `matmul(permute(b), permute(a))` when nothing else reads the product
 *   (a weight's gradient computed as (xᵀ·g)ᵀ becomes gᵀ·x);
 * - `scatter_add(0, i, u) + y` is `scatter_add(y, i, u)` (and so for
 *   scatters into scatters into 0): an embedding's gradient rows (or a
 *   one-hot gradient) added straight into what they are summed with,
 *   instead of into a tensor of zeros that is then added whole (the
 *   scatters are repeated where something else reads them; they touch only
 *   their rows). A scalar multiple of such a scatter, read by nothing else,
 *   `scatter_add(0, i, u)·s + y`, is `scatter_add(y, i, u·s)` the same way:
 *   Adam's first moment of an embedding's gradient, the scalar applied to
 *   the gathered rows, not to the whole table. These reorder sums (y + u
 *   rather than (0 + u) + y, where rows repeat), so they keep numbers to
 *   float32 rounding, not bit for bit;
 * - **scalar factors are carried, not applied:** a tensor multiplied or
 *   divided by a scalar (a per-step number such as Adam's bias corrections
 *   or learning rate), read by one node only, is carried as base × factor
 *   through `sqrt`, adding a scalar, dividing and further scalar factors,
 *   and the factor is applied once where the value is finally read, when
 *   that saves whole passes over the tensor. Adam's
 *   `p − lr·(m/c1)/(√(v/c2) + ε)` is written
 *   `p − (m/(√v + ε·√(1/c2)⁻¹))·(lr/c1·√(1/c2)⁻¹)`, five passes over the
 *   weights' size instead of seven (PyTorch's Adam has the same form). This
 *   too keeps numbers to float32 rounding only, and where a factor under a
 *   square root is negative, or a factor is 0 or infinite (never, for bias
 *   corrections and learning rates of a real step), the two forms may differ
 *   in which elements are NaN or infinite.
 *
 * Invariant: the result has the same outputs, with the same types, as the
 * source; nodes no output reads may be left in (translation skips them).
 */
import { isBatchPoly, type BatchNumber } from "../../ir/batch-graph.js";
import { sameNumber, type SourceGraph, type SourceNode } from "./source.js";

/** The ops a factor is carried through. */
const ELEMENTWISE = new Set(["mul", "div", "sqrt", "add"]);

const isIdentity = (perm: readonly number[]): boolean => perm.every((p, i) => p === i);

/** The permutation that swaps the last two of `rank` axes. */
const swapLast = (rank: number): number[] => Array.from({ length: rank }, (_, i) => (i === rank - 2 ? rank - 1 : i === rank - 1 ? rank - 2 : i));

/** Two batch numbers' sum. */
function sumDims(a: BatchNumber, b: BatchNumber): BatchNumber {
  if (!isBatchPoly(a) && !isBatchPoly(b)) return a + b;
  const [x, y] = [isBatchPoly(a) ? a.B : [a], isBatchPoly(b) ? b.B : [b]];
  return { B: Array.from({ length: Math.max(x.length, y.length) }, (_, k) => (x[k] ?? 0) + (y[k] ?? 0)) };
}

/**
 * Where `out[i]` is a scatter_add on axis 0 of whole rows (its index an
 * expand of one index per row, as translate.ts's `rowIndexed`): the index
 * per row ([n, 1, …]) and the rows; else null.
 */
function rowScatter(out: readonly SourceNode[], i: number): { ids: number; rows: number } | null {
  const n = out[i]!;
  if (n.op !== "scatter_add" || n.attrs["axis"] !== 0) return null;
  const idx = out[n.inputs[1]!]!;
  if (idx.op !== "expand") return null;
  const ids = out[idx.inputs[0]!]!;
  const [data, rows] = [out[n.inputs[0]!]!.shape, out[n.inputs[2]!]!.shape];
  if (!ids.shape.slice(1).every((d) => d === 1) || ids.shape.length !== rows.length || rows.length !== data.length) return null;
  return rows.slice(1).every((d, k) => sameNumber(d, data[k + 1]!)) ? { ids: idx.inputs[0]!, rows: n.inputs[2]! } : null;
}

/** Where `out[i]` is scatter_adds into a constant 0, one into the other: those scatters, innermost first; else null. */
function scatterChain(out: readonly SourceNode[], i: number): number[] | null {
  const n = out[i]!;
  if (n.op !== "scatter_add") return null;
  const data = out[n.inputs[0]!]!;
  if (data.op === "const" && data.attrs["value"] === 0) return [i];
  const inner = scatterChain(out, n.inputs[0]!);
  return inner === null ? null : [...inner, i];
}

/**
 * A value carried as `base × factor`: `base` a tensor node, `factor` a
 * rank-0 f32 node. `original` counts the passes over the tensor's size the
 * source spends on the value (beyond its base's own), `carried` those the
 * carried form spends; applying the factor costs one more.
 */
interface Scaled {
  readonly base: number;
  readonly factor: number;
  readonly original: number;
  readonly carried: number;
}

/** Simplifies `source` (see the file comment). */
export function simplifySource(source: SourceGraph): SourceGraph {
  const users = new Array<number>(source.nodes.length).fill(0);
  for (const n of source.nodes) for (const j of n.inputs) users[j]!++;
  for (const o of source.outputs) users[o.node]!++;

  const out: SourceNode[] = [];
  const add = (n: SourceNode): number => out.push(n) - 1;
  /**
   * scatter_add(data, idx, updates) like `scatter` (its attributes and shape); where data is a row
   * scatter read by nothing else (`fresh`) and this one is too, one scatter of both index lists
   * and both row lists, concatenated: ONNX Runtime's ScatterND copies its whole data once per
   * node, and adds the rows in the same order either way.
   */
  const scatterOnto = (scatter: SourceNode, data: number, idx: number, updates: number, fresh: boolean): number => {
    const made = add({ ...scatter, inputs: [data, idx, updates] });
    const [inner, outer] = [fresh ? rowScatter(out, data) : null, rowScatter(out, made)];
    if (inner === null || outer === null) return made;
    const [a, b] = [out[inner.ids]!, out[outer.ids]!];
    const ra = out[inner.rows]!;
    const n = sumDims(a.shape[0]!, b.shape[0]!);
    const ids = add({ op: "concat", inputs: [inner.ids, outer.ids], attrs: { axis: 0 }, dtype: a.dtype, shape: [n, ...a.shape.slice(1)] });
    const rowsShape = [n, ...ra.shape.slice(1)];
    const index = add({ op: "expand", inputs: [ids], attrs: { shape: rowsShape as number[] }, dtype: a.dtype, shape: rowsShape });
    const rows = add({ op: "concat", inputs: [inner.rows, outer.rows], attrs: { axis: 0 }, dtype: ra.dtype, shape: rowsShape });
    return add({ ...scatter, inputs: [out[data]!.inputs[0]!, index, rows] });
  };
  /** `x` permuted by `perm` (output axis i is axis perm[i] of x), composed with x's own permute. */
  const permuted = (x: number, perm: readonly number[]): number => {
    const inner = out[x]!;
    const shape = perm.map((p) => inner.shape[p]!);
    if (isIdentity(perm)) return x;
    if (inner.op === "permute") {
      const p = inner.attrs["perm"] as number[];
      const composed = perm.map((q) => p[q]!);
      return isIdentity(composed) ? inner.inputs[0]! : add({ ...inner, attrs: { perm: composed }, shape });
    }
    return add({ op: "permute", inputs: [x], attrs: { perm: [...perm] }, dtype: inner.dtype, shape });
  };

  const map = source.nodes.map(() => -1);

  // Scalar factors (see the file comment), by source node.
  const scaled = new Map<number, Scaled>();
  const scalarNode = (op: "div" | "mul" | "sqrt" | "recip", inputs: number[]): number => add({ op, inputs, attrs: {}, dtype: "f32", shape: [] });
  /** `out[j]` as a rank-0 f32 node, where it is a scalar spread over a tensor (a constant, an expand of one number); else null. */
  const scalarOf = (j: number): number | null => {
    const n = out[j]!;
    if (n.dtype !== "f32") return null;
    if (n.op === "const") return n.shape.length === 0 ? j : add({ ...n, shape: [] });
    if (n.op === "expand") {
      const x = out[n.inputs[0]!]!;
      if (!x.shape.every((d) => d === 1)) return null;
      return x.shape.length === 0 ? n.inputs[0]! : add({ op: "reshape", inputs: [n.inputs[0]!], attrs: { shape: [] }, dtype: "f32", shape: [] });
    }
    return null;
  };
  /** Source node `j` carried, where it may be (read by one node only). */
  const carriedOf = (j: number): Scaled | undefined => (users[j] === 1 ? scaled.get(j) : undefined);
  /** Node `i` (f32, elementwise, operands mapped to `inputs`) as a carried value, or undefined. */
  const carry = (n: SourceNode, i: number, inputs: readonly number[]): Scaled | undefined => {
    // Scalars themselves are computed as written: there is no pass to save.
    if (n.dtype !== "f32" || n.shape.every((d) => d === 1)) return undefined;
    const spread = (x: number): number => add({ op: "expand", inputs: [x], attrs: { shape: [...n.shape] as number[] }, dtype: "f32", shape: n.shape });
    const [a, b] = [carriedOf(n.inputs[0]!), carriedOf(n.inputs[1] ?? -1)];
    const tensor = (j: number, c: Scaled | undefined): { base: number; original: number; carried: number } =>
      c ? { base: c.base, original: c.original, carried: c.carried } : { base: inputs[j]!, original: 0, carried: 0 };
    switch (n.op) {
      case "mul":
      case "div": {
        const s1 = scalarOf(inputs[1]!);
        if (s1 !== null) {
          const x = tensor(0, a);
          const f = n.op === "mul" ? s1 : scalarNode("recip", [s1]);
          return { base: x.base, factor: a ? scalarNode("mul", [a.factor, f]) : f, original: x.original + 1, carried: x.carried };
        }
        const s0 = n.op === "mul" ? scalarOf(inputs[0]!) : null;
        if (s0 !== null) {
          const x = tensor(1, b);
          return { base: x.base, factor: b ? scalarNode("mul", [s0, b.factor]) : s0, original: x.original + 1, carried: x.carried };
        }
        if (n.op !== "div" || (a === undefined && b === undefined)) return undefined;
        const [x, y] = [tensor(0, a), tensor(1, b)];
        const factor = a && b ? scalarNode("div", [a.factor, b.factor]) : a ? a.factor : scalarNode("recip", [b!.factor]);
        return { base: add({ ...n, inputs: [x.base, y.base] }), factor, original: x.original + y.original + 1, carried: x.carried + y.carried + 1 };
      }
      case "sqrt":
        if (a === undefined) return undefined;
        return { base: add({ ...n, inputs: [a.base] }), factor: scalarNode("sqrt", [a.factor]), original: a.original + 1, carried: a.carried + 1 };
      case "add": {
        // (x·f) + e = (x + e/f)·f
        for (const k of [0, 1]) {
          const c = k === 0 ? a : b;
          const e = c ? scalarOf(inputs[1 - k]!) : null;
          if (c === undefined || e === null) continue;
          const shifted = add({ ...n, inputs: k === 0 ? [c.base, spread(scalarNode("div", [e, c.factor]))] : [spread(scalarNode("div", [e, c.factor])), c.base] });
          return { base: shifted, factor: c.factor, original: c.original + 1, carried: c.carried + 1 };
        }
        return undefined;
      }
      default:
        return undefined;
    }
  };
  /** Operand `k` of node `n` with any carried factor applied, where that saves passes over the tensor. */
  const applied = (n: SourceNode, k: number, mapped: number): number => {
    const c = carriedOf(n.inputs[k]!);
    if (c === undefined || c.carried + 1 >= c.original) return mapped;
    const base = out[c.base]!;
    return add({ op: "mul", inputs: [c.base, add({ op: "expand", inputs: [c.factor], attrs: { shape: [...base.shape] as number[] }, dtype: "f32", shape: base.shape })], attrs: {}, dtype: "f32", shape: base.shape });
  };
  source.nodes.forEach((n, i) => {
    const inputs = n.inputs.map((j) => map[j]!);
    if (n.op === "permute") {
      const perm = n.attrs["perm"] as number[];
      const operand = out[inputs[0]!]!;
      if (operand.op === "matmul" && users[n.inputs[0]!] === 1 && perm.length >= 2 && isIdentity(perm.slice(0, -2)) && perm.at(-2) === perm.length - 1) {
        const [a, b] = operand.inputs as [number, number];
        const bt = permuted(b, swapLast(out[b]!.shape.length));
        const at = permuted(a, swapLast(out[a]!.shape.length));
        map[i] = add({ ...operand, inputs: [bt, at], shape: n.shape });
        return;
      }
      map[i] = permuted(inputs[0]!, perm);
      return;
    }
    if (n.op === "scatter_add") {
      map[i] = scatterOnto(n, inputs[0]!, inputs[1]!, inputs[2]!, users[n.inputs[0]!] === 1);
      return;
    }
    if (n.op === "add") {
      // scatter_add(…scatter_add(0, i1, u1)…, ik, uk) + y, or its product with a scalar s read by nothing else:
      // the same scatters into y (of u·s).
      for (const k of [0, 1]) {
        const [j, y] = [inputs[k]!, inputs[1 - k]!];
        if (out[y]!.dtype !== n.dtype) continue;
        let chain = scatterChain(out, j);
        let factor: number | null = null;
        if (chain === null && users[n.inputs[k]!] === 1 && out[j]!.op === "mul" && n.dtype === "f32") {
          const m = out[j]!;
          const e = [0, 1].find((e) => scatterChain(out, m.inputs[e]!) !== null && scalarOf(m.inputs[1 - e]!) !== null);
          if (e !== undefined) [chain, factor] = [scatterChain(out, m.inputs[e]!), scalarOf(m.inputs[1 - e]!)];
        }
        if (chain === null) continue;
        let acc = y;
        for (const level of chain) {
          const scatter = out[level]!;
          let updates = scatter.inputs[2]!;
          if (factor !== null) {
            const shape = out[updates]!.shape;
            const spread = add({ op: "expand", inputs: [factor], attrs: { shape: [...shape] as number[] }, dtype: "f32", shape });
            updates = add({ op: "mul", inputs: [updates, spread], attrs: {}, dtype: "f32", shape });
          }
          acc = scatterOnto({ ...scatter, shape: n.shape }, acc, scatter.inputs[1]!, updates, acc !== y || users[n.inputs[1 - k]!] === 1);
        }
        map[i] = acc;
        return;
      }
    }
    const c = ELEMENTWISE.has(n.op) ? carry(n, i, inputs) : undefined;
    if (c !== undefined) scaled.set(i, c);
    // A node that carries no factor of its operands applies them (where that saves passes).
    map[i] = add({ ...n, inputs: c !== undefined ? inputs : inputs.map((m, k) => applied(n, k, m)) });
  });
  return { nodes: out, outputs: source.outputs.map((o) => ({ name: o.name, node: map[o.node]! })) };
}
