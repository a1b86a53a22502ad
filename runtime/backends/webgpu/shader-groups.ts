/**
 * Which ops of the planner's fused kernels run together as one WebGPU shader
 * (one dispatch). Fusion is decided once, for every backend, by the kernel
 * planner (`runtime/kernel/fuse.ts`); this step only cuts each fused kernel
 * into the shapes the WGSL renderers print (`wgsl.ts` and the files it
 * calls), and never joins ops of different kernels.
 *
 * The renderers print a map (elementwise ops reading strided views), a matmul
 * reading strided views with an elementwise epilogue, and a long reduction
 * with the elementwise chain feeding it. A fused kernel of one of these
 * shapes is one shader; one the renderers cannot print whole (a softmax or a
 * layer norm: reductions with consumers; pads and concats inside a map) runs
 * as several, its inner values passing through temporary buffers. The graph
 * works on is the fused graph with each kernel's ops spread out as primitive
 * kernels (`primitive-graph.ts`), so a group here is a set of those, and
 * `partition` says which fused kernel each came from.
 *
 * A group has a root, the kernel in whose place it runs, and members, earlier
 * kernels inlined into it: their values are computed in registers where they
 * are read instead of going through memory. A kernel can be inlined when its
 * op can be evaluated at any index of its output (elementwise ops, casts,
 * `const`, the strided views `reshape`, `permute`, `expand`, `slice`, and
 * pads (interior padding too: a strided slice's gradient, a transposed
 * convolution's planes) and concats, which read the one element an
 * index needs), and into a matmul as a strided view of one value or as a
 * convolution's windows (pads, slices, concats of an image: an implicit GEMM
 * whose tiles load each element through them). One matmul may join
 * an elementwise group whose root reads its result at the same index: the
 * rest of the group then runs on each result in registers (an epilogue), and
 * its operands are strided views too. A long reduction (`isLongReduction`)
 * takes the elementwise chain feeding it, evaluated where it reads each
 * element.
 *
 * *Invariant*: a member's value is read only inside its group, unless the
 * group also writes it (an extra output: the root's element count, every
 * other reader in a later group). Consts, views and scalar ops (`isFree`)
 * are recomputed wherever read, and run on their own only when some group
 * still reads them from memory. The executor places temporaries afresh over
 * the groups (`memory.ts`), so the graph's buffer sharing never constrains
 * a group.
 */
import { isOpOf, OPS, type Op } from "../../ir/ops.js";
import { sizeOf, stridesOf } from "../../ir/shape.js";
import type { Kernel, KernelGraph } from "../../kernel/graph.js";

/** One dispatch of a fused plan. */
export interface FusedGroup {
  /** The kernel whose output the group writes first, and in whose place it runs. */
  readonly root: number;
  /** The kernels computed inside the group, by increasing id, the root last. */
  readonly kernels: readonly number[];
  /** The values the group reads from memory, distinct, in binding order. */
  readonly inputs: readonly number[];
  /** The values the group writes: the root's, then those of members read elsewhere too (same element count as the root's). */
  readonly outputs: readonly number[];
}

/** Options of `planShaderGroups`. */
export interface ShaderGroupOptions {
  /** False: one group per kernel, as the graph was planned. */
  readonly fuse?: boolean;
  /** The fused kernel each kernel of the graph belongs to: a group never takes kernels of two. By default, all one. */
  readonly partition?: readonly number[];
}

/** The most storage bindings (inputs and outputs) of a fused group: WebGPU's guaranteed minimum. */
export const MAX_BINDINGS = 8;

/** How far past `MAX_BINDINGS` a group may grow on its way to a state within it. */
const SLACK = 4;

/** Ops evaluated at any index of their output from operands at the same index. */
function isElementwise(op: Op): boolean {
  // An op name from JSON may be unknown (the renderer refuses it by name later).
  if (!Object.prototype.hasOwnProperty.call(OPS, op)) return false;
  return isOpOf(op, "unary") || isOpOf(op, "binary") || isOpOf(op, "ternary") || isOpOf(op, "cast");
}

/** Ops that read their one operand at an index computed from the output's (strided views). */
const VIEWS: ReadonlySet<Op> = new Set<Op>(["reshape", "permute", "expand", "slice"]);

