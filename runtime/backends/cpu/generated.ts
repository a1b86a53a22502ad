/**
 * The CPU backend on generated code: one WebAssembly module per executable,
 * with one SIMD function per fused kernel of the planner's graph (`emit/`),
 * as the WebGPU backend prints one shader per kernel.
 *
 * - A `map` or `reduce` kernel is one function over its domain
 *   (`space-kernel.ts`); a `matmul` or `conv` kernel a packing, blocked
 *   matrix product with its epilogue (`matmul-kernel.ts`) on the module's one
 *   macro kernel (`macro-kernel.ts`), whose multiply-add is relaxed SIMD's
 *   fused one where the engine offers it (`features.ts`) and `fma` is not
 *   false, else `f32x4.mul` then `f32x4.add`.
 * - A convolution followed by its epilogue's map and a pool over windows
 *   that tile the image runs as one kernel, the map and the pool in the
 *   matmul's epilogue (`conv-pool-plan.ts`, `conv-pool-kernel.ts`).
 * - An `attention` kernel runs block by block of query rows on its three
 *   parts (`attention-kernel.ts`), its scores in a strip of scratch per
 *   thread.
 * - A kernel the emitters cannot print whole (an `attention` kernel they
 *   cannot cut into parts, one with two matmuls) is spread into one kernel per op, its inner values in a
 *   scratch region of the memory, and each of those is emitted on its own.
 * - Ops with no lane form (gather, scatter_add, argsort, literal, …) run the
 *   JavaScript makers of `kernels.ts` on views of the same memory.
 *
 * Every buffer of the memory plan lives in one WebAssembly memory, so a
 * run is the feeds copied in, then one call per kernel into the module
 * (`start = 0, end = range`, byte addresses of its operands and results),
 * with no JavaScript between ops. The calls are made by a `Runner`
 * (`threads.ts`), which may split each kernel's range among workers sharing
 * the memory; every kernel computes each position the same way whatever the
 * split, so results do not depend on the number of threads.
 */
import { sizeOf } from "../../ir/shape.js";
import { anatomyOf, INDEXED, KernelShapeError, VIEWS, type Anatomy } from "../../kernel/anatomy.js";
import { kernelOutputs, type Kernel, type KernelGraph, type KernelOp } from "../../kernel/graph.js";
import { MAKERS, type Arr, type Routine, type Slot } from "./kernels.js";
import { emitMatmulKernel, MATMUL_SCRATCH_BYTES } from "./emit/matmul-kernel.js";
import { convPoolEpilogue } from "./emit/conv-pool-kernel.js";
import { convPoolsOf, type ConvPoolPlan } from "./emit/conv-pool-plan.js";
import { emitAttention, planAttention, type AttentionPlan } from "./emit/attention-kernel.js";
import { macroKernelCode } from "./emit/macro-kernel.js";
import { normalCode, philoxWordCode, uniformCode } from "./emit/philox.js";
import { isLaneOp } from "./emit/pointwise.js";
import { emitSpaceKernel, type ModuleRefs, type Typed } from "./emit/space-kernel.js";
import { F64, wasmApi, wasmModule, type ImportedFunction, type WasmFunction } from "./wasm.js";

/** Buffers start on 64-byte boundaries (a cache line; f32x4 loads want 16). */
const ALIGN = 64;
/** The WebAssembly page size. */
const PAGE = 65536;
/** The largest memory: 2 GiB, what every engine grants a 32-bit memory. */
const MAX_BYTES = 2 ** 31;

/** How a generated executable is built. */
export interface GeneratedOptions {
  /** Use relaxed SIMD's fused multiply-add in the matmul (the caller has checked the engine offers it). */
  readonly fma: boolean;
  /** How many threads will run the kernels (each needs matmul scratch of its own). */
  readonly threads: number;
  /** Make the memory shared (for workers). */
  readonly shared: boolean;
}

/** One call of the executable: a function of the module over positions [0, range), or a JavaScript step. */
export type Call =
  | { readonly kind: "wasm"; readonly name: string; readonly range: number; readonly unit: number; readonly work: number; readonly args: readonly number[]; readonly scratch: boolean }
  | { readonly kind: "js"; readonly step: () => void };

