/**
 * The fusion planner: which primitive kernels of a program run together as
 * one fused kernel, for every backend (DESIGN.md stage 5). A pure step over
 * plain data; backends render the kernels it makes and decide nothing.
 *
 * A group has a root, the kernel in whose place it runs, and members, earlier
 * kernels computed inside it: their values never go through memory unless
 * the group also writes them (extra outputs). Each group has a kind
 * (`KernelKind`) and a domain, the index space it runs over, and every
 * member's value lives in one *space* of that domain:
 *
 * - `full`: one value per element of the domain, at the same flat index
 *   (elementwise ops, and reshapes between them);
 * - `reduced`: in a `reduce` group, one value per row (the domain with the
 *   reduced axes removed); reductions take full values to reduced ones, and
 *   an expand along exactly the reduced axes takes them back;
 * - `scalar`: one value for the whole run (a learning rate's bias correction),
 *   computed once;
 * - `leaf`: read at an index computed through views (permute, expand, slice,
 *   pad, concat, reshape): only views, constants and iotas live here, and
 *   their chains end in stored values.
 *
 * A `matmul` group's domain is its product's result; its operands are `leaf`
 * chains (transposes, broadcasts, and for a convolution the windows of an
 * image: `conv`), and the elementwise rest of the group its epilogue.
 *
 * The `attention` kind is not made here: `fuse-attention.ts` joins a
 * softmax(Q·Kᵀ)·V's three groups after this planner, and only where the
 * caller asks (`FusionOptions.attention`, which the WebGPU home passes), so
 * that backends rendering the kinds above (the CPU's generated WebAssembly,
 * ONNX) never meet it.
 *
 * Groups form from the last kernel back; each pulls in the producers of the
 * values it reads, latest first, so that a producer is considered once every
 * reader that could join has decided. A producer joins when every reader of
 * its value is in the group, or (an extra output, written at its space) when
 * every other reader already runs in a later group or after the run. *Free*
 * kernels (constants, iotas, views and scalar elementwise ops) are copied into
 * every group that reads them, and run on their own only when some group still
 * reads their value from memory.
 *
 * *Invariant*: every group reads only values written before its root runs,
 * and a value a member computes is read outside its group only when the group
 * writes it. Fusion changes where values live, never what is computed:
 * `test/kernel/fuse.test.ts` checks fused and unfused graphs agree on random
 * graphs.
 */
import { isOpOf, OPS, type Op, type OpAttrs } from "../ir/ops.js";
import { sameShape, sizeOf } from "../ir/shape.js";
import type { Kernel, KernelKind } from "./graph.js";
import type { KernelProgram } from "./program.js";

/** The most values a fused kernel reads and writes together: WebGPU's guaranteed storage bindings per shader. */
export const MAX_BINDINGS = 8;

/** How far past `MAX_BINDINGS` a group may grow on its way to a state within it. */
const SLACK = 4;

/** One fused kernel of the plan, over the program's primitive kernels. */
export interface FusionGroup {
  /** The kernel in whose place it runs (its largest id). */
  readonly root: number;
  /** Its kernels by increasing id, the root last. */
  readonly kernels: readonly number[];
  /** The values it writes: the root's, then members' that are read elsewhere. */
  readonly outputs: readonly number[];
  readonly kind: KernelKind;
}

/** Where a member's value lives in its group's domain (see the file comment). */
export type Space = "full" | "reduced" | "scalar" | "leaf";

/** Ops that compute each element from the elements of their operands at the same index. */
export function isPointwise(op: Op): boolean {
  if (!Object.prototype.hasOwnProperty.call(OPS, op)) return false;
  return isOpOf(op, "unary") || isOpOf(op, "binary") || isOpOf(op, "ternary") || isOpOf(op, "cast");
}

/** Ops that read one operand at an index computed from their own (`concat`: one of several). */
export const VIEW_OPS: ReadonlySet<Op> = new Set<Op>(["reshape", "permute", "expand", "slice", "pad", "concat"]);

/** Ops whose value at an index needs no operand at all. */
const INDEX_OPS: ReadonlySet<Op> = new Set<Op>(["const", "iota"]);

/** The op of a primitive kernel. */
function opOf(k: Kernel): Op {
  return k.ops[0]!.op;
}

/** A sum or max that reduces more than one element into each of at least one output. */
export function isReduction(k: Kernel, program: KernelProgram): boolean {
  const op = opOf(k);
  if (op !== "sum" && op !== "max") return false;
  const x = program.values[k.inputs[0]!]!;
  const out = sizeOf(k.shape);
  return out > 0 && sizeOf(x.shape) > out;
}

