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
import type { PlanOptions } from "../../kernel/plan.js";
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
import { wasmApi } from "./wasm.js";
import { MAKERS, type Arr, type MakerContext, type Routine, type Slot, type Step } from "./kernels.js";
import { hardwareThreads, nodeProcess, relaxedSimdAvailable, simdAvailable as generatedSimdAvailable } from "./features.js";
import { generateProgram } from "./generated.js";
import { MATMUL_SCRATCH_BYTES } from "./emit/matmul-kernel.js";
import { threaded, threadsAvailable } from "./threads.js";

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
  /**
   * Run one generated WebAssembly function per fused kernel (default true where
   * WebAssembly SIMD runs; `generated.ts`); false runs the graph op by op on the
   * fixed SIMD kernels of `simd.ts` (the backend before code generation, kept
   * for comparison). Environment: REPR_CPU_GENERATED=0.
   */
  readonly generated?: boolean;
  /**
   * Use relaxed SIMD's fused multiply-add in generated matmuls where the engine
   * offers it (default true); false multiplies then adds. Environment:
   * REPR_CPU_FMA=0.
   */
  readonly fma?: boolean;
  /**
   * Threads for generated kernels (default: what the engine offers,
   * `os.availableParallelism()` or `navigator.hardwareConcurrency`;
   * environment REPR_CPU_THREADS):
   * workers over one shared WebAssembly memory split large kernels
   * (`threads.ts`); results are bit for bit the same for any number. Workers
   * come from the host an entry installs (worker_threads: `node-threads.ts`,
   * which the Node entry `repr/runtime/node` and the CLI import; Web Workers:
   * `web-threads.ts`, which `repr/runtime` installs in a cross-origin-isolated
   * page); without one kernels run on the calling thread.
   */
  readonly threads?: number;
}

/** A CPU executable, which also says which kernels it runs. */
export interface CpuExecutable extends Executable {
  /** Whether its matmuls and main float32 elementwise ops run on the WebAssembly SIMD kernels (false: the JavaScript fallback). */
  readonly simd: boolean;
  /** With `{ profile: true }`: milliseconds and calls summed by op and output shape over all runs. */
  readonly profile?: Map<string, { ms: number; n: number }>;
  /** What it runs for each kernel, step by step, in the backend's own words. */
  readonly account: CpuAccount;
  /** Which code runs: generated WebAssembly per fused kernel (with relaxed SIMD's multiply-add or mul+add), the fixed SIMD kernels op by op, or JavaScript. */
  readonly kernels: "generated-fma" | "generated" | "ops" | "javascript";
  /** Threads its kernels run on. */
  readonly threads: number;
  /** Kernel calls split among threads so far. */
  readonly splitCalls?: number;
}

/**
 * How graphs for the CPU are planned: attention joined into `attention`
 * kernels, which the generated code runs block by block of query rows
 * (`emit/attention-kernel.ts`; the other paths run their ops one by one).
 * A kernel here binds byte addresses, not a device's storage bindings, so
 * kernels may read and write more values than WebGPU's guaranteed 8: with
 * 16, every dropout draw of tiny-gpt's step is computed inside the kernel
 * that uses it instead of filled into a buffer first (a kernel of its own
 * under 8, for want of one binding).
 */
export const CPU_PLAN: PlanOptions = { attention: true, attentionBindings: 64, maxBindings: 16 };

/** The CPU backend. */
export const cpuBackend: Backend = {
  name: "cpu",
  compile: compileCpu,
  plan: CPU_PLAN,
};

/** Compiles a kernel graph for the CPU. */
export function compileCpu(given: KernelGraph, options: CpuOptions = {}): CpuExecutable {
  assertValidKernelGraph(given);
  const env = nodeProcess()?.env ?? {};
  const simd = (options.simd ?? true) && env["REPR_CPU_SIMD"] !== "0";
  const generate = simd && (options.generated ?? env["REPR_CPU_GENERATED"] !== "0") && generatedSimdAvailable();
  if (generate) {
    const fma = (options.fma ?? env["REPR_CPU_FMA"] !== "0") && relaxedSimdAvailable();
    const threads = Math.max(1, Math.floor(options.threads ?? (Number(env["REPR_CPU_THREADS"] ?? hardwareThreads()) || 1)));
    const exe = compileGenerated(given, { ...options, fma, threads });
    if (exe !== undefined) return exe;
  }
  return compileOps(given, { ...options, simd });
}