/** What a generated executable is made of, before a runner binds it to threads. */
export interface GeneratedProgram {
  readonly bytes: Uint8Array;
  readonly module: object;
  readonly memory: { readonly buffer: ArrayBuffer };
  /** Per value of the graph: its byte address in the memory. */
  readonly addresses: readonly number[];
  /** Byte address of thread t's matmul scratch: scratch + t · MATMUL_SCRATCH_BYTES. */
  readonly scratch: number;
  /** The calls of a run, in order. */
  readonly calls: readonly Call[];
  /** Per kernel of the graph, what runs it, in words. */
  readonly accounts: readonly string[];
  /** The functions the module imports from `env` besides memory. */
  readonly imports: Record<string, (...a: number[]) => number>;
}

/** The float64 functions the module imports: the reference's own Math functions. */
const IMPORTS: readonly (ImportedFunction & { readonly fn: (...a: number[]) => number })[] = [
  { name: "sin", params: [F64], results: [F64], fn: Math.sin },
  { name: "cos", params: [F64], results: [F64], fn: Math.cos },
  { name: "pow", params: [F64, F64], results: [F64], fn: Math.pow },
  { name: "log", params: [F64], results: [F64], fn: Math.log },
];

/** A kernel to emit, with its values' shapes and its operands' and results' addresses (values of the graph, or scratch). */
interface Unit {
  readonly kernel: Kernel;
  readonly inputs: readonly Typed[];
  readonly inAddr: readonly number[];
  readonly outAddr: readonly number[];
  /** The fused kernel it came from. */
  readonly from: number;
  /** A convolution run with the map and pool kernels after it (their inputs and results appended to its own). */
  readonly convPool?: { readonly plan: ConvPoolPlan; readonly mapInputAt: readonly number[] };
}

/**
 * Builds the module and the calls of `graph` (fused kernels, memory planned),
 * or returns undefined where the engine cannot (no WebAssembly, memory too
 * large, a module it will not compile).
 */