/** Whether a kernel can be evaluated at any index of its output (a member, or a root of an elementwise group). */
export function isInlinable(k: Kernel): boolean {
  if (k.ops.length !== 1) return false;
  const op = k.ops[0]!.op;
  // Pads (interior padding too: a strided slice's gradient) and concats: the evaluator reads the one element each
  // needs (`wgsl-fused.ts`), so a convolution's input gradient (a sum of padded window gradients) runs as one shader.
  return isElementwise(op) || VIEWS.has(op) || op === "const" || op === "concat" || op === "pad";
}

/**
 * Whether a kernel is cheap enough to recompute in every group that reads it
 * (a literal, index arithmetic, or one scalar), so that it never keeps
 * groups apart.
 */
function isFree(k: Kernel): boolean {
  if (k.ops.length !== 1) return false;
  const op = k.ops[0]!.op;
  return op === "const" || VIEWS.has(op) || (isElementwise(op) && sizeOf(k.shape) <= 1);
}

/**
 * The groups of a graph, in execution order. Roots are taken from the last
 * kernel back; each pulls in the producers of its operands that qualify,
 * latest first, so a producer is only considered once every reader that
 * could join has decided. A producer joins when every reader of its value is
 * in the group; or, with the root's element count, when every other reader
 * already runs in a later group (it is then also written, an extra output);
 * or when it is free (`isFree`): it is then recomputed wherever read, and
 * runs on its own only if some group still reads it from memory.
 */
