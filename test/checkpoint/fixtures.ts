/**
 * Checkpoints the Python cross-checks read, and what PyTorch should compute
 * from them if the layouts of spec/checkpoints.md hold.
 */
import type { Tensor } from "../../runtime/checkpoint/dtypes.js";

/** The tensors of the model `Named` in spec/checkpoints.md, with small deterministic values. */
export function namedModel(): Map<string, Tensor> {
  const shapes: [string, number[]][] = [
    ["f.0.weight", [8, 1, 3, 3]],
    ["f.0.bias", [8]],
    ["f.1.weight", [8]],
    ["f.1.bias", [8]],
    ["f.1.running_mean", [8]],
    ["f.1.running_var", [8]],
    ["f.4.weight", [64, 1568]],
    ["f.4.bias", [64]],
    ["f.5.weight", [64]],
    ["f.5.bias", [64]],
    ["z.mu.weight", [16, 64]],
    ["z.mu.bias", [16]],
    ["z.logvar.weight", [16, 64]],
    ["z.logvar.bias", [16]],
    ["g.0.weight", [784, 16]],
    ["g.0.bias", [784]],
    ["W.weight", [10, 16]],
    ["W.bias", [10]],
  ];
  const tensors = new Map<string, Tensor>();
  let k = 0;
  for (const [name, shape] of shapes) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (((k++ * 7919) % 2001) - 1000) / 8192;
    tensors.set(name, { dtype: "F32", shape, data });
  }
  tensors.set("f.1.num_batches_tracked", { dtype: "I64", shape: [], data: new BigInt64Array([1200n]) });
  return tensors;
}

/**
 * One layer of each kind, under the prefixes torch_check.py expects: `dense`
 * (5 → 3), `conv` (2 → 4, kernel 3), `deconv` (4 → 2, kernel 3), `emb` (7 × 3),
 * `ln` (3), `bn` (4), `attn` (width 4).
 */
export function layerTensors(): Map<string, Tensor> {
  const values = (n: number, seed: number) =>
    Float32Array.from({ length: n }, (_, i) => (((i + 1) * (seed * 31 + 17)) % 97) / 64 - 0.75);
  const t = (shape: number[], seed: number): Tensor => ({ dtype: "F32", shape, data: values(shape.reduce((a, b) => a * b, 1), seed) });
  return new Map<string, Tensor>([
    ["dense.weight", t([3, 5], 1)],
    ["dense.bias", t([3], 2)],
    ["conv.weight", t([4, 2, 3, 3], 3)],
    ["conv.bias", t([4], 4)],
    ["deconv.weight", t([4, 2, 3, 3], 5)],
    ["deconv.bias", t([2], 6)],
    ["emb.weight", t([7, 3], 7)],
    ["ln.weight", t([3], 8)],
    ["ln.bias", t([3], 9)],
    ["bn.weight", t([4], 10)],
    ["bn.bias", t([4], 11)],
    ["bn.running_mean", t([4], 12)],
    ["bn.running_var", t([4], 13)],
    ["bn.num_batches_tracked", { dtype: "I64", shape: [], data: new BigInt64Array([42n]) }],
    ...(["q", "k", "v", "o"] as const).flatMap((p, j): [string, Tensor][] => [
      [`attn.${p}.weight`, t([4, 4], 20 + j)],
      [`attn.${p}.bias`, t([4], 30 + j)],
    ]),
  ]);
}

/**
 * What torch_check.py's modules compute from `layerTensors()`, in float64:
 * `dense` on x = [1, −2, 0.5, 3, −1.5] (y = x·Wᵀ + b, W stored [out, in]);
 * `emb` row 4; and self-attention, two heads, on a fixed sequence of 3 × 4.
 */
export function torchOutputs(tensors: Map<string, Tensor>): { dense: number[]; emb: number[]; attention: number[][] } {
  const data = (name: string) => [...(tensors.get(name)!.data as Float32Array)];
  const x = [1, -2, 0.5, 3, -1.5];
  const w = data("dense.weight");
  const dense = data("dense.bias").map((bias, o) => bias + x.reduce((s, xi, i) => s + xi * w[o * 5 + i]!, 0));
  const emb = data("emb.weight").slice(12, 15);
  // Q = x·Wqᵀ + bq (likewise K, V); per head of width 2, softmax(QKᵀ/√2)·V; heads concatenated, then o.
  const seq = [[0.5, -1, 2, 0], [1.5, 0.25, -0.5, 1], [-2, 1, 0, 0.5]];
  const project = (p: string, rows: number[][]) => {
    const pw = data(`attn.${p}.weight`);
    const pb = data(`attn.${p}.bias`);
    return rows.map((r) => pb.map((bias, o) => bias + r.reduce((s, ri, i) => s + ri * pw[o * 4 + i]!, 0)));
  };
  const [q, k, v] = [project("q", seq), project("k", seq), project("v", seq)];
  const heads = seq.map((_, i) =>
    [0, 1].flatMap((h) => {
      const cols = [2 * h, 2 * h + 1];
      const scores = k.map((kj) => cols.reduce((s, c) => s + q[i]![c]! * kj[c]!, 0) / Math.SQRT2);
      const top = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - top));
      const total = e.reduce((a, c) => a + c, 0);
      return cols.map((c) => e.reduce((s, ej, j) => s + (ej / total) * v[j]![c]!, 0));
    }),
  );
  return { dense, emb, attention: project("o", heads) };
}