/** Compiles a kernel graph op by op, on the fixed SIMD kernels or in JavaScript (`simd: false`). */
function compileOps(given: KernelGraph, options: CpuOptions): CpuExecutable {
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
    kernels: arena.simd !== undefined ? "ops" : "javascript",
    threads: 1,
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
  // The executable's own buffer (`paramView`): already there.
  if (fed.data !== into) into.set(fed.data);
}

/** Compiles a kernel graph to one generated WebAssembly function per fused kernel (`generated.ts`); undefined where the engine cannot. */
function compileGenerated(given: KernelGraph, options: CpuOptions & { readonly fma: boolean; readonly threads: number }): CpuExecutable | undefined {
  const shared = options.threads > 1 && threadsAvailable();
  const program = generateProgram(given, { fma: options.fma, threads: shared ? options.threads : 1, shared });
  const api = wasmApi();
  if (program === undefined || api === undefined) return undefined;
  const { exports } = new api.Instance(program.module, { env: { memory: program.memory, ...program.imports } });
  const names = program.calls.flatMap((c) => (c.kind === "wasm" ? [c.name] : []));
  const pool = shared ? threaded(program.module, program.memory, names, options.threads, MATMUL_SCRATCH_BYTES) : undefined;
  const buffer = program.memory.buffer;
  const view = (id: number): Arr => {
    const v = given.values[id]!;
    const n = v.shape.reduce((p, d) => p * d, 1);
    return v.dtype === "f32" ? new Float32Array(buffer, program.addresses[id]!, n) : new Int32Array(buffer, program.addresses[id]!, n);
  };
  const steps: Step[] = program.calls.map((c) => {
    if (c.kind === "js") return c.step;
    const fn = exports[c.name] as (...a: number[]) => void;
    const args = [...c.args, ...(c.scratch ? [program.scratch] : [])];
    if (pool !== undefined) {
      const call = { fn: names.indexOf(c.name), args, range: c.range, unit: c.unit, scratch: c.scratch, work: c.work };
      return () => pool.call(fn, call);
    }
    return fn.bind(null, 0, c.range, ...args);
  });
  const profile = options.profile === true ? new Map<string, { ms: number; n: number }>() : undefined;
  const timed =
    profile === undefined
      ? steps
      : steps.map((step, i) => {
          const c = program.calls[i]!;
          const key = c.kind === "wasm" ? c.name : `js ${i}`;
          const entry = profile.get(key) ?? { ms: 0, n: 0 };
          profile.set(key, entry);
          return () => {
            const t0 = performance.now();
            step();
            entry.ms += performance.now() - t0;
            entry.n++;
          };
        });
  const leaves = [
    ...given.inputs.map((n) => ({ n, kind: "input", from: "feeds" as const, data: view(n.value) })),
    ...given.params.map((n) => ({ n, kind: "param", from: "params" as const, data: view(n.value) })),
  ];
  const outputs: Record<string, TensorValue> = Object.fromEntries(given.outputs.map((o) => [o.name, { shape: o.shape, dtype: o.dtype, data: view(o.value) }]));
  const account: CpuAccount = { graph: given, wasm: program.bytes, kernels: program.accounts, steps: given.kernels.map((k) => [k.id]) };
  const count = timed.length;
  return {
    graph: given,
    simd: true,
    kernels: options.fma ? "generated-fma" : "generated",
    threads: pool?.threads ?? 1,
    get splitCalls() {
      return pool?.splits ?? 0;
    },
    ...(profile === undefined ? {} : { profile }),
    account,
    paramView: (name: string) => leaves.find((l) => l.from === "params" && l.n.name === name)?.data,
    run(feeds: TensorFeeds, params: TensorFeeds = {}): Record<string, TensorValue> {
      for (let i = 0; i < leaves.length; i++) {
        const { n, kind, from, data } = leaves[i]!;
        load(kind, n, lookupFeed(from === "feeds" ? feeds : params, n.name), data);
      }
      for (let i = 0; i < count; i++) timed[i]!();
      return outputs;
    },
  };
}
