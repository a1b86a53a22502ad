/**
 * The attention graphs of the WebGPU attention tests (`attention.test.ts`,
 * `attention-backward.test.ts`): softmax(mask(Q·Kᵀ / √dk)), optionally
 * dropped out, times V, with K stored as [.., keys, dk] and read
 * transposed, and the feeds of its inputs.
 */
import { softmax } from "../../compiler/lower/ops.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { numbers } from "../cpu/compare.js";

/** One attention's sizes and options. */
export interface AttentionCase {
  readonly batch: number[];
  readonly rows: number;
  readonly keys: number;
  readonly dk: number;
  readonly dv: number;
  readonly causal?: boolean;
  /** V shared by every head (batch axes of size 1). */
  readonly sharedV?: boolean;
  /** Dropout (rate 0.1) on the probabilities, drawn from `seed` and `step` inputs. */
  readonly dropout?: boolean;
}

export type Feeds = Record<string, { shape: number[]; data: number[] }>;

/** The attention of `c` on a new builder: its inputs, the probabilities scaled for dropout (before it), the output, and feeds. */
export function buildAttention(c: AttentionCase): { b: IRBuilder; q: Node; k: Node; v: Node; scaled: Node | null; o: Node; feeds: Feeds } {
  const b = new IRBuilder();
  const qShape = [...c.batch, c.rows, c.dk];
  const kShape = [...c.batch, c.keys, c.dk];
  const vShape = [...(c.sharedV ? c.batch.map(() => 1) : c.batch), c.keys, c.dv];
  const q = b.input("q", qShape);
  const k = b.input("k", kShape);
  const v = b.input("v", vShape);
  let x: Node = b.mul(b.matmul(q, b.transpose(k)), 1 / Math.sqrt(c.dk));
  if (c.causal === true) {
    const future = b.cmplt(b.iota([c.rows, c.keys], 0), b.iota([c.rows, c.keys], 1));
    x = b.where(b.reshape(future, [...c.batch.map(() => 1), c.rows, c.keys]), -Infinity, x);
  }
  let p = softmax(b, x, c.batch.length + 1);
  const feeds: Feeds = {
    q: { shape: qShape, data: numbers(sizeOf(qShape), 1) },
    k: { shape: kShape, data: numbers(sizeOf(kShape), 2) },
    v: { shape: vShape, data: numbers(sizeOf(vShape), 3) },
  };
  let scaled: Node | null = null;
  if (c.dropout === true) {
    const seed = b.input("seed", [], "i32");
    const step = b.input("step", [], "i32");
    scaled = b.mul(p, 1 / 0.9);
    p = b.where(b.cmplt(b.uniform([...c.batch, c.rows, c.keys], { seed, step, stream: b.newStream() }), 0.1), 0, scaled);
    feeds["seed"] = { shape: [], data: [7] };
    feeds["step"] = { shape: [], data: [3] };
  }
  return { b, q, k, v, scaled, o: b.matmul(p, v), feeds };
}
