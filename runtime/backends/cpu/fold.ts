/**
 * Transposes folded into matmuls.
 *
 * A dense layer keeps its weight as [out, in] and multiplies by its
 * transpose, so the kernel graph is full of 2-D transposes (permute kernels)
 * around matmuls: the weight before the forward product, the transpose of
 * that transpose before the backward one, the batch of output gradients
 * before the weight gradient, and the weight gradient itself back into the
 * weight's layout. The SIMD matmul reads either operand transposed at no
 * cost to speak of (A through its strides, B transposed block by block in
 * cache: `blockedMatmul`), so with it:
 *
 * 1. A matmul operand that is the result of a transpose reads the
 *    transpose's source instead, flipping "transposed"; through chains of
 *    transposes too, so a transpose of a transpose reads the original.
 * 2. A transpose of a matmul's result whose only reader it is computes
 *    (A·B)ᵀ = Bᵀ·Aᵀ itself, and the matmul is skipped.
 * 3. A transpose nobody reads any more, and that is no graph output, is
 *    skipped.
 *
 * Reading a value later than the plan did is only sound while its buffer
 * still holds it: the memory plan may hand a buffer on once the value's
 * last reader ran. So an operand is only moved to a value whose buffer no
 * kernel writes after that value's reader in the plan, up to and including
 * the kernel that now reads it.
 */
import type { Kernel, KernelGraph } from "../../kernel/graph.js";

/** A matmul operand: the value read, and whether it is read transposed. */
export interface Operand {
  readonly value: number;
  readonly transposed: boolean;
}

/** The product a kernel computes instead of its own op: A · B with these operands. */
export interface FoldedMatmul {
  readonly a: Operand;
  readonly b: Operand;
}

/** What folding does to a graph: kernels to skip (with why, in words), and the products some kernels (matmuls or transposes) compute instead. */
export interface Folds {
  readonly skipped: ReadonlyMap<number, string>;
  readonly products: ReadonlyMap<number, FoldedMatmul>;
}

/** Whether a kernel is one transpose of a 2-D f32 value. */
function isTranspose(k: Kernel): boolean {
  const op = k.ops[0]!;
  if (k.ops.length !== 1 || op.op !== "permute" || k.shape.length !== 2 || k.dtype !== "f32") return false;
  const perm = (op.attrs as { perm: readonly number[] }).perm;
  return perm[0] === 1 && perm[1] === 0;
}

/** Whether a kernel is a matmul of two 2-D operands. */
function isMatmul2d(graph: KernelGraph, k: Kernel): boolean {
  return k.ops.length === 1 && k.ops[0]!.op === "matmul" && k.inputs.every((v) => graph.values[v]!.shape.length === 2);
}

/** The transposes and matmuls of `graph` to fold (see the file comment). */
export function foldedTransposes(graph: KernelGraph): Folds {
  const { kernels, values } = graph;
  const outputs = new Set(graph.outputs.map((o) => o.value));
  const producer = (v: number): Kernel | undefined => (values[v]!.def >= 0 ? kernels[values[v]!.def] : undefined);
  /** Whether value v's buffer is written by no kernel after `from`, up to and including `to`. */
  const intact = (v: number, from: number, to: number) => kernels.slice(from + 1, to + 1).every((k) => values[k.output]!.buffer !== values[v]!.buffer);

  // 1. Each matmul operand, through the transposes that made it.
  const products = new Map<number, FoldedMatmul>();
  for (const m of kernels) {
    if (!isMatmul2d(graph, m)) continue;
    const [a, b] = m.inputs.map((v) => {
      let operand: Operand = { value: v, transposed: false };
      for (let p = producer(v); p !== undefined && isTranspose(p) && intact(p.inputs[0]!, p.id, m.id); p = producer(operand.value)) {
        operand = { value: p.inputs[0]!, transposed: !operand.transposed };
      }
      return operand;
    }) as [Operand, Operand];
    if (a.value !== m.inputs[0] || b.value !== m.inputs[1]) products.set(m.id, { a, b });
  }
  const reads = (k: Kernel): readonly number[] => {
    const p = products.get(k.id);
    return p === undefined ? k.inputs : [p.a.value, p.b.value];
  };
  const readers = (skipped: ReadonlyMap<number, string>): Map<number, number[]> => {
    const map = new Map<number, number[]>();
    for (const k of kernels) if (!skipped.has(k.id)) for (const v of reads(k)) map.set(v, [...(map.get(v) ?? []), k.id]);
    return map;
  };

  // 2. A transpose that is a matmul's only reader computes the transposed product.
  const skipped = new Map<number, string>();
  let current = readers(skipped);
  for (const t of kernels) {
    if (!isTranspose(t)) continue;
    const m = producer(t.inputs[0]!);
    if (m === undefined || !isMatmul2d(graph, m) || outputs.has(m.output)) continue;
    if ((current.get(m.output) ?? []).length !== 1) continue;
    const [a, b] = m.inputs.map((v, i) => products.get(m.id)?.[i === 0 ? "a" : "b"] ?? { value: v, transposed: false });
    if (!intact(a!.value, m.id, t.id) || !intact(b!.value, m.id, t.id)) continue;
    products.set(t.id, { a: { value: b!.value, transposed: !b!.transposed }, b: { value: a!.value, transposed: !a!.transposed } });
    products.delete(m.id);
    skipped.set(m.id, `no step: k${t.id} computes this product transposed, (A·B)ᵀ = Bᵀ·Aᵀ`);
  }

  // 3. Transposes read by nobody, until none is left (skipping one drops its own read).
  for (let changed = true; changed; ) {
    changed = false;
    current = readers(skipped);
    for (const t of kernels) {
      if (skipped.has(t.id) || products.has(t.id) || !isTranspose(t) || outputs.has(t.output) || current.has(t.output)) continue;
      skipped.set(t.id, "no step: a transpose nothing reads any more (the products that read it read its source transposed)");
      changed = true;
    }
  }
  return { skipped, products };
}
