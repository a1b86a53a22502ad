/**
 * The functions of an `attention` kernel (`runtime/kernel/fuse-attention.ts`):
 * O = P′·V with P′ from softmax rows of X = f(Q·Kᵀ), one block of query rows
 * at a time, so that neither the score matrix X nor P′ is ever stored whole,
 * and Q, K and V are read in place through their views (a head split, a
 * transpose: no broadcast copies).
 *
 * The kernel is cut at its two inner values into three kernels of kinds the
 * other emitters print: the product with its epilogue (the scale and the
 * mask) up to X (`matmul-kernel.ts`), the softmax rows from X to P′ with the
 * chain after them (dropout: its Philox draws computed in place, at their
 * flat index in the whole score space, `space-kernel.ts`), and P′·V
 * (`matmul-kernel.ts`). A work item is one matrix of the batch (batch·head)
 * and one block of `MC` query rows, or, for matrices of fewer rows, as many
 * whole consecutive matrices as fit in `MC` rows (short sequences: fewer
 * calls); its driver calls the three on those rows only, with X and P′ in a strip of the thread's own scratch (rows × keys:
 * the matmul's row blocks and the reduce kernel's rows both address the full
 * score space, so the strip's address is taken back by the block's first
 * element and the kernels' own index arithmetic lands in it). Values of the
 * score space that a backward pass keeps (P′, its exponentials, the dropout
 * mask, the row sums) are written where the graph stores them; P′ then feeds
 * ·V from there.
 *
 * The softmax is the reduce kernel's own: the exact row maximum, then the
 * sum of exponentials, then the quotients, over a row in cache, so the
 * kernel computes bit for bit what the three kernels compute unfused (no
 * online rescaling: a row of scores is at most `MAX_KEYS` wide here). Work
 * items are split among threads, each computed by one thread in one order,
 * so results do not depend on the number of threads.
 *
 * Not an online softmax over blocks of keys: a row of up to `MAX_KEYS`
 * scores fits the strip (4 MiB per thread at most, 32 KB for tiny-gpt), and
 * over a whole row the softmax is exact and its bits are the unfused
 * kernels'. Longer rows fall back to the kernel's ops one by one.
 *
 * The backward pass keeps the materialized path: the autodiff of the IR
 * (before planning) reads the probabilities, the exponentials, the dropout
 * mask and the row sums, so the kernel writes them as extra outputs where a
 * backward kernel reads them. A flash-style backward (recomputing each
 * block's probabilities from Q, K and a saved log-sum-exp) would need the
 * gradient of attention as one op of the IR, or a planner pass that
 * recomputes instead of storing; neither exists, and the forward gains no
 * memory in training until one does.
 */
import { sizeOf } from "../../../ir/shape.js";
import type { Anatomy } from "../../../kernel/anatomy.js";
import type { Kernel, KernelArg, KernelOp } from "../../../kernel/graph.js";
import { Code, I32 } from "../wasm.js";
import { emitMatmulKernel, MATMUL_SCRATCH_BYTES, MC } from "./matmul-kernel.js";
import { emitSpaceKernel, type ModuleRefs, type Typed } from "./space-kernel.js";

/** The widest row of scores kept in a strip (keys): 2 · MC · 8192 · 4 bytes = 4 MiB per thread. */
export const MAX_KEYS = 8192;

/** Where a part kernel reads an operand: an input of the attention kernel, or the strip holding X or P′. */
type Source = { readonly input: number } | { readonly strip: "x" | "p" };
/** Where a part kernel writes: an output of the attention kernel (0 is its result), or a strip. */
type Sink = { readonly output: number } | { readonly strip: "x" | "p" };

/** One of the three kernels an attention kernel is cut into. */
interface Part {
  readonly kernel: Kernel;
  readonly anatomy: Anatomy;
  readonly inputs: readonly Typed[];
  readonly sources: readonly Source[];
  /** The root's sink, then each extra output's. */
  readonly sinks: readonly Sink[];
}

/** An attention kernel cut into its parts, and the sizes its driver needs. */
export interface AttentionPlan {
  readonly kernel: Kernel;
  readonly scores: Part;
  readonly softmax: Part;
  readonly output: Part;
  /** Matrices of the batch, query rows, keys. */
  readonly batches: number;
  readonly rows: number;
  readonly keys: number;
  /** Matrices of the batch per work item: as many as fit in one block of MC rows where a matrix has fewer (short sequences), else 1. */
  readonly group: number;
  /** Bytes of strip each thread needs (X and P′ for one work item's rows). */
  readonly stripBytes: number;
}