/** A sum or max over axes of size 1 only: each output is its one input element. */
function isTrivialReduction(k: Kernel, program: KernelProgram): boolean {
  const op = opOf(k);
  return (op === "sum" || op === "max") && sizeOf(program.values[k.inputs[0]!]!.shape) === sizeOf(k.shape) && sizeOf(k.shape) > 0;
}

/** Ops a group may evaluate at each element of a space: elementwise, random draws, and the trivial reductions. */
function isElementwise(k: Kernel, program: KernelProgram): boolean {
  const op = opOf(k);
  return isPointwise(op) || op === "uniform" || op === "normal" || isTrivialReduction(k, program);
}

/**
 * Whether a kernel is cheap enough to compute again in every group that reads
 * it, so that it never keeps groups apart: a constant, an iota, a view, or an
 * elementwise op on one element.
 */
export function isFree(k: Kernel, program: KernelProgram): boolean {
  if (k.ops.length !== 1) return false;
  const op = opOf(k);
  return INDEX_OPS.has(op) || VIEW_OPS.has(op) || (isPointwise(op) && sizeOf(k.shape) <= 1);
}

/** The reduced shape of a reduction's domain: its axes set to 1. */
function reducedShape(domain: readonly number[], axes: readonly number[]): number[] {
  return domain.map((d, a) => (axes.includes(a) ? 1 : d));
}

/** A group while it forms. */
interface Forming {
  kind: "map" | "reduce" | "matmul" | "single";
  /** The domain's shape: the root's (map), the reductions' operand (reduce), the product (matmul). */
  domain: readonly number[];
  /** A reduce group's reduced axes. */
  axes: readonly number[];
  /** A matmul group's product. */
  matmul: number | null;
  readonly members: Set<number>;
  readonly space: Map<number, Space>;
}

/** Options of `planFusion`. */
export interface FusionOptions {
  /** The most values one fused kernel reads and writes (default `MAX_BINDINGS`). */
  readonly maxBindings?: number;
  /**
   * Join softmax(Q·Kᵀ)·V into `attention` kernels (`fuse-attention.ts`), for a
   * backend that renders them (WebGPU asks for it); off by default, so other
   * backends keep the `matmul`, `reduce`, `matmul` kernels they render today.
   * Applied by `fuseProgram`.
   */
  readonly attention?: boolean;
  /** The most values an attention kernel reads and writes (default `maxBindings`): a backend may offer more than the guaranteed 8 (WebGPU passes its device's limit). */
  readonly attentionBindings?: number;
  /**
   * Count a joining view's bindings through the free views it reads (`viewClosure`): a k×k
   * convolution's concat of k² windows (each a slice of one padded image) then joins its matmul,
   * which binds the image once, instead of staying a kernel of k² inputs (past the limit from
   * k = 5). Off by default (WebGPU asks for it; its renderer reads such windows as index arithmetic).
   */
  readonly wideViews?: boolean;
}