export function planShaderGroups(graph: KernelGraph, options: ShaderGroupOptions = {}): FusedGroup[] {
  const kernels = graph.kernels;
  const partition = options.partition;
  const apart = (p: number, r: number): boolean => partition !== undefined && partition[p] !== partition[r];
  if (options.fuse === false) return kernels.map((k) => ({ root: k.id, kernels: [k.id], inputs: distinct(k.inputs), outputs: [k.output] }));
  const readers = new Map<number, Set<number>>();
  kernels.forEach((k) => k.inputs.forEach((v) => (readers.get(v) ?? readers.set(v, new Set()).get(v)!).add(k.id)));
  const graphOutputs = new Set(graph.outputs.map((o) => o.value));
  /** Kernels placed in a group (free ones only when they run as a root). */
  const taken = new Set<number>();
  /** Values some group reads from memory. */
  const stored = new Set<number>();
  const groups: FusedGroup[] = [];
  for (let r = kernels.length - 1; r >= 0; r--) {
    if (taken.has(r)) continue;
    const root = kernels[r]!;
    if (isFree(root) && !graphOutputs.has(root.output) && !stored.has(root.output)) continue;
    taken.add(r);
    const members = new Set([r]);
    const outputs = [root.output];
    const kind = rootKind(root, graph);
    const count = sizeOf(root.shape);
    const inside = new Set<number>();
    /**
     * Whether every reader of `v` is in the group, or (`later`) runs in a
     * group after this one; a free reader counts through its own readers,
     * and must not also run on its own before the root.
     */
    const confined = (v: number, later: boolean): boolean =>
      [...(readers.get(v) ?? [])].every((q) => {
        const k = kernels[q]!;
        if (members.has(q)) return (q === r && graphOutputs.has(k.output)) || !isFree(k) || (!graphOutputs.has(k.output) && !stored.has(k.output) && confined(k.output, later));
        if (!later) return false;
        return isFree(k) ? q > r && confined(k.output, true) : taken.has(q);
      });
    if (kind !== "single") {
      /** Leaves: values read by members and computed by none. */
      const leaves = new Set(root.inputs);
      // The last state within the binding limit: joins past it may bring the count back down, else they are undone.
      const takenHere: number[] = [];
      let within = { members: [...members], outputs: [...outputs], taken: 0 };
      const candidates = new Set(root.inputs);
      /** A matmul in the group (the root, or one whose result the elementwise rest takes in registers), and the values its operands are views of. */
      let matmul = kind === "matmul" ? root : null;
      let feeds = new Set(kind === "matmul" ? root.inputs : []);
      /** Whether the group reads `v` at the root's index only (through elementwise ops and reshapes). */
      const identityOnly = (v: number): boolean =>
        [...(readers.get(v) ?? [])]
          .filter((q) => members.has(q))
          .every((q) => {
            const op = kernels[q]!.ops[0]!.op;
            return (isElementwise(op) || op === "reshape") && (q === r || identityOnly(kernels[q]!.output));
          });
      for (;;) {
        // The latest producer of a leaf not yet tried.
        let best = -1;
        for (const v of candidates) best = Math.max(best, graph.values[v]!.def);
        if (best < 0) break;
        const p = kernels[best]!;
        const v = p.output;
        candidates.delete(v);
        if (apart(best, r)) continue;
        const free = isFree(p) && !graphOutputs.has(v);
        if (taken.has(best) && !free) continue;
        const isMatmul = p.ops.length === 1 && p.ops[0]!.op === "matmul";
        if (feeds.has(v) ? !fits("matmul", p) : isMatmul ? kind !== "map" || matmul !== null || sizeOf(p.shape) !== count || !identityOnly(v) : !fits(kind, p)) continue;
        const alone = !free && !graphOutputs.has(v) && confined(v, false);
        // An extra output must be written before every other reader runs: they are all in later groups.
        const extra = !free && !alone && kind === "map" && sizeOf(p.shape) === count && confined(v, true);
        if (!free && !alone && !extra) continue;
        // With it, the free kernels it reads from, so that they never count as leaves.
        const joining = [best];
        const nextFeeds = new Set(feeds);
        if (isMatmul || feeds.has(v)) for (const u of p.inputs) nextFeeds.add(u);
        const stack = [...p.inputs];
        while (stack.length > 0) {
          const u = stack.pop()!;
          const d = graph.values[u]!.def;
          if (d < 0 || apart(d, r) || members.has(d) || joining.includes(d) || graphOutputs.has(u) || !isFree(kernels[d]!) || !fits(nextFeeds.has(u) ? "matmul" : kind, kernels[d]!)) continue;
          joining.push(d);
          stack.push(...kernels[d]!.inputs);
          if (nextFeeds.has(u)) for (const w of kernels[d]!.inputs) nextFeeds.add(w);
        }
        const computed = new Set([...inside, ...joining.map((k) => kernels[k]!.output)]);
        const next = new Set([...leaves].filter((u) => !computed.has(u)));
        for (const k of joining) for (const u of kernels[k]!.inputs) if (!computed.has(u)) next.add(u);
        const bindings = next.size + outputs.length + (extra ? 1 : 0);
        if (bindings > MAX_BINDINGS + SLACK) continue;
        const mm = isMatmul ? p : matmul;
        if (mm !== null && !mm.inputs.every((u) => readable(graph, mm, u, new Set([...members, ...joining])))) continue;
        matmul = mm;
        feeds = nextFeeds;
        for (const k of joining) {
          members.add(k);
          inside.add(kernels[k]!.output);
        }
        if (!free) {
          taken.add(best);
          takenHere.push(best);
        }
        if (extra) outputs.push(v);
        leaves.clear();
        for (const u of next) leaves.add(u);
        for (const u of next) if (graph.values[u]!.def >= 0) candidates.add(u);
        if (bindings <= MAX_BINDINGS) within = { members: [...members], outputs: [...outputs], taken: takenHere.length };
      }
      members.clear();
      for (const k of within.members) members.add(k);
      outputs.splice(0, outputs.length, ...within.outputs);
      for (const k of takenHere.slice(within.taken)) taken.delete(k);
    }
    const list = [...members].sort((a, b) => a - b);
    const inputs = groupInputs(graph, list, outputs);
    for (const v of inputs) stored.add(v);
    groups.push({ root: r, kernels: list, inputs, outputs });
  }
  return groups.reverse();
}

/** Whether a reduction of `count` elements per output is long: it then runs as a workgroup tree, and takes its operand's elementwise chain. */
export function isLongReduction(count: number): boolean {
  return count >= 256;
}

/** How a root fuses: elementwise ("map"), matmul (views of its operands), a long reduction (its operand's chain), or not at all. */
export function rootKind(k: Kernel, graph: KernelGraph): "map" | "matmul" | "reduce" | "single" {
  if (isInlinable(k)) return "map";
  if (k.ops.length !== 1) return "single";
  const op = k.ops[0]!.op;
  if (op === "matmul") return "matmul";
  const x = graph.values[k.inputs[0]!];
  if ((op === "sum" || op === "max") && x !== undefined && sizeOf(k.shape) > 0 && isLongReduction(sizeOf(x.shape) / sizeOf(k.shape))) return "reduce";
  return "single";
}