/** The anatomy of a kernel where the generated backend emits it whole, else undefined. */
export type Emittable = (k: Kernel, inputs: readonly Typed[]) => Anatomy | undefined;

/**
 * `k` (an `attention` kernel reading values of types `inputs`) cut into its
 * three parts, or null where it does not cut into parts the emitters take
 * whole (the caller then runs the kernel's ops on their own).
 */
export function planAttention(k: Kernel, inputs: readonly Typed[], emittable: Emittable): AttentionPlan | null {
  const ops = k.ops;
  const root = ops.length - 1;
  const matmuls = ops.flatMap((o, j) => (o.op === "matmul" ? [j] : []));
  const maxes = ops.flatMap((o, j) => (o.op === "max" ? [j] : []));
  if (matmuls.length !== 2 || matmuls[1] !== root || maxes.length !== 1) return null;
  const xArg = ops[maxes[0]!]!.args[0]!;
  const pArg = ops[root]!.args[0]!;
  if (!("op" in xArg) || !("op" in pArg)) return null;
  const [jx, jp] = [xArg.op, pArg.op];
  const extras = k.extraOutputs ?? [];
  const outputOf = new Map<number, number>(extras.map((e, i) => [e.op, i + 1]));
  if (outputOf.has(root)) return null;
  const closure = (from: readonly number[], stop: ReadonlySet<number>): Set<number> => {
    const seen = new Set<number>();
    const visit = (j: number): void => {
      if (seen.has(j) || stop.has(j)) return;
      seen.add(j);
      for (const a of ops[j]!.args) if ("op" in a) visit(a.op);
    };
    from.forEach(visit);
    return seen;
  };
  const g1 = closure([jx], new Set());
  if (!g1.has(matmuls[0]!) || g1.has(maxes[0]!)) return null;
  const sinkOf = (j: number, strip: "x" | "p"): Sink => (outputOf.has(j) ? { output: outputOf.get(j)! } : { strip });
  const xSink = sinkOf(jx, "x");
  const pSink = sinkOf(jp, "p");
  const inG1 = extras.filter((e) => g1.has(e.op) && e.op !== jx);
  const rest = extras.filter((e) => !g1.has(e.op) && e.op !== jp);
  const scores = part(k, inputs, jx, inG1.map((e) => e.op), xSink, new Map(), outputOf, emittable);
  const softmax = part(k, inputs, jp, rest.map((e) => e.op), pSink, new Map([[jx, xSink]]), outputOf, emittable);
  const output = part(k, inputs, root, [], { output: 0 }, new Map([[jp, pSink]]), outputOf, emittable);
  if (scores === null || softmax === null || output === null) return null;
  if (scores.anatomy.kind !== "matmul" || softmax.anatomy.kind !== "reduce" || output.anatomy.kind !== "matmul") return null;
  // Every op of the kernel is in a part, and no computed op of one part is computed again in another.
  const s = scores.anatomy.domain;
  const o = output.anatomy.domain;
  const r = softmax.anatomy;
  if (s.length < 2 || o.length !== s.length || r.domain.length !== s.length) return null;
  if (!sameDims(r.domain, s) || r.axes.length !== 1 || r.axes[0] !== s.length - 1) return null;
  if (!sameDims(s.slice(0, -1), o.slice(0, -1))) return null;
  const keys = s[s.length - 1]!;
  const rows = s[s.length - 2]!;
  const batches = sizeOf(s.slice(0, -2));
  if (keys > MAX_KEYS || keys === 0 || rows === 0 || batches === 0 || o[o.length - 1] === 0) return null;
  if (inG1.length + rest.length !== extras.filter((e) => e.op !== jx && e.op !== jp).length) return null;
  const group = rows < MC ? Math.max(1, Math.min(batches, Math.floor(MC / rows))) : 1;
  const stripBytes = 2 * Math.min(MC, group * rows) * keys * 4;
  return { kernel: k, scores, softmax, output, batches, rows, keys, group, stripBytes };
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The part of `k` that computes op `rootOp` (and `extraOps`, which it must
 * read), with the ops in `boundary` read from where their sinks put them.
 */
function part(k: Kernel, inputs: readonly Typed[], rootOp: number, extraOps: readonly number[], rootSink: Sink, boundary: ReadonlyMap<number, Sink>, outputOf: ReadonlyMap<number, number>, emittable: Emittable): Part | null {
  const ops = k.ops;
  const need = new Set<number>();
  const visit = (j: number): void => {
    if (need.has(j) || boundary.has(j)) return;
    need.add(j);
    for (const a of ops[j]!.args) if ("op" in a) visit(a.op);
  };
  visit(rootOp);
  extraOps.forEach(visit);
  if ([...need].some((j) => j > rootOp)) return null;
  const order = [...need].sort((a, b) => a - b);
  const renumber = new Map(order.map((j, i) => [j, i]));
  const sources: Source[] = [];
  const typed: Typed[] = [];
  const sourceKeys: string[] = [];
  const sourceOf = (s: Source, t: Typed): number => {
    const key = "input" in s ? `i${s.input}` : `s${s.strip}`;
    const at = sourceKeys.indexOf(key);
    if (at >= 0) return at;
    sourceKeys.push(key);
    sources.push(s);
    typed.push(t);
    return sources.length - 1;
  };
  const argOf = (a: KernelArg): KernelArg => {
    if ("input" in a) return { input: sourceOf({ input: a.input }, inputs[a.input]!) };
    const b = boundary.get(a.op);
    if (b === undefined) return { op: renumber.get(a.op)! };
    const o = ops[a.op]!;
    const s: Source = "strip" in b ? { strip: b.strip } : { input: -1 - b.output };
    return { input: sourceOf(s, { shape: o.shape, dtype: o.dtype }) };
  };
  const newOps: KernelOp[] = order.map((j) => ({ ...ops[j]!, args: ops[j]!.args.map(argOf) }));
  const r = ops[rootOp]!;
  const kernel: Kernel = {
    id: k.id,
    ops: newOps,
    inputs: sources.map(() => -1),
    output: -1,
    shape: r.shape,
    dtype: r.dtype,
    ...(extraOps.length > 0 ? { extraOutputs: extraOps.map((j) => ({ op: renumber.get(j)!, value: -1 })) } : {}),
  };
  const anatomy = emittable(kernel, typed);
  if (anatomy === undefined) return null;
  return { kernel, anatomy, inputs: typed, sources, sinks: [rootSink, ...extraOps.map((j) => ({ output: outputOf.get(j)! }))] };
}

/** Adds a function to the module (exported or not) and returns its index. */
export type AddFunction = (name: string, code: Code, exported: boolean) => number;

/** What the driver of an attention kernel runs over. */
export interface AttentionFunction {
  /** Work items: matrices of the batch × blocks of MC query rows, or groups of `group` matrices. */
  readonly range: number;
  /** Multiply-adds per work item. */
  readonly work: number;
  readonly account: string;
}

/**
 * Emits the parts of `plan` and its driver `name`:
 * `(start, end, in₀ …, out₀ …, scratch)` runs work items start ‥ end − 1;
 * thread t's strip is at `strips + t · stride` (stride ≥ the plan's `stripBytes`), t read off its matmul
 * scratch (`scratchBase + t · MATMUL_SCRATCH_BYTES`).
 */
export function emitAttention(plan: AttentionPlan, name: string, refs: ModuleRefs, add: AddFunction, nextIndex: () => number, macro: number, layout: { readonly scratchBase: number; readonly strips: number; readonly stride: number }): AttentionFunction {
  const matmul = (p: Part, tag: string): { driver: number; range: number; work: number; account: string } => {
    const base = nextIndex();
    const mm = emitMatmulKernel(p.kernel, p.anatomy, p.inputs, refs, base, macro, undefined, true);
    let driver = -1;
    mm.functions.forEach((fn, i) => {
      const at = add(`${name}_${tag}_${fn.name}`, fn.code, false);
      if (at !== base + i) throw new Error(`cpu: attention kernel k${plan.kernel.id}: function ${fn.name} placed at ${at}, not ${base + i}`);
      driver = at;
    });
    return { driver, range: mm.range, work: mm.work, account: mm.account };
  };
  const g1 = matmul(plan.scores, "scores");
  const sm = emitSpaceKernel(plan.softmax.kernel, plan.softmax.anatomy, plan.softmax.inputs, refs);
  const smAt = add(`${name}_softmax`, sm.code, false);
  const g2 = matmul(plan.output, "output");
  const { batches, rows, keys, group } = plan;
  const mBlocks = Math.ceil(rows / MC);
  // Units: the matmuls' (matrix, block of MC rows); a work item is one unit, or `group` units of one block each.
  const units = batches * mBlocks;
  const items = Math.ceil(units / group);
  const perItem1 = g1.range / units;
  const perItem2 = g2.range / units;
  if (!Number.isInteger(perItem1) || !Number.isInteger(perItem2) || sm.range !== batches * rows || sm.unit !== 1 || (group > 1 && mBlocks !== 1)) {
    throw new Error(`cpu: attention kernel k${plan.kernel.id}: its parts do not block by query rows (${g1.range}, ${sm.range}, ${g2.range} for ${units} units)`);
  }
  const nIn = plan.kernel.inputs.length;
  const nOut = 1 + (plan.kernel.extraOutputs ?? []).length;
  const f = new Code(new Array(2 + nIn + nOut + 1).fill(I32));
  const scratch = 2 + nIn + nOut;
  const [w, z, row0, row1, strip, xAddr, pAddr, lo, hi] = Array.from({ length: 9 }, () => f.local(I32));
  // strip = strips + (scratch − scratchBase) / MATMUL_SCRATCH_BYTES · stride
  f.local_get(scratch).i32_const(layout.scratchBase).i32_sub().i32_const(MATMUL_SCRATCH_BYTES).i32_div_u().i32_const(layout.stride).i32_mul().i32_const(layout.strips).i32_add().local_set(strip);
  const rowBytes = keys * 4;
  const stripHalf = plan.stripBytes / 2;
  const push = (p: Part): void => {
    for (const s of p.sources) {
      if ("strip" in s) f.local_get(s.strip === "x" ? xAddr : pAddr);
      else if (s.input >= 0) f.local_get(2 + s.input);
      else f.local_get(2 + nIn + (-1 - s.input));
    }
    for (const s of p.sinks) {
      if ("strip" in s) f.local_get(s.strip === "x" ? xAddr : pAddr);
      else f.local_get(2 + nIn + s.output);
    }
  };
  f.local_get(0).local_set(w);
  f.block(() =>
    f.loop(() => {
      f.local_get(w).local_get(1).i32_ge_u().br_if(1);
      if (group > 1) {
        // Units lo ‥ hi − 1: whole matrices, rows row0 ‥ row1 − 1 of the score space.
        f.local_get(w).i32_const(group).i32_mul().local_tee(lo).i32_const(group).i32_add().local_set(hi);
        f.local_get(hi).i32_const(units).local_get(hi).i32_const(units).i32_lt_u().select().local_set(hi);
        f.local_get(lo).i32_const(rows).i32_mul().local_set(row0);
        f.local_get(hi).i32_const(rows).i32_mul().local_set(row1);
      } else {
        // Unit w: rows row0 ‥ row1 − 1 of the score space (matrix ⌊w / mBlocks⌋, block w mod mBlocks; z its first row).
        f.local_get(w).local_tee(lo).i32_const(1).i32_add().local_set(hi);
        f.local_get(w).i32_const(mBlocks).i32_div_u().i32_const(rows).i32_mul().local_set(z);
        f.local_get(w).i32_const(mBlocks).i32_rem_u().i32_const(MC).i32_mul().local_get(z).i32_add().local_set(row0);
        f.local_get(row0).i32_const(MC).i32_add().local_get(z).i32_const(rows).i32_add().local_get(row0).i32_const(MC).i32_add().local_get(z).i32_const(rows).i32_add().i32_lt_u().select().local_set(row1);
      }
      // The strips, addressed as the whole score space: element (row, key) of the block is at row0's first.
      f.local_get(strip).local_get(row0).i32_const(rowBytes).i32_mul().i32_sub().local_set(xAddr);
      f.local_get(xAddr).i32_const(stripHalf).i32_add().local_set(pAddr);
      // X = f(Q·Kᵀ) for the block: its blocks of C.
      f.local_get(lo).i32_const(perItem1).i32_mul();
      f.local_get(hi).i32_const(perItem1).i32_mul();
      push(plan.scores);
      f.local_get(scratch).call(g1.driver);
      // P′ and what the backward pass keeps, row by row.
      f.local_get(row0).local_get(row1);
      push(plan.softmax);
      f.call(smAt);
      // O = P′·V for the block.
      f.local_get(lo).i32_const(perItem2).i32_mul();
      f.local_get(hi).i32_const(perItem2).i32_mul();
      push(plan.output);
      f.local_get(scratch).call(g2.driver);
      f.local_get(w).i32_const(1).i32_add().local_set(w);
      f.br(0);
    }),
  );
  add(name, f, true);
  const blocks = group > 1 ? `${items} work items of ≤ ${group} matrices of ${rows} query rows` : `${batches} × ${mBlocks} blocks of ≤ ${MC} query rows`;
  const account = `attention: ${blocks} × ${keys} keys, scores and P′ in a ${plan.stripBytes}-byte strip per thread; scores ${g1.account}; softmax ${sm.account}; output ${g2.account}`;
  return { range: items, work: group * (g1.work * perItem1 + g2.work * perItem2), account };
}