/** The fused kernels of a program of primitive kernels, in execution order. */
export function planFusion(program: KernelProgram, options: FusionOptions = {}): FusionGroup[] {
  const maxBindings = options.maxBindings ?? MAX_BINDINGS;
  const kernels = program.kernels;
  const defOf = new Map<number, number>();
  for (const k of kernels) defOf.set(k.output, k.id);
  const readers = new Map<number, Set<number>>();
  kernels.forEach((k) => k.inputs.forEach((v) => (readers.get(v) ?? readers.set(v, new Set()).get(v)!).add(k.id)));
  const graphOutputs = new Set(program.outputs.map((o) => o.value));
  const free = (k: Kernel): boolean => isFree(k, program) && !graphOutputs.has(k.output);
  const count = (v: number): number => sizeOf(program.values[v]!.shape);
  /** Kernels placed in a group (free ones only when they run as a root). */
  const taken = new Set<number>();
  /** Values some group reads from memory. */
  const stored = new Set<number>();
  const groups: FusionGroup[] = [];

  for (let r = kernels.length - 1; r >= 0; r--) {
    if (taken.has(r)) continue;
    const root = kernels[r]!;
    if (free(root) && !stored.has(root.output)) continue;
    taken.add(r);
    const g = startGroup(root, program);
    const outputs = [root.output];
    /**
     * Whether every reader of `v` is in the group, or (`later`) runs in a
     * group after this one; a free reader counts through its own readers,
     * and must not also run on its own before the root.
     */
    const confined = (v: number, later: boolean): boolean =>
      [...(readers.get(v) ?? [])].every((q) => {
        const k = kernels[q]!;
        if (g.members.has(q)) return !free(k) || (!stored.has(k.output) && confined(k.output, later));
        if (!later) return false;
        return free(k) ? q > r && confined(k.output, true) : taken.has(q);
      });
    if (g.kind !== "single") {
      const candidates = new Set(root.inputs);
      const takenHere: number[] = [];
      let within = { state: snapshot(g), outputs: [...outputs], taken: 0 };
      for (;;) {
        // The latest producer of a value the group reads, not yet tried.
        let best = -1;
        for (const v of candidates) best = Math.max(best, defOf.get(v) ?? -1);
        if (best < 0) break;
        const p = kernels[best]!;
        const v = p.output;
        candidates.delete(v);
        const isFreeP = free(p);
        if (taken.has(best) && !isFreeP) continue;
        const space = spaceOfReads(v, g, kernels, readers, program);
        if (space === null) continue;
        const trial = snapshot(g);
        const lives = admit(g, p, space, program);
        if (lives === null) {
          restore(g, trial);
          continue;
        }
        const alone = !isFreeP && !graphOutputs.has(v) && confined(v, false);
        const extra = !isFreeP && !alone && lives !== "leaf" && confined(v, true);
        if (!isFreeP && !alone && !extra) {
          restore(g, trial);
          continue;
        }
        g.members.add(best);
        g.space.set(best, lives);
        const bindings = groupInputs(g.members, kernels).length + outputs.length + (extra ? 1 : 0);
        // A free view may pass the slack: it only stands between the group and its own producers (a 5×5
        // convolution's concat reads 25 windows, all views of one image); the group still ends within maxBindings.
        // With `wideViews`, a join to a group holding windows is judged by what the group binds once the free views it reads join too
        // (they are candidates next; where one cannot join, `within` undoes the joins past the limit).
        const reach = options.wideViews === true && bindings > maxBindings + SLACK && holdsWindows(g.members, kernels) ? groupInputs(viewClosure(g.members, kernels, defOf, free), kernels).length + outputs.length : bindings;
        if (reach > maxBindings + SLACK && !(isFreeP && VIEW_OPS.has(opOf(p)))) {
          g.members.delete(best);
          g.space.delete(best);
          restore(g, trial);
          continue;
        }
        if (!isFreeP) {
          taken.add(best);
          takenHere.push(best);
        }
        if (extra) outputs.push(v);
        for (const u of p.inputs) if (defOf.has(u)) candidates.add(u);
        if (bindings <= maxBindings) within = { state: snapshot(g), outputs: [...outputs], taken: takenHere.length };
      }
      restore(g, within.state);
      outputs.splice(0, outputs.length, ...within.outputs);
      for (const k of takenHere.slice(within.taken)) taken.delete(k);
    }
    const list = [...g.members].sort((a, b) => a - b);
    for (const v of groupInputs(g.members, kernels)) stored.add(v);
    groups.push({ root: r, kernels: list, outputs, kind: finalKind(g, kernels) });
  }
  return groups.reverse();
}

/** Whether a group holds a pad or concat (a convolution's windows, or their gradients): the groups whose joins `wideViews` judges by their free views. */
function holdsWindows(members: ReadonlySet<number>, kernels: readonly Kernel[]): boolean {
  for (const m of members) if (opOf(kernels[m]!) === "pad" || opOf(kernels[m]!) === "concat") return true;
  return false;
}

/** `members` with every free view, constant or iota they read, transitively (not whole groups: only what a join would pull in next). */
function viewClosure(members: ReadonlySet<number>, kernels: readonly Kernel[], defOf: ReadonlyMap<number, number>, free: (k: Kernel) => boolean): Set<number> {
  const all = new Set(members);
  const stack = [...members];
  while (stack.length > 0) {
    for (const u of kernels[stack.pop()!]!.inputs) {
      const d = defOf.get(u);
      if (d === undefined || all.has(d)) continue;
      const k = kernels[d]!;
      if (!free(k) || !(VIEW_OPS.has(opOf(k)) || INDEX_OPS.has(opOf(k)))) continue;
      all.add(d);
      stack.push(d);
    }
  }
  return all;
}

/** A group of its root alone. */
function startGroup(root: Kernel, program: KernelProgram): Forming {
  const g: Forming = { kind: "single", domain: root.shape, axes: [], matmul: null, members: new Set([root.id]), space: new Map([[root.id, "full"]]) };
  const op = opOf(root);
  if (op === "matmul") {
    g.kind = "matmul";
    g.matmul = root.id;
  } else if (isReduction(root, program)) {
    g.kind = "reduce";
    g.domain = program.values[root.inputs[0]!]!.shape;
    g.axes = (root.ops[0]!.attrs as OpAttrs["sum"]).axes;
    g.space.set(root.id, "reduced");
  } else if (isElementwise(root, program) || INDEX_OPS.has(op) || VIEW_OPS.has(op)) {
    g.kind = "map";
    if (sizeOf(root.shape) <= 1) g.space.set(root.id, "scalar");
  }
  return g;
}

