/// <reference types="@webgpu/types" />
/**
 * The WebGPU executable: one compute pipeline per dispatch (a group of fused
 * kernels of `shader-groups.ts`, or half of a split-K matmul's; `planDispatches` in
 * `wgsl.ts`), a GPU buffer per input, param and output
 * buffer of the graph's memory plan and per temporary buffer of
 * `memory.ts`'s (scratch buffers included), and bind groups made once at compile time, so a run only
 * writes feeds, encodes and reads back.
 *
 * A run encodes every dispatch in one compute pass of one
 * command encoder, then copies the outputs to map-readable buffers and waits
 * for them. WebGPU reads back asynchronously, so the synchronous
 * `Executable.run` cannot be honoured: it throws, and `runAsync` is the way to
 * run (the one deliberate difference from the other backends).
 *
 * Tensors that live on the GPU across runs (a model's weights and optimizer
 * state) are bound in place of their plan buffers (`bound`): they are never
 * uploaded, and `commit` copies outputs into them on the GPU, so a training
 * step moves only its batch in and its loss out.
 */
import { sizeOf } from "../../ir/shape.js";
import type { KernelGraph, NamedValue } from "../../kernel/graph.js";
import { assertValidKernelGraph } from "../../kernel/validate.js";
import { lookupFeed, RunError, type Executable, type TensorFeeds, type TensorValue } from "../backend.js";
import { planTemporaries } from "./memory.js";
import { planDispatches } from "./wgsl.js";

// GPUBufferUsage and GPUMapMode flags, spelled out so that no global is needed.
const STORAGE = 0x80;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const MAP_READ = 0x01;
const MAP_MODE_READ = 0x1;
const COMPUTE = 0x4; // GPUShaderStage.COMPUTE

/** A compiled kernel graph on a WebGPU device. */
export interface WebGpuExecutable extends Executable {
  /**
   * Runs the graph: feeds are written, every kernel is dispatched, and the
   * outputs (those named in `read`, by default all) are read back as fresh
   * arrays the caller owns. Params bound at compile time are not fed.
   */
  runAsync(feeds: TensorFeeds, params?: TensorFeeds, read?: readonly string[]): Promise<Record<string, TensorValue>>;
  /**
   * Copies outputs of the last run into GPU buffers (a bound param's next
   * value), on the GPU. Call it after `runAsync` resolved and before the next
   * run, which would overwrite the outputs.
   */
  commit(copies: readonly { readonly output: string; readonly target: GPUBuffer }[]): void;
  /**
   * Runs the graph once with every dispatch submitted alone and waited for,
   * and resolves with each dispatch's wall time (which includes a submit's
   * round trip, some tens of microseconds): a coarse profile, to find the
   * dispatches that dominate. The outputs are not read.
   */
  profileAsync(feeds: TensorFeeds, params?: TensorFeeds): Promise<DispatchTime[]>;
  /**
   * The GPU buffer of input or output `name`, for a caller's own dispatches
   * around the graph's (a batch gathered into an input on the GPU, a loss
   * checked there). Throws for a name the graph has neither as input nor output.
   */
  buffer(name: string): GPUBuffer;
  /**
   * Writes the feeds and unbound params as `runAsync` does, but for the
   * inputs named in `skip` (which the caller fills on the GPU), and reports
   * the compile errors once: what a caller does before `encode`.
   */
  prepare(feeds: TensorFeeds, params?: TensorFeeds, skip?: ReadonlySet<string>): Promise<void>;
  /** Encodes every dispatch of the graph, in order, into `pass` (after `prepare`). */
  encode(pass: GPUComputePassEncoder): void;
  /** Releases the GPU buffers; the executable cannot run afterwards. */
  destroy(): void;
}

/** One dispatch's time in `profileAsync`: the ops it computes (root last), its workgroups and milliseconds. */
export interface DispatchTime {
  readonly dispatch: number;
  readonly ops: string;
  readonly shape: readonly number[];
  readonly workgroups: readonly [number, number, number];
  readonly ms: number;
}