export function generateProgram(graph: KernelGraph, options: GeneratedOptions): GeneratedProgram | undefined {
  const api = wasmApi();
  if (api === undefined) return undefined;
  // Buffers, then the scratch of kernels that run spread out, then each thread's matmul scratch.
  const bufferAt: number[] = [];
  let top = 0;
  for (const b of graph.buffers) {
    bufferAt.push(top);
    top += Math.ceil(b.bytes / ALIGN) * ALIGN;
  }
  const addresses = graph.values.map((v) => bufferAt[v.buffer]!);
  const value = (id: number): Typed => graph.values[id]!;

  // Which kernels emit whole, which spread into ops.
  const units: Unit[] = [];
  const accounts: string[] = [];
  const spreadAt = top;
  let spreadBytes = 0;
  const anatomies = new Map<Unit, Anatomy>();
  const spread = new Set<number>();
  const emittable = (k: Kernel, inputs: readonly Typed[]): Anatomy | undefined => {
    // Kernels over empty tensors run on the JavaScript makers (the emitters' loops assume at least one position).
    if (k.ops.some((o) => sizeOf(o.shape) === 0) || inputs.some((i) => sizeOf(i.shape) === 0)) return undefined;
    try {
      const a = anatomyOf(k, inputs.map((i) => i.shape));
      if (a.kind === "single") return undefined;
      if (!k.ops.every((o, j) => a.spaces[j] === "leaf" || j === a.matmul || isLaneOp(o.op) || o.op === "sum" || o.op === "max" || o.op === "uniform" || o.op === "normal" || o.op === "const" || o.op === "iota" || o.op === "reshape" || o.op === "expand" || o.op === "permute" || o.op === "slice" || o.op === "pad" || o.op === "concat")) return undefined;
      return a;
    } catch (e) {
      if (e instanceof KernelShapeError) return undefined;
      throw e;
    }
  };
  const attention = new Map<Unit, AttentionPlan>();
  let stripBytes = 0;
  // Convolutions whose map and pool run inside them, and those map and pool kernels, which then have no unit of their own.
  const convPools = new Map<number, { plan: ConvPoolPlan; anatomy: Anatomy }>();
  for (const plan of convPoolsOf(graph)) {
    const anatomy = emittable(plan.conv, plan.conv.inputs.map(value));
    if (anatomy?.kind === "matmul") convPools.set(plan.conv.id, { plan, anatomy });
  }
  const fusedAway = new Map([...convPools.values()].flatMap(({ plan: p }) => [[p.map.id, p.conv.id] as const, [p.pool.id, p.conv.id] as const]));
  for (const k of graph.kernels.flatMap(computedKernels)) {
    if (fusedAway.has(k.id)) continue;
    const inputs = k.inputs.map(value);
    const fused = convPools.get(k.id);
    if (fused !== undefined) {
      const cp = fused.plan;
      // The conv kernel's inputs, then the map's others; the product, the map's written results, then the pool.
      const extra = cp.map.inputs.flatMap((v, i) => (cp.productInputs.has(i) ? [] : [v]));
      let next = k.inputs.length;
      const mapInputAt = cp.map.inputs.map((_, i) => (cp.productInputs.has(i) ? -1 : next++));
      const all = [...k.inputs, ...extra];
      const outs = [k.output, ...cp.writes.map((w) => w.value), ...cp.poolWrites.map((w) => w.value)];
      const unit: Unit = { kernel: k, inputs: all.map(value), inAddr: all.map((v) => addresses[v]!), outAddr: outs.map((v) => addresses[v]!), from: k.id, convPool: { plan: cp, mapInputAt } };
      anatomies.set(unit, fused.anatomy);
      units.push(unit);
      continue;
    }
    const whole: Unit = { kernel: k, inputs, inAddr: k.inputs.map((v) => addresses[v]!), outAddr: kernelOutputs(k).map((v) => addresses[v]!), from: k.id };
    const plan = k.kind === "attention" && !k.ops.some((o) => sizeOf(o.shape) === 0) ? planAttention(k, inputs, emittable) : null;
    if (plan !== null) {
      attention.set(whole, plan);
      units.push(whole);
      stripBytes = Math.max(stripBytes, plan.stripBytes);
      continue;
    }
    const anatomy = emittable(k, inputs);
    if (anatomy !== undefined) {
      anatomies.set(whole, anatomy);
      units.push(whole);
      continue;
    }
    spread.add(k.id);
    // Spread: each op a kernel of its own, inner values in the spread region (kernels run one at a time, so they share it).
    const stored = new Map<number, number>([[k.ops.length - 1, k.output], ...(k.extraOutputs ?? []).map((e) => [e.op, e.value] as [number, number])]);
    const results: { addr: number; typed: Typed }[] = [];
    let used = 0;
    k.ops.forEach((o, j) => {
      const v = stored.get(j);
      let addr: number;
      if (v !== undefined) addr = addresses[v]!;
      else {
        addr = spreadAt + used;
        used += Math.ceil((sizeOf(o.shape) * 4) / ALIGN) * ALIGN;
      }
      results.push({ addr, typed: { shape: o.shape, dtype: o.dtype } });
      const args = o.args.map((a) => ("input" in a ? { addr: addresses[k.inputs[a.input]!]!, typed: inputs[a.input]! } : results[a.op]!));
      const single: Kernel = computedKernels({ id: k.id, ops: [{ ...o, args: args.map((_, i) => ({ input: i })) }], inputs: args.map(() => -1), output: -1, shape: o.shape, dtype: o.dtype })[0]!;
      const unit: Unit = { kernel: single, inputs: args.map((a) => a.typed), inAddr: args.map((a) => a.addr), outAddr: [addr], from: k.id };
      const a = emittable(single, unit.inputs);
      if (a !== undefined) anatomies.set(unit, a);
      units.push(unit);
    });
    spreadBytes = Math.max(spreadBytes, used);
  }
  top = spreadAt + spreadBytes;
  const scratch = top;
  top += MATMUL_SCRATCH_BYTES * Math.max(1, options.threads);
  // Each thread's strip for attention kernels' scores.
  const strips = top;
  top += stripBytes * Math.max(1, options.threads);
  if (top > MAX_BYTES) return undefined;

  // The module: imports, Philox, the macro kernel, then each unit's functions.
  const functions: WasmFunction[] = [];
  const base = IMPORTS.length;
  const at = (name: string, code: WasmFunction["code"], results?: WasmFunction["results"], exported = false): number => {
    functions.push({ name, code, ...(results === undefined ? {} : { results }), exported });
    return base + functions.length - 1;
  };
  const word = at("philox_word", philoxWordCode(), [0x7f]);
  const uniform = at("uniform", uniformCode(word), [0x7d]);
  const normal = at("normal", normalCode(word, { log: 3, sin: 0, cos: 1 }), [0x7d]);
  const macro = at("macro", macroKernelCode(options.fma));
  const refs: ModuleRefs = { imports: { sin: 0, cos: 1, pow: 2 }, uniform, normal };
  // Constant tables of the kernels (a convolution's window offsets), after the scratch, written once the memory exists.
  const tables: { addr: number; data: Int32Array }[] = [];
  const table = (data: Int32Array): number => {
    const addr = top;
    tables.push({ addr, data });
    top += Math.ceil(data.byteLength / ALIGN) * ALIGN;
    return addr;
  };

  // Views of the memory for the JavaScript steps, made once the memory exists.
  const jsUnits: { unit: Unit; callAt: number }[] = [];
  const calls: (Call | undefined)[] = [];
  const kernelAccounts = new Map<number, string[]>();
  const note = (from: number, s: string) => {
    const list = kernelAccounts.get(from) ?? [];
    list.push(s);
    kernelAccounts.set(from, list);
  };
  units.forEach((unit, u) => {
    const k = unit.kernel;
    const anatomy = anatomies.get(unit);
    const name = `k${k.id}_${u}`;
    const plan = attention.get(unit);
    if (plan !== undefined) {
      const fn = emitAttention(plan, name, refs, (n, code, exported) => at(n, code, undefined, exported), () => base + functions.length, macro, { scratchBase: scratch, strips, stride: stripBytes });
      calls.push({ kind: "wasm", name, range: fn.range, unit: 1, work: fn.work, args: [...unit.inAddr, ...unit.outAddr], scratch: true });
      note(unit.from, `${name}: ${fn.account}`);
      return;
    }
    if (anatomy === undefined) {
      jsUnits.push({ unit, callAt: calls.length });
      calls.push(undefined);
      return;
    }
    if (anatomy.kind === "matmul") {
      const cp = unit.convPool;
      const fused = cp && {
        code: convPoolEpilogue(cp.plan, unit.inputs, cp.mapInputAt, refs),
        rows: cp.plan.rows,
        inputs: unit.inputs.length - k.inputs.length,
        outputs: cp.plan.writes.length + cp.plan.poolWrites.length,
        account: `${cp.plan.fold} pool ${cp.plan.s}×${cp.plan.s} of k${cp.plan.map.id}'s map (k${cp.plan.pool.id}) in bands of ${cp.plan.s} image rows, ${cp.plan.writes.length} of its results written`,
      };
      const mm = emitMatmulKernel(k, anatomy, unit.inputs.slice(0, k.inputs.length), refs, base + functions.length, macro, table, false, fused);
      mm.functions.forEach((fn, i) => at(i === mm.functions.length - 1 ? name : `${name}_${fn.name}`, fn.code, undefined, i === mm.functions.length - 1));
      calls.push({ kind: "wasm", name, range: mm.range, unit: 1, work: mm.work, args: [...unit.inAddr, ...unit.outAddr], scratch: true });
      note(unit.from, `${name}: ${mm.account}`);
    } else {
      const fn = emitSpaceKernel(k, anatomy, unit.inputs, refs);
      at(name, fn.code, undefined, true);
      calls.push({ kind: "wasm", name, range: fn.range, unit: fn.unit, work: fn.work, args: [...unit.inAddr, ...unit.outAddr], scratch: false });
      note(unit.from, `${name}: ${fn.account}`);
    }
  });
  if (top > MAX_BYTES) return undefined;
  const memoryImport = options.shared ? { shared: { maximum: Math.ceil(top / PAGE) } } : {};
  const bytes = wasmModule(functions, memoryImport, IMPORTS);
  let module: object;
  let memory: { readonly buffer: ArrayBuffer };
  try {
    module = new api.Module(bytes);
    const pages = Math.max(1, Math.ceil(top / PAGE));
    const Memory = api.Memory as new (d: { initial: number; maximum?: number; shared?: boolean }) => { readonly buffer: ArrayBuffer };
    memory = new Memory({ initial: pages, maximum: pages, ...(options.shared ? { shared: true } : {}) });
  } catch (e) {
    // Out of address space, or an engine that will not compile a module this big synchronously (a browser's main thread): the caller falls back.
    if (e instanceof RangeError) return undefined;
    throw e;
  }
  const buffer = memory.buffer;
  for (const t of tables) new Int32Array(buffer, t.addr, t.data.length).set(t.data);
  for (const { unit, callAt } of jsUnits) {
    const o = unit.kernel.ops[0]!;
    const view = (addr: number, t: Typed): Slot => {
      const n = sizeOf(t.shape);
      const data: Arr = t.dtype === "f32" ? new Float32Array(buffer, addr, n) : new Int32Array(buffer, addr, n);
      return { data, shape: t.shape, dtype: t.dtype };
    };
    const out = view(unit.outAddr[0]!, { shape: o.shape, dtype: o.dtype });
    const args = unit.inputs.map((t, i) => view(unit.inAddr[i]!, t));
    const maker = MAKERS[o.op] as ((attrs: unknown, out: Slot, args: readonly Slot[], context: { simd: undefined }) => Routine) | undefined;
    if (maker === undefined) throw new Error(`cpu: no kernel for op ${o.op}`);
    const r = maker(o.attrs, out, args, { simd: undefined });
    calls[callAt] = { kind: "js", step: r.step };
    note(unit.from, `JavaScript ${o.op}: ${r.account}`);
  }
  for (const [id, conv] of fusedAway) note(id, `runs inside k${conv}'s convolution`);
  for (const k of graph.kernels) {
    const list = kernelAccounts.get(k.id) ?? [];
    accounts.push((spread.has(k.id) ? `spread into ${list.length} kernels of one op: ` : "") + list.join("; "));
  }
  return { bytes, module, memory, addresses, scratch, calls: calls as Call[], accounts, imports: Object.fromEntries(IMPORTS.map((i) => [i.name, i.fn])) };
}

