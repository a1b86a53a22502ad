/**
 * The CPU backend: executes kernel graphs in float32 (and exact i32) with
 * typed arrays.
 *
 * `compile` allocates the buffers of the memory plan (`arena.ts`: all in one
 * WebAssembly memory where WebAssembly SIMD runs, so the SIMD kernels of
 * `simd.ts` work on them in place; one ArrayBuffer each otherwise, with
 * JavaScript kernels only), makes a Float32Array or Int32Array view for each
 * value (values that share a buffer share its memory, one at a time), and
 * turns each kernel into a step with everything precomputed (`kernels.ts`,
 * `elementwise.ts`). Three rewrites of the plan's execution keep the result
 * the same: reshapes become views of their operands where the plan allows
 * (`alias.ts`), transposes feeding a matmul are folded into it (`fold.ts`), and
 * runs of elementwise kernels go a chunk at a time (`chunked.ts`). A run
 * copies the feeds into their buffers, runs the steps in order and returns
 * views of the output buffers: no allocation per run or per element. Every
 * step is chosen together with its account in words, which the executable
 * keeps (`account.ts`).
 */
import { formatShape, sameShape } from "../../ir/shape.js";
import type { KernelGraph, NamedValue } from "../../kernel/graph.js";
import { assertValidKernelGraph } from "../../kernel/validate.js";
import { planMemory } from "../../kernel/memory.js";
import { isPrimitive, spreadKernels } from "../../kernel/spread.js";
import { lookupFeed, RunError, type Backend, type Executable, type TensorFeeds, type TensorValue } from "../backend.js";
import type { CpuAccount } from "./account.js";
import { aliasedReshapes } from "./alias.js";
import { allocateArena } from "./arena.js";
import { chunkedSteps, stepKernels, type CompiledKernel } from "./chunked.js";
import { elementwise, whole } from "./elementwise.js";
import { foldedTransposes, type FoldedMatmul, type Folds } from "./fold.js";
import { simdMatmulAccount } from "./simd-matmul.js";
import type { SimdKernels } from "./simd.js";
import { MAKERS, type Arr, type MakerContext, type Routine, type Slot, type Step } from "./kernels.js";

export { printCpuAccount, type CpuAccount } from "./account.js";
export { MAKERS } from "./kernels.js";
export { matmulInto, matmulScratch } from "./matmul.js";
export { simdAvailable } from "./simd.js";

/** How to compile for the CPU. */
export interface CpuOptions {
  /** Use the WebAssembly SIMD kernels where the engine supports it (default true); false forces the JavaScript fallback. */
  readonly simd?: boolean;
  /** Time every kernel (each on its own, no chunking) and sum the times by op and shape into `profile`: for finding hot spots. */
  readonly profile?: boolean;
}

/** A CPU executable, which also says which kernels it runs. */
export interface CpuExecutable extends Executable {
  /** Whether its matmuls and main float32 elementwise ops run on the WebAssembly SIMD kernels (false: the JavaScript fallback). */
  readonly simd: boolean;
  /** With `{ profile: true }`: milliseconds and calls summed by op and output shape over all runs. */
  readonly profile?: Map<string, { ms: number; n: number }>;
  /** What it runs for each kernel, step by step, in the backend's own words. */
  readonly account: CpuAccount;
}

/** The CPU backend. */
export const cpuBackend: Backend = {
  name: "cpu",
  compile: compileCpu,
};

