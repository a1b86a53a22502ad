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
 *   (a weight's gradient computed as (xᵀ·g)ᵀ becomes gᵀ·x).
 *
 * Invariant: the result has the same outputs, with the same types, as the
 * source; nodes no output reads may be left in (translation skips them).
 */
import type { SourceGraph, SourceNode } from "./source.js";

const isIdentity = (perm: readonly number[]): boolean => perm.every((p, i) => p === i);

/** The permutation that swaps the last two of `rank` axes. */
const swapLast = (rank: number): number[] => Array.from({ length: rank }, (_, i) => (i === rank - 2 ? rank - 1 : i === rank - 1 ? rank - 2 : i));

/** Simplifies `source` (see the file comment). */
export function simplifySource(source: SourceGraph): SourceGraph {
  const users = new Array<number>(source.nodes.length).fill(0);
  for (const n of source.nodes) for (const j of n.inputs) users[j]!++;
  for (const o of source.outputs) users[o.node]!++;

  const out: SourceNode[] = [];
  const add = (n: SourceNode): number => out.push(n) - 1;
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
    map[i] = add({ ...n, inputs });
  });
  return { nodes: out, outputs: source.outputs.map((o) => ({ name: o.name, node: map[o.node]! })) };
}