/** Whether producer `p` may join a group of this kind: into a matmul's operands, views and the pads and concats of a convolution's windows. */
function fits(kind: "map" | "matmul" | "reduce", p: Kernel): boolean {
  if (kind !== "matmul") return isInlinable(p);
  return p.ops.length === 1 && (VIEWS.has(p.ops[0]!.op) || WINDOWS.has(p.ops[0]!.op));
}

/** Ops that make a convolution's windows, read by a matmul in place (evaluated where its tiles load them). */
const WINDOWS: ReadonlySet<Op> = new Set<Op>(["pad", "concat"]);

/** The values a group reads from memory: its kernels' inputs that none of them computes, distinct, in first-read order. */
export function groupInputs(graph: KernelGraph, kernels: readonly number[], outputs: readonly number[]): number[] {
  const inside = new Set(kernels.map((k) => graph.kernels[k]!.output));
  const inputs: number[] = [];
  // Root first, operands in order, depth first: the order the renderer meets them.
  const seen = new Set<number>();
  const visit = (v: number): void => {
    if (seen.has(v)) return;
    seen.add(v);
    if (!inside.has(v)) {
      inputs.push(v);
      return;
    }
    for (const u of graph.kernels[graph.values[v]!.def]!.inputs) visit(u);
  };
  for (const v of outputs) visit(v);
  return inputs;
}

function distinct(values: readonly number[]): number[] {
  return [...new Set(values)];
}

/**
 * Whether matmul `mm` can read operand `u` inside a group of `members`: as a
 * strided view, or (windows: pads, slices, concats) evaluated element by
 * element at a flat index of its shape, whose batch axes must then be the
 * product's.
 */
function readable(graph: KernelGraph, mm: Kernel, u: number, members: ReadonlySet<number>): boolean {
  if (viewOfValue(graph, u, members) !== false) return true;
  const shape = graph.values[u]!.shape;
  return shape.length === mm.shape.length && shape.slice(0, -2).every((d, a) => d === mm.shape[a]);
}

/** A strided view of a stored value: element (c0, c1, …) of `shape` is at `base + Σ c_a · strides_a` of `value`. */
export interface View {
  readonly value: number;
  readonly base: number;
  readonly strides: readonly number[];
}

/**
 * The strided view that value `v` is of a stored value, following the view
 * kernels among `members` (and `extra`), or false when some reshape does not
 * keep it strided.
 */
export function viewOfValue(graph: KernelGraph, v: number, members: ReadonlySet<number>): View | false {
  const def = graph.values[v]!.def;
  if (def < 0 || !members.has(def) || graph.kernels[def]!.ops[0]!.op === "matmul") {
    return { value: v, base: 0, strides: stridesOf(graph.values[v]!.shape) };
  }
  const k = graph.kernels[def]!;
  const op = k.ops[0]!;
  const from = graph.values[k.inputs[0]!]!;
  const inner = viewOfValue(graph, k.inputs[0]!, members);
  if (inner === false) return false;
  switch (op.op) {
    case "permute":
      return { ...inner, strides: (op.attrs as { perm: readonly number[] }).perm.map((p) => inner.strides[p]!) };
    case "expand":
      return { ...inner, strides: inner.strides.map((s, a) => (from.shape[a] === 1 ? 0 : s)) };
    case "slice": {
      const { starts, steps } = op.attrs as { starts: readonly number[]; steps: readonly number[] };
      return { value: inner.value, base: inner.base + starts.reduce((sum, s, a) => sum + s * inner.strides[a]!, 0), strides: inner.strides.map((s, a) => s * steps[a]!) };
    }
    case "reshape": {
      // Reshapes that only add or drop axes of size 1, or of a contiguous view.
      const contiguous = stridesOf(from.shape);
      if (from.shape.every((d, a) => d === 1 || inner.strides[a] === contiguous[a])) return { ...inner, strides: stridesOf(k.shape) };
      const kept = from.shape.flatMap((d, a) => (d === 1 ? [] : [[d, inner.strides[a]!] as const]));
      const to = k.shape.filter((d) => d !== 1);
      if (kept.length !== to.length || kept.some(([d], j) => d !== to[j])) return false;
      let j = 0;
      return { ...inner, strides: k.shape.map((d) => (d === 1 ? 0 : kept[j++]![1])) };
    }
    default:
      return false;
  }
}
