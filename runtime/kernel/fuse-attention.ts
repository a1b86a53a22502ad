/**
 * The `attention` kernel kind (opt-in: `FusionOptions.attention`): a step
 * after `planFusion` forms its groups that finds scaled dot-product attention,
 * softmax(f(Q·Kᵀ))·V, among them and joins its three groups into one:
 *
 * - a `matmul` group G1 whose product S = Q·Kᵀ (with any epilogue) is read
 *   only by
 * - a `reduce` group R over S's last axis holding one `max` and one `sum`
 *   (the softmax: X = f(S) from elementwise ops and views of other values, a
 *   mask or a scale; M = max X; E = exp(X − M); L = sum E; P = E / L, then
 *   any elementwise chain on P such as dropout), whose root P′ is the first
 *   operand of
 * - a `matmul` group G2 whose root is its product O = P′·V (no epilogue).
 *
 * The joined group runs in G2's place, so it is formed only where every value
 * G1 and R write is read, outside the three, by groups after G2 (a backward
 * pass keeps what it reads, P′ say, as extra outputs of the full space [.., T,
 * T′] or of the rows [.., T, 1]), and where its bindings stay within
 * `MAX_BINDINGS`. A backend renders it as one kernel per block of query rows
 * that never stores S (flash attention); one that does not render the kind
 * leaves it off, and its groups stay the three above.
 *
 * *Invariant*: the joined group computes exactly the primitives of the three
 * groups; only where they run and which values reach memory change.
 */
import type { OpAttrs } from "../ir/ops.js";
import { sameShape } from "../ir/shape.js";
import type { Kernel } from "./graph.js";
import { groupInputs, isPointwise, MAX_BINDINGS, type FusionGroup } from "./fuse.js";
import type { KernelProgram } from "./program.js";

/** The ops an attention group may hold besides its two matmuls and its max and sum. */
const INSIDE: ReadonlySet<string> = new Set(["reshape", "permute", "expand", "slice", "const", "iota", "uniform"]);

/** The roles of an attention group's kernels, found again by a backend that renders it. */
export interface AttentionRoles {
  /** Q·Kᵀ, its max and sum over the last axis, and P′·V (the root). */
  readonly scores: Kernel;
  readonly max: Kernel;
  readonly sum: Kernel;
  readonly output: Kernel;
}

/** The roles of a group's kernels when they form attention as this file defines it, else null. */
export function attentionRoles(kernels: readonly Kernel[], program: Pick<KernelProgram, "values">): AttentionRoles | null {
  const matmuls = kernels.filter((k) => op(k) === "matmul");
  const maxes = kernels.filter((k) => op(k) === "max");
  const sums = kernels.filter((k) => op(k) === "sum");
  if (matmuls.length !== 2 || maxes.length !== 1 || sums.length !== 1) return null;
  const output = kernels[kernels.length - 1]!;
  const scores = matmuls.find((k) => k !== output);
  if (scores === undefined || op(output) !== "matmul") return null;
  const s = program.values[scores.output]!.shape;
  const p = program.values[output.inputs[0]!]!.shape;
  const last = s.length - 1;
  for (const r of [maxes[0]!, sums[0]!]) {
    const axes = (r.ops[0]!.attrs as OpAttrs["sum"]).axes;
    if (axes.length !== 1 || axes[0] !== last || !sameShape(program.values[r.inputs[0]!]!.shape, s)) return null;
  }
  if (!sameShape(s, p) || s.length < 2) return null;
  for (const k of kernels) {
    if (k === scores || k === output || k === maxes[0] || k === sums[0]) continue;
    if (k.ops.length !== 1 || !(INSIDE.has(op(k)) || isPointwise(k.ops[0]!.op))) return null;
  }
  return { scores, max: maxes[0]!, sum: sums[0]!, output };
}

function op(k: Kernel): string {
  return k.ops[0]!.op;
}

/** `groups` (in execution order) with each softmax(Q·Kᵀ)·V found among them joined into one `attention` group. */
export function joinAttention(groups: readonly FusionGroup[], program: KernelProgram, maxBindings = MAX_BINDINGS): FusionGroup[] {
  const kernels = program.kernels;
  const list = [...groups];
  /** The groups holding each kernel: a free kernel (a view, a constant) is copied into every group reading it. */
  const groupsOf = (): Map<number, number[]> => {
    const m = new Map<number, number[]>();
    list.forEach((g, i) => g.kernels.forEach((k) => (m.get(k) ?? m.set(k, []).get(k)!).push(i)));
    return m;
  };
  const writerOf = (): Map<number, number> => {
    const m = new Map<number, number>();
    list.forEach((g, i) => g.outputs.forEach((v) => m.set(v, i)));
    return m;
  };
  const readers = new Map<number, number[]>();
  kernels.forEach((k) => k.inputs.forEach((v) => (readers.get(v) ?? readers.set(v, []).get(v)!).push(k.id)));
  const graphOutputs = new Set(program.outputs.map((o) => o.value));
  for (let i = 0; i < list.length; i++) {
    const g2 = list[i]!;
    const output = kernels[g2.root]!;
    if (g2.kind !== "matmul" || op(output) !== "matmul") continue;
    const writer = writerOf();
    const ri = writer.get(output.inputs[0]!);
    if (ri === undefined || ri >= i || list[ri]!.kind !== "reduce" || list[ri]!.outputs[0] !== output.inputs[0]) continue;
    const r = list[ri]!;
    const rInputs = groupInputs(r.kernels, kernels);
    const g1i = rInputs.map((v) => writer.get(v)).find((w) => w !== undefined && w < ri && list[w]!.kind === "matmul" && op(kernels[list[w]!.kernels.find((k) => op(kernels[k]!) === "matmul")!]!) === "matmul");
    if (g1i === undefined) continue;
    const g1 = list[g1i]!;
    const members = [...new Set([...g1.kernels, ...r.kernels, ...g2.kernels])].sort((a, b) => a - b);
    const roles = attentionRoles(members.map((k) => kernels[k]!), program);
    if (roles === null || !g1.kernels.includes(roles.scores.id)) continue;
    const at = groupsOf();
    const three = new Set([g1i, ri, i]);
    // Values of G1 and R read outside the three: only by groups after G2 (or as graph outputs), and in a space the kernel writes.
    const rows = program.values[roles.max.output]!.shape;
    const full = program.values[roles.scores.output]!.shape;
    const extra: number[] = [];
    let fits = true;
    for (const v of [...g1.outputs, ...r.outputs]) {
      // Groups other than the three that read v (a free reader may be in several).
      const outside = (readers.get(v) ?? []).flatMap((q) => (at.get(q) ?? [-1]).filter((w) => !three.has(w)));
      if (outside.length === 0 && !graphOutputs.has(v)) continue;
      const shape = program.values[v]!.shape;
      if (v === roles.scores.output || !outside.every((w) => w > i) || !(sameShape(shape, full) || sameShape(shape, rows))) fits = false;
      extra.push(v);
    }
    const outputs = [...g2.outputs, ...extra];
    if (!fits || groupInputs(members, kernels).length + outputs.length > maxBindings) continue;
    list[i] = { root: g2.root, kernels: members, outputs, kind: "attention" };
    list.splice(ri, 1);
    list.splice(g1i, 1);
    i -= 2;
  }
  return list;
}