/**
 * `k` as kernels whose every written value is computed (the emitters follow
 * views, constants and iotas where they are read, and store computed ops):
 * a result that is a view, a constant or an iota is read by a `detach` (the
 * identity) added after it, and each such extra output becomes a kernel of
 * its own, its ops those it reads, under a `detach`.
 */
function computedKernels(k: Kernel): Kernel[] {
  const leafy = (j: number): boolean => {
    const op = k.ops[j]!.op;
    return VIEWS.has(op) || INDEXED.has(op);
  };
  const root = k.ops.length - 1;
  const extras = k.extraOutputs ?? [];
  if (!leafy(root) && !extras.some((e) => leafy(e.op))) return [k];
  const kept = extras.filter((e) => !leafy(e.op));
  const main: Kernel = leafy(root) ? { ...k, ops: [...k.ops, identity(k, root)] } : k;
  const { extraOutputs: _, ...bare } = main;
  const out: Kernel[] = [kept.length > 0 ? { ...bare, extraOutputs: kept } : bare];
  for (const e of extras.filter((x) => leafy(x.op))) {
    // The ops e.op reads, in order, renumbered.
    const need = new Set<number>();
    const visit = (j: number): void => {
      if (need.has(j)) return;
      need.add(j);
      for (const a of k.ops[j]!.args) if ("op" in a) visit(a.op);
    };
    visit(e.op);
    const order = [...need].sort((a, b) => a - b);
    const renumber = new Map(order.map((j, i) => [j, i]));
    const ops = order.map((j) => {
      const o = k.ops[j]!;
      return { ...o, args: o.args.map((a) => ("op" in a ? { op: renumber.get(a.op)! } : a)) };
    });
    const o = k.ops[e.op]!;
    ops.push({ op: "detach", attrs: {}, args: [{ op: ops.length - 1 }], shape: o.shape, dtype: o.dtype });
    out.push({ id: k.id, ops, inputs: k.inputs, output: e.value, shape: o.shape, dtype: o.dtype, kind: "map" });
  }
  return out;
}

/** A `detach` of op j of k: the identity, computed. */
function identity(k: Kernel, j: number): KernelOp {
  const o = k.ops[j]!;
  return { op: "detach", attrs: {}, args: [{ op: j }], shape: o.shape, dtype: o.dtype };
}