interface CompiledKernel {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
}

/** Options of `compileWebGpu`. */
export interface WebGpuCompileOptions {
  /** GPU buffers that hold params by name, bound in place of their plan buffers; each must hold the param's bytes. */
  readonly bound?: ReadonlyMap<string, GPUBuffer>;
  /** False: one dispatch per op (for comparison); by default, one shader per fused kernel of the graph where the renderers can print it whole (`shader-groups.ts`). */
  readonly fuse?: boolean;
  /** Whether matmuls with few output tiles and a long k split k over two dispatches, and reductions of few outputs over very many elements fold chunks first (`splitK`); by default, where fusing. */
  readonly splitK?: boolean;
}

/**
 * Compiles a kernel graph for `device`. Throws `Error("webgpu: op X is not
 * supported yet")` for an op the renderer lacks; shader and pipeline errors
 * surface on the first `runAsync`.
 */
export function compileWebGpu(device: GPUDevice, given: KernelGraph, options: WebGpuCompileOptions = {}): WebGpuExecutable {
  assertValidKernelGraph(given);
  // `graph` is the given graph with its fused kernels' ops spread out; its values extend the given graph's.
  const { dispatches: rendered, scratch, graph } = planDispatches(given, { fuse: options.fuse, splitK: options.splitK, maxBindings: device.limits.maxStorageBuffersPerShaderStage });
  const maxStorage = device.limits.maxStorageBuffersPerShaderStage;
  const written = new Set<number>();
  rendered.forEach(({ bindings, outputs, kernel }) => {
    const k = graph.kernels[kernel]!;
    if (bindings.length + outputs.length > maxStorage) {
      throw new Error(`webgpu: kernel k${k.id} (${k.ops[0]!.op}) binds ${bindings.length + outputs.length} buffers, more than the device's ${maxStorage}`);
    }
    // The fusion plan's promise, checked: every value read was written before (or comes from outside).
    // Scratch buffers (ids past the graph's values) are written by the dispatch before.
    for (const v of bindings) if ((graph.values[v]?.def ?? 0) >= 0 && !written.has(v)) throw new Error(`webgpu: internal error: the dispatch of k${k.id} reads v${v} before it is written`);
    for (const v of outputs) written.add(v);
  });
  for (const o of graph.outputs) if (graph.values[o.value]!.def >= 0 && !written.has(o.value)) throw new Error(`webgpu: internal error: output "${o.name}" is never written`);
  const temps = planTemporaries(graph, rendered.map((r) => ({ reads: r.bindings, writes: r.outputs })), scratch);

  device.pushErrorScope("validation");
  // The graph's buffers for inputs, params and outputs; temporaries as `planTemporaries` places them.
  const makeBuffer = (bytes: number): GPUBuffer => device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 4) * 4), usage: STORAGE | COPY_SRC | COPY_DST });
  const buffers = graph.buffers.map((b) => (b.role === "shared" ? null : makeBuffer(b.bytes)));
  const tempBuffers = temps.sizes.map(makeBuffer);
  const boundAt = new Map<number, GPUBuffer>();
  for (const p of graph.params) {
    const buffer = options.bound?.get(p.name);
    if (buffer === undefined) continue;
    if (buffer.size < sizeOf(p.shape) * 4) throw new Error(`webgpu: the buffer bound to param "${p.name}" holds ${buffer.size} bytes, fewer than its ${sizeOf(p.shape) * 4}`);
    boundAt.set(p.value, buffer);
  }
  /** The GPU buffer that holds value `v`: its bound buffer, else its temporary's, else its plan buffer. */
  const bufferOf = (v: number): GPUBuffer => {
    const bound = boundAt.get(v);
    if (bound !== undefined) return bound;
    const temp = temps.bufferOf.get(v);
    const buffer = temp === undefined ? buffers[graph.values[v]!.buffer] : tempBuffers[temp];
    if (buffer == null) throw new Error(`webgpu: internal error: v${v} has no buffer`);
    return buffer;
  };
  const shaders = shaderCache(device);
  const used = new Set<CompiledShader>();
  const kernels: CompiledKernel[] = rendered.map(({ wgsl, workgroups, bindings, outputs }) => {
    let compiled = shaders.get(wgsl);
    if (compiled === undefined) shaders.set(wgsl, (compiled = compileShader(device, wgsl, bindings.length, outputs.length)));
    used.add(compiled);
    const { layout, pipeline } = compiled;
    const bound = [...bindings, ...outputs].map(bufferOf);
    const bindGroup = device.createBindGroup({
      layout,
      entries: bound.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return { pipeline, bindGroup, workgroups };
  });
  const readbacks = graph.outputs.map((o) => device.createBuffer({ size: Math.max(16, sizeOf(o.shape) * 4), usage: MAP_READ | COPY_DST }));
  let compileErrors: Promise<void> | null = Promise.all([device.popErrorScope(), ...[...used].map((c) => c.errors)]).then(([error, ...messages]) => {
    if (error !== null) throw new Error(`webgpu: compiling the kernel graph failed: ${(error as GPUError).message}`);
    const failed = (messages as string[]).filter((m) => m !== "");
    if (failed.length > 0) throw new Error(`webgpu: a generated shader does not compile:\n${failed.join("\n")}`);
  });
  // Reported by the first runAsync; until then, not an unhandled rejection.
  compileErrors.catch(() => undefined);
  let destroyed = false;
  let running = false;

  const leaves = [...graph.inputs.map((n) => ({ n, from: "feeds" as const })), ...graph.params.filter((n) => !boundAt.has(n.value)).map((n) => ({ n, from: "params" as const }))];
  const outputIndex = new Map(graph.outputs.map((o, j) => [o.name, j]));

  /** What every run does first: report compile errors (once) and write the feeds and unbound params to their buffers (but those in `skip`). */
  const writeLeaves = async (feeds: TensorFeeds, params: TensorFeeds, skip?: ReadonlySet<string>): Promise<void> => {
    if (compileErrors !== null) {
      await compileErrors;
      compileErrors = null;
    }
    for (const { n, from } of leaves) {
      if (from === "feeds" && skip?.has(n.name) === true) continue;
      const data = feedData(n, lookupFeed(from === "feeds" ? feeds : params, n.name), from === "feeds" ? "input" : "param");
      if (data.length > 0) device.queue.writeBuffer(bufferOf(n.value), 0, data);
    }
  };

  const encodeKernels = (pass: GPUComputePassEncoder): void => {
    for (const k of kernels) {
      if (k.workgroups[0] === 0) continue;
      pass.setPipeline(k.pipeline);
      pass.setBindGroup(0, k.bindGroup);
      pass.dispatchWorkgroups(k.workgroups[0], k.workgroups[1], k.workgroups[2]);
    }
  };
  const inputIndex = new Map(graph.inputs.map((n) => [n.name, n.value]));

  return {
    graph: given,
    buffer(name: string): GPUBuffer {
      if (destroyed) throw new Error("webgpu: the executable was destroyed");
      const j = outputIndex.get(name);
      const v = j !== undefined ? graph.outputs[j]!.value : inputIndex.get(name);
      if (v === undefined) throw new RunError(`the graph has no input or output "${name}"`);
      return bufferOf(v);
    },
    async prepare(feeds: TensorFeeds, params: TensorFeeds = {}, skip?: ReadonlySet<string>): Promise<void> {
      if (destroyed) throw new Error("webgpu: the executable was destroyed");
      await writeLeaves(feeds, params, skip);
    },
    encode(pass: GPUComputePassEncoder): void {
      if (destroyed) throw new Error("webgpu: the executable was destroyed");
      encodeKernels(pass);
    },
    run(): Record<string, TensorValue> {
      throw new Error("webgpu: run is synchronous, but WebGPU reads results back asynchronously: use `await executable.runAsync(feeds, params)`");
    },
    async runAsync(feeds: TensorFeeds, params: TensorFeeds = {}, read?: readonly string[]): Promise<Record<string, TensorValue>> {
      if (destroyed) throw new Error("webgpu: the executable was destroyed");
      if (running) throw new Error("webgpu: runAsync was called again before the previous run finished");
      running = true;
      try {
        await writeLeaves(feeds, params);
        device.pushErrorScope("validation");
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        encodeKernels(pass);
        pass.end();
        const reading = read === undefined ? graph.outputs.map((_, j) => j) : read.map((name) => {
          const j = outputIndex.get(name);
          if (j === undefined) throw new RunError(`the graph has no output "${name}"`);
          return j;
        });
        for (const j of reading) {
          const o = graph.outputs[j]!;
          const bytes = sizeOf(o.shape) * 4;
          if (bytes > 0) encoder.copyBufferToBuffer(bufferOf(o.value), 0, readbacks[j]!, 0, bytes);
        }
        device.queue.submit([encoder.finish()]);
        // The error scope and the readbacks are awaited together: one round trip to the GPU per run, not two.
        const [error, maps] = await Promise.all([device.popErrorScope(), Promise.allSettled(reading.map((j) => readbacks[j]!.mapAsync(MAP_MODE_READ)))]);
        if (error !== null || maps.some((m) => m.status === "rejected")) {
          maps.forEach((m, i) => m.status === "fulfilled" && readbacks[reading[i]!]!.unmap());
          if (error !== null) throw new Error(`webgpu: running the kernel graph failed: ${error.message}`);
          throw (maps.find((m) => m.status === "rejected") as PromiseRejectedResult).reason;
        }
        const outputs: Record<string, TensorValue> = {};
        reading.forEach((j) => {
          const o = graph.outputs[j]!;
          const n = sizeOf(o.shape);
          const range = readbacks[j]!.getMappedRange(0, Math.max(16, n * 4));
          const data = o.dtype === "f32" ? new Float32Array(range, 0, n).slice() : new Int32Array(range, 0, n).slice();
          readbacks[j]!.unmap();
          outputs[o.name] = { shape: o.shape, dtype: o.dtype, data };
        });
        return outputs;
      } finally {
        running = false;
      }
    },
    async profileAsync(feeds: TensorFeeds, params: TensorFeeds = {}): Promise<DispatchTime[]> {
      if (destroyed) throw new Error("webgpu: the executable was destroyed");
      if (running) throw new Error("webgpu: profileAsync was called while a run was in progress");
      running = true;
      try {
        await writeLeaves(feeds, params);
        await device.queue.onSubmittedWorkDone();
        const times: DispatchTime[] = [];
        for (let i = 0; i < kernels.length; i++) {
          const k = kernels[i]!;
          if (k.workgroups[0] === 0) continue;
          const started = performance.now();
          const encoder = device.createCommandEncoder();
          const pass = encoder.beginComputePass();
          pass.setPipeline(k.pipeline);
          pass.setBindGroup(0, k.bindGroup);
          pass.dispatchWorkgroups(k.workgroups[0], k.workgroups[1], k.workgroups[2]);
          pass.end();
          device.queue.submit([encoder.finish()]);
          await device.queue.onSubmittedWorkDone();
          const ops = rendered[i]!.kernels.map((id) => graph.kernels[id]!.ops[0]!.op).join(" ");
          times.push({ dispatch: i, ops, shape: graph.kernels[rendered[i]!.kernel]!.shape, workgroups: k.workgroups, ms: performance.now() - started });
        }
        return times;
      } finally {
        running = false;
      }
    },
    commit(copies: readonly { readonly output: string; readonly target: GPUBuffer }[]): void {
      if (destroyed) throw new Error("webgpu: the executable was destroyed");
      if (running) throw new Error("webgpu: commit was called while a run was in progress");
      const encoder = device.createCommandEncoder();
      for (const { output, target } of copies) {
        const j = outputIndex.get(output);
        if (j === undefined) throw new RunError(`the graph has no output "${output}"`);
        const o = graph.outputs[j]!;
        const source = bufferOf(o.value);
        const bytes = sizeOf(o.shape) * 4;
        // An output that is its bound param unchanged needs no copy (and a buffer cannot be copied onto itself).
        if (bytes > 0 && source !== target) encoder.copyBufferToBuffer(source, 0, target, 0, bytes);
      }
      device.queue.submit([encoder.finish()]);
    },
    destroy(): void {
      destroyed = true;
      for (const b of [...buffers, ...tempBuffers, ...readbacks]) b?.destroy();
    },
  };
}

/** A shader's pipeline and bind group layout, and its compile errors ("" when none). */
interface CompiledShader {
  readonly layout: GPUBindGroupLayout;
  readonly pipeline: GPUComputePipeline;
  readonly errors: Promise<string>;
}

/** Compiled shaders by source, per device: kernels (of any executable) that compute alike share one. */
const shaderCaches = new WeakMap<GPUDevice, Map<string, CompiledShader>>();

function shaderCache(device: GPUDevice): Map<string, CompiledShader> {
  let cache = shaderCaches.get(device);
  if (cache === undefined) shaderCaches.set(device, (cache = new Map()));
  return cache;
}

/** Compiles one shader with `inputs` read-only bindings and `outputs` read-write ones after them. */
function compileShader(device: GPUDevice, wgsl: string, inputs: number, outputs: number): CompiledShader {
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ code: wgsl });
  // An explicit layout: "auto" would drop the bindings a shader never reads (an empty kernel's).
  const layout = device.createBindGroupLayout({
    entries: Array.from({ length: inputs + outputs }, (_, binding) => ({
      binding,
      visibility: COMPUTE,
      buffer: { type: binding < inputs ? ("read-only-storage" as const) : ("storage" as const) },
    })),
  });
  const pipeline = device.createComputePipeline({
    layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
    compute: { module, entryPoint: "main" },
  });
  const errors = Promise.all([device.popErrorScope(), module.getCompilationInfo()]).then(([error, info]) =>
    [
      ...info.messages.filter((m) => m.type === "error").map((m) => `${m.lineNum}:${m.linePos}: ${m.message}`),
      ...(error === null ? [] : [error.message]),
    ].join("\n"),
  );
  return { layout, pipeline, errors };
}

/** Checks a feed against its input or param and converts it to the dtype's 32-bit array. */
function feedData(n: NamedValue, fed: { readonly shape: readonly number[]; readonly data: ArrayLike<number> } | undefined, kind: string): Float32Array | Int32Array {
  const what = `${kind} "${n.name}"`;
  const expected = `${n.dtype}[${n.shape.join(", ")}]`;
  if (fed === undefined) throw new RunError(`${what} (${expected}) was not fed`);
  if (fed.shape.length !== n.shape.length || fed.shape.some((d, i) => d !== n.shape[i])) {
    throw new RunError(`${what} expects shape [${n.shape.join(", ")}], was fed [${fed.shape.join(", ")}]`);
  }
  const count = sizeOf(n.shape);
  if (fed.data.length !== count) throw new RunError(`${what} of shape [${n.shape.join(", ")}] was fed ${fed.data.length} numbers, not ${count}`);
  if (n.dtype === "f32") return fed.data instanceof Float32Array ? fed.data : Float32Array.from(fed.data);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = fed.data[i]!;
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new RunError(`${what} is i32 but element ${i} is ${v}`);
    out[i] = v;
  }
  return out;
}