interface Snapshot {
  readonly kind: Forming["kind"];
  readonly domain: readonly number[];
  readonly axes: readonly number[];
  readonly matmul: number | null;
  readonly members: number[];
  readonly space: [number, Space][];
}

function snapshot(g: Forming): Snapshot {
  return { kind: g.kind, domain: g.domain, axes: g.axes, matmul: g.matmul, members: [...g.members], space: [...g.space] };
}

function restore(g: Forming, s: Snapshot): void {
  g.kind = s.kind;
  g.domain = s.domain;
  g.axes = s.axes;
  g.matmul = s.matmul;
  g.members.clear();
  for (const m of s.members) g.members.add(m);
  g.space.clear();
  for (const [k, sp] of s.space) g.space.set(k, sp);
}

/** The element count of a space of the group. */
function spaceCount(g: Forming, space: Space): number | null {
  if (space === "full") return sizeOf(g.domain);
  if (space === "reduced") return g.kind === "reduce" ? sizeOf(reducedShape(g.domain, g.axes)) : null;
  if (space === "scalar") return 1;
  return null;
}

/**
 * The space in which the group's members read value `v`, or null when they
 * read it in different spaces (it then stays in memory). A value of one
 * element is a scalar however it is read.
 */
function spaceOfReads(v: number, g: Forming, kernels: readonly Kernel[], readers: ReadonlyMap<number, ReadonlySet<number>>, program: KernelProgram): Space | null {
  const vShape = program.values[v]!.shape;
  // A one-element value is a scalar wherever it is read, except in a product of one element, whose epilogue lives at that element.
  if (sizeOf(vShape) === 1 && !(g.kind === "matmul" && sizeOf(g.domain) === 1)) return "scalar";
  let found: Space | null = null;
  for (const q of readers.get(v) ?? []) {
    if (!g.members.has(q)) continue;
    const k = kernels[q]!;
    const qs = g.space.get(q)!;
    const op = opOf(k);
    let s: Space;
    if (qs === "leaf") s = "leaf";
    else if (op === "matmul") s = "leaf";
    else if (isReduction(k, program)) s = "full";
    else if (op === "uniform" || op === "normal") s = "scalar";
    else if (isElementwise(k, program)) s = qs;
    else if (op === "reshape") s = qs;
    else if (op === "expand" && qs === "full" && sameShape(k.shape, g.domain) && (g.kind !== "matmul")) {
      // An expand along exactly the reduced axes (or, in a map group, along axes that a reduction may then reduce).
      const axes = vShape.flatMap((d, a) => (d === 1 && k.shape[a] !== 1 ? [a] : []));
      const exact = vShape.every((d, a) => d === k.shape[a] || d === 1);
      if (exact && (g.kind === "map" || (g.kind === "reduce" && sameShape(reducedShape(g.domain, g.axes), vShape)))) s = axes.length > 0 ? "reduced" : "full";
      else s = "leaf";
    } else s = "leaf";
    if (found !== null && found !== s) return null;
    found = s;
  }
  return found;
}

/**
 * Admits producer `p` into the group, read in `space`, converting the
 * group's kind where `p` calls for it: the space `p` lives in, or null (the
 * caller restores the group) when it cannot join.
 */