/** Compiles a kernel graph for the CPU. */
export function compileCpu(given: KernelGraph, options: CpuOptions = {}): CpuExecutable {
  assertValidKernelGraph(given);
  // Fused kernels run op by op, their inner values in buffers of their own.
  const primitive = isPrimitive(given) ? given : planMemory(spreadKernels(given).program);
  // Reshapes become views where they can (`alias.ts`); the rest of compilation sees their outputs' new buffers.
  const { graph, skipped: views } = aliasedReshapes(primitive);
  const arena = allocateArena(
    graph.buffers.map((b) => b.bytes),
    options.simd ?? true,
  );
  const context: MakerContext = { simd: arena.simd };
  const slots: Slot[] = graph.values.map((v) => {
    const size = v.shape.reduce((p, d) => p * d, 1);
    const { buffer, offset } = arena.buffers[v.buffer]!;
    const data: Arr = v.dtype === "f32" ? new Float32Array(buffer, offset, size) : new Int32Array(buffer, offset, size);
    return { data, shape: v.shape, dtype: v.dtype };
  });
  const folds: Folds = arena.simd !== undefined ? foldedTransposes(graph) : { skipped: new Map(), products: new Map() };
  const compiled: CompiledKernel[] = graph.kernels.map((k) => {
    if (k.ops.length !== 1) throw new Error(`cpu: kernel k${k.id} fuses ${k.ops.length} ops; fused kernels are not supported yet`);
    const op = k.ops[0]!;
    if (op.args.some((a, i) => !("input" in a) || a.input !== i)) throw new Error(`cpu: kernel k${k.id} has unexpected operands`);
    const maker = MAKERS[op.op] as ((attrs: unknown, out: Slot, args: readonly Slot[], context: MakerContext) => Routine) | undefined;
    if (maker === undefined) throw new Error(`cpu: no kernel for op ${op.op}`);
    const [out, args] = [slots[k.output]!, k.inputs.map((v) => slots[v]!)];
    const fold = folds.products.get(k.id);
    const skip = folds.skipped.has(k.id) || views.has(k.id);
    const ew = skip || fold !== undefined ? undefined : elementwise(op.op, op.attrs, out, args, arena.simd);
    let chosen: Routine | undefined;
    if (fold !== undefined) chosen = foldedMatmul(arena.simd!, out, slots[fold.a.value]!, slots[fold.b.value]!, fold);
    else if (ew !== undefined) chosen = { step: whole(ew.step, out.data.length), account: ew.account };
    else if (!skip) chosen = maker(op.attrs, out, args, context);
    return {
      outputBuffer: graph.values[k.output]!.buffer,
      inputBuffers: k.inputs.map((v) => graph.values[v]!.buffer),
      size: out.data.length,
      step: chosen?.step,
      elementwise: ew,
      account: chosen?.account ?? folds.skipped.get(k.id) ?? `no step: a view of v${k.inputs[0]} (both in buffer b${graph.values[k.output]!.buffer}), nothing copied`,
    };
  });
  const profile = options.profile === true ? new Map<string, { ms: number; n: number }>() : undefined;
  const steps = profile === undefined ? chunkedSteps(compiled) : profiledSteps(graph, compiled, profile, new Set(folds.products.keys()));
  const account: CpuAccount = {
    graph: primitive,
    wasm: arena.simd?.bytes,
    kernels: compiled.map((c) => c.account),
    // Profiling times each kernel on its own, so there are no chains then.
    steps: profile === undefined ? stepKernels(compiled) : compiled.flatMap((c, i) => (c.step === undefined ? [] : [[i]])),
  };
  const leaves = [
    ...graph.inputs.map((n) => ({ n, kind: "input", from: "feeds" as const })),
    ...graph.params.map((n) => ({ n, kind: "param", from: "params" as const })),
  ];
  // The outputs record is built once: its arrays are views of the output buffers.
  const outputs: Record<string, TensorValue> = Object.fromEntries(
    graph.outputs.map((o) => [o.name, { shape: o.shape, dtype: o.dtype, data: slots[o.value]!.data }]),
  );
  const count = steps.length;
  return {
    graph: given,
    simd: arena.simd !== undefined,
    ...(profile === undefined ? {} : { profile }),
    account,
    run(feeds: TensorFeeds, params: TensorFeeds = {}): Record<string, TensorValue> {
      for (let i = 0; i < leaves.length; i++) {
        const { n, kind, from } = leaves[i]!;
        load(kind, n, lookupFeed(from === "feeds" ? feeds : params, n.name), slots[n.value]!.data);
      }
      for (let i = 0; i < count; i++) steps[i]!();
      return outputs;
    },
  };
}

/** Each kernel's step on its own, timed into `profile` under its op (a matmul where a product was folded into it), output shape and operand shapes. */
function profiledSteps(graph: KernelGraph, compiled: readonly CompiledKernel[], profile: Map<string, { ms: number; n: number }>, products: ReadonlySet<number>): Step[] {
  const steps: Step[] = [];
  compiled.forEach((c, i) => {
    const step = c.step;
    if (step === undefined) return;
    const k = graph.kernels[i]!;
    const shapes = k.inputs.map((v) => formatShape(graph.values[v]!.shape)).join(",");
    const op = products.has(k.id) && k.ops[0]!.op !== "matmul" ? `matmul (folded into ${k.ops[0]!.op})` : k.ops[0]!.op;
    const key = `${op} ${formatShape(graph.values[k.output]!.shape)} <- ${shapes}`;
    const entry = profile.get(key) ?? { ms: 0, n: 0 };
    profile.set(key, entry);
    steps.push(() => {
      const t0 = performance.now();
      step();
      entry.ms += performance.now() - t0;
      entry.n++;
    });
  });
  return steps;
}

/** out = A · B on the SIMD kernel, each operand read as stored or transposed: a product that folds transposes in (see `fold.ts`). */
function foldedMatmul(simd: SimdKernels, out: Slot, a: Slot, b: Slot, fold: FoldedMatmul): Routine {
  const [m, n] = out.shape as [number, number];
  const k = a.shape[fold.a.transposed ? 0 : 1]!;
  const [ab, bb, cb] = [a.data.byteOffset, b.data.byteOffset, out.data.byteOffset];
  const [at, bt] = [fold.a.transposed, fold.b.transposed];
  const matmul = simd.matmul;
  const account = `the product v${fold.a.value}${at ? "ᵀ" : ""} · v${fold.b.value}${bt ? "ᵀ" : ""}, the transposes around it folded in; ${simdMatmulAccount(1, m, k, n, at, bt)}`;
  return { step: () => matmul(ab, bb, cb, m, k, n, at, bt), account };
}

/** Checks a feed against its input or param and copies it into the value's buffer. */
function load(kind: string, n: NamedValue, fed: { shape: readonly number[]; data: ArrayLike<number> } | undefined, into: Arr): void {
  const what = `${kind} "${n.name}"`;
  if (fed === undefined) throw new RunError(`${what} (${n.dtype}${formatShape(n.shape)}) was not fed`);
  if (!sameShape(fed.shape, n.shape)) throw new RunError(`${what} expects shape ${formatShape(n.shape)}, was fed ${formatShape(fed.shape)}`);
  if (fed.data.length !== into.length) {
    throw new RunError(`${what} of shape ${formatShape(n.shape)} was fed ${fed.data.length} numbers, not ${into.length}`);
  }
  if (n.dtype === "i32" && !(fed.data instanceof Int32Array)) {
    for (let i = 0; i < fed.data.length; i++) {
      const v = fed.data[i]!;
      if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new RunError(`${what} is i32 but element ${i} is ${v}`);
    }
  }
  into.set(fed.data);
}