function admit(g: Forming, p: Kernel, space: Space, program: KernelProgram): Space | null {
  const op = opOf(p);
  const n = sizeOf(p.shape);
  const index = INDEX_OPS.has(op) || VIEW_OPS.has(op);
  // A reduction or a product to one element read by a group of one element: its rows (its one element) are the group's.
  if (space === "scalar" && g.kind === "map" && sizeOf(g.domain) === 1 && (isReduction(p, program) || op === "matmul")) space = "full";
  if (space === "leaf") return index ? "leaf" : null;
  if (space === "scalar") return n === 1 && (isPointwise(op) || index) ? "scalar" : null;
  if (space === "reduced" && g.kind === "map") {
    // A view or constant broadcast along some axes is read in place, as a leaf.
    if (index) return "leaf";
    // A computed value broadcast along some axes, computed from a reduction over them (a softmax's maximum):
    // the group becomes a reduce group over those axes (its members stay full).
    const expand = [...g.members].map((m) => program.kernels[m]!).find((k) => opOf(k) === "expand" && k.inputs[0] === p.output);
    if (expand === undefined) return null;
    const axes = p.shape.flatMap((d, a) => (d === 1 && expand.shape[a] !== 1 ? [a] : []));
    if (!reachesReduction(p, expand.shape, axes, program)) return null;
    g.kind = "reduce";
    g.axes = axes;
    g.domain = expand.shape;
  }
  if (isReduction(p, program)) {
    if (g.kind === "matmul" || g.kind === "single") return null;
    const x = program.values[p.inputs[0]!]!.shape;
    const axes = (p.ops[0]!.attrs as OpAttrs["sum"]).axes;
    if (g.kind === "map") {
      // The group's elements are this reduction's rows: it becomes a reduce group over the reduction's operand.
      if (space !== "full" || n !== sizeOf(g.domain)) return null;
      for (const [m, s] of g.space) if (s === "full") g.space.set(m, "reduced");
      g.kind = "reduce";
      g.domain = x;
      g.axes = axes;
      return "reduced";
    }
    const same = space === "reduced" && sameShape(x, g.domain) && axes.length === g.axes.length && axes.every((a, i) => a === g.axes[i]);
    return same ? "reduced" : null;
  }
  if (op === "matmul") {
    if (g.kind !== "map" || space !== "full" || n !== sizeOf(g.domain) || p.dtype !== "f32") return null;
    // In a group of one element, its members were read as scalars; the epilogue lives at the product's (one) element.
    if (n === 1) for (const [m, s] of g.space) if (s === "scalar") g.space.set(m, "full");
    g.kind = "matmul";
    g.matmul = p.id;
    g.domain = p.shape;
    return "full";
  }
  if (n !== spaceCount(g, space)) return null;
  return isElementwise(p, program) || index ? space : null;
}

const writerCache = new WeakMap<KernelProgram, Map<number, Kernel>>();

/** The kernel writing each value of a program of primitive kernels. */
function writers(program: KernelProgram): Map<number, Kernel> {
  let map = writerCache.get(program);
  if (map === undefined) writerCache.set(program, (map = new Map(program.kernels.map((k) => [k.output, k]))));
  return map;
}

/**
 * Whether `p`, through elementwise ops of its own element count, is computed
 * from a reduction of `domain` over `axes`: only then is a value broadcast
 * along those axes worth making a reduce group around.
 */
function reachesReduction(p: Kernel, domain: readonly number[], axes: readonly number[], program: KernelProgram): boolean {
  const seen = new Set<number>();
  const stack = [p.id];
  const n = sizeOf(p.shape);
  const defOf = (v: number): Kernel | undefined => writers(program).get(v);
  while (stack.length > 0) {
    const k = program.kernels[stack.pop()!]!;
    if (seen.has(k.id)) continue;
    seen.add(k.id);
    if (isReduction(k, program)) {
      const x = program.values[k.inputs[0]!]!.shape;
      const own = (k.ops[0]!.attrs as OpAttrs["sum"]).axes;
      if (sameShape(x, domain) && own.length === axes.length && own.every((a, i) => a === axes[i])) return true;
      continue;
    }
    if (!(isElementwise(k, program) || opOf(k) === "reshape") || sizeOf(k.shape) !== n) continue;
    for (const u of k.inputs) {
      const d = defOf(u);
      if (d !== undefined) stack.push(d.id);
    }
  }
  return false;
}

/** The values a group reads from memory: its kernels' inputs that none of them computes, distinct, in first-read order. */
export function groupInputs(members: Iterable<number>, kernels: readonly Kernel[]): number[] {
  const list = [...members].sort((a, b) => a - b);
  const inside = new Set(list.map((k) => kernels[k]!.output));
  const inputs: number[] = [];
  const seen = new Set<number>();
  for (const k of list) {
    for (const v of kernels[k]!.inputs) {
      if (inside.has(v) || seen.has(v)) continue;
      seen.add(v);
      inputs.push(v);
    }
  }
  return inputs;
}

/** A group's kind as backends see it: a matmul reading windows is a `conv`; a lone primitive is `single`. */
function finalKind(g: Forming, kernels: readonly Kernel[]): KernelKind {
  if (g.members.size === 1 && g.kind !== "matmul" && g.kind !== "reduce") return "single";
  if (g.kind === "matmul") {
    const windows = [...g.members].some((m) => g.space.get(m) === "leaf" && (opOf(kernels[m]!) === "concat" || opOf(kernels[m]!) === "pad"));
    return windows ? "conv" : "matmul";
  }
  return g.kind;
}
