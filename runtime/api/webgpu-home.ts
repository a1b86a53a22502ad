/// <reference types="@webgpu/types" />
/**
 * The home of a model on WebGPU: every tensor is a GPU buffer that graphs
 * bind in place (never uploaded per run), `commit` copies a training step's
 * new values into them on the GPU, and `read` copies one back only when the
 * app asks (`save`, `tensor`).
 */
import type { TensorFeed } from "../backends/backend.js";
import { deviceKernels, NONE, type DeviceKernel, type DeviceKernels } from "../backends/webgpu/device-kernels.js";
import type { WebGpuBackend, WebGpuExecutable } from "../backends/webgpu/index.js";
import type { KernelGraph } from "../kernel/graph.js";
import { elementCount, type FiniteCheck, type HomeData, type HomeGraph, type HomeTensor, type QueuedUpdate, type RunOutputs, type TensorHome } from "./home.js";

// GPUBufferUsage and GPUMapMode flags, spelled out so that no global is needed.
const STORAGE = 0x80;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const MAP_READ = 0x01;
const MAP_MODE_READ = 0x1;

/** A tensor in a GPU buffer. */
interface GpuTensor extends HomeTensor {
  readonly buffer: GPUBuffer;
  readonly bytes: number;
}

const onGpu = (t: HomeTensor): GpuTensor => t as GpuTensor;

/** Reads `bytes` bytes of `source` back: one submit and one map. */
async function readBack(device: GPUDevice, source: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ size: Math.max(16, bytes), usage: MAP_READ | COPY_DST });
  try {
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(source, 0, staging, 0, Math.max(16, bytes));
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(MAP_MODE_READ);
    const copy = staging.getMappedRange(0, Math.max(16, bytes)).slice(0);
    staging.unmap();
    return copy;
  } finally {
    staging.destroy();
  }
}

/** The first failing input of a scan's flag words (`NONE` where all were finite), as `finite.fail` says it. */
function failure(flags: Uint32Array, names: readonly string[], finite: FiniteCheck): Error | null {
  for (let i = 0; i < names.length; i++) if (flags[i] !== NONE) return finite.fail(names[i]!, flags[i]!);
  return null;
}

/** The home of a model on the WebGPU device of `backend`. */
export function webGpuHome(backend: WebGpuBackend): TensorHome {
  const device = backend.device;
  const buffers = new Set<GPUBuffer>();
  const executables = new Set<WebGpuExecutable>();
  /** The executable behind each graph this home compiled (a queued update runs it by hand). */
  const executableOf = new WeakMap<HomeGraph, WebGpuExecutable>();
  const kernels = deviceKernels(device);
  const write = (t: GpuTensor, data: Float32Array | Int32Array): void => {
    const n = elementCount(t.shape);
    const typed = t.dtype === "i32" ? (data instanceof Int32Array ? data : Int32Array.from(data)) : data instanceof Float32Array ? data : Float32Array.from(data);
    if (n > 0) device.queue.writeBuffer(t.buffer, 0, typed.subarray(0, n));
  };
  const a = backend.adapter;
  return {
    backend: backend.name,
    adapter: [a.vendor, a.architecture, a.description].filter((x) => x !== "").join(" ") + (a.isFallback ? " (software)" : ""),
    checksFinite: true,
    // Its renderer takes softmax(Q·Kᵀ)·V as one flash-attention dispatch (wgsl-attention.ts), and reads a k×k convolution's k² windows as index arithmetic over its image (wideViews).
    plan: { attention: true, attentionBindings: device.limits.maxStorageBuffersPerShaderStage, wideViews: true },
    create(shape, dtype, data): HomeTensor {
      const bytes = elementCount(shape) * 4;
      // Buffers are at least 16 bytes, and a multiple of 4 as copies require.
      const buffer = device.createBuffer({ size: Math.max(16, bytes), usage: STORAGE | COPY_SRC | COPY_DST });
      buffers.add(buffer);
      const t: GpuTensor = { shape: [...shape], dtype, buffer, bytes };
      if (data !== undefined) write(t, data);
      return t;
    },
    write(tensor, data): void {
      write(onGpu(tensor), data);
    },
    free(tensor): void {
      const t = onGpu(tensor);
      if (buffers.delete(t.buffer)) t.buffer.destroy();
    },
    zero(tensor): void {
      const t = onGpu(tensor);
      const encoder = device.createCommandEncoder();
      encoder.clearBuffer(t.buffer);
      device.queue.submit([encoder.finish()]);
    },
    async read(tensor): Promise<Float32Array | Int32Array> {
      const t = onGpu(tensor);
      const staging = device.createBuffer({ size: Math.max(16, t.bytes), usage: MAP_READ | COPY_DST });
      try {
        const encoder = device.createCommandEncoder();
        if (t.bytes > 0) encoder.copyBufferToBuffer(t.buffer, 0, staging, 0, t.bytes);
        device.queue.submit([encoder.finish()]);
        await staging.mapAsync(MAP_MODE_READ);
        const n = elementCount(t.shape);
        const range = staging.getMappedRange(0, Math.max(16, t.bytes));
        const data = t.dtype === "i32" ? new Int32Array(range, 0, n).slice() : new Float32Array(range, 0, n).slice();
        staging.unmap();
        return data;
      } finally {
        staging.destroy();
      }
    },
    compile(graph: KernelGraph, params: ReadonlyMap<string, HomeTensor>): HomeGraph {
      const bound = new Map([...params].map(([name, t]) => [name, onGpu(t).buffer]));
      const exe = backend.compile(graph, { bound });
      executables.add(exe);
      const checked = finiteChecks(device, kernels, exe, graph);
      const compiled: HomeGraph = {
        async run(feeds, read, finite): Promise<RunOutputs> {
          if (finite === undefined || finite.inputs.length === 0) {
            const outputs = await exe.runAsync(feeds, {}, read);
            const data: Record<string, Float32Array | Int32Array> = {};
            for (const name of read) data[name] = outputs[name]!.data as Float32Array | Int32Array;
            return data;
          }
          return checked.run(feeds, read, finite);
        },
        commit(writes): void {
          exe.commit(writes.map((w) => ({ output: w.output, target: onGpu(w.tensor).buffer })));
        },
        destroy(): void {
          checked.destroy();
          if (executables.delete(exe)) exe.destroy();
        },
      };
      executableOf.set(compiled, exe);
      return compiled;
    },
    upload(inputs, data, examples, window, finite): Promise<HomeData | null> {
      return uploadData(device, kernels, executableOf, inputs, data, examples, window, finite);
    },
    release(): void {
      for (const e of executables) e.destroy();
      for (const b of buffers) b.destroy();
      executables.clear();
      buffers.clear();
    },
  };
}

/**
 * A graph's runs that check inputs for numbers that are not finite in the
 * same submit: a scan per input into a flag word, read back with the outputs.
 */
function finiteChecks(device: GPUDevice, kernels: DeviceKernels, exe: WebGpuExecutable, graph: KernelGraph) {
  const scans = new Map<string, { flags: GPUBuffer; kernels: DeviceKernel[]; names: string[] }>();
  const reset = (n: number): Uint32Array => new Uint32Array(Math.max(4, n)).fill(NONE);
  return {
    async run(feeds: ReadonlyMap<string, TensorFeed>, read: readonly string[], finite: FiniteCheck): Promise<RunOutputs> {
      const key = finite.inputs.join("\u0000");
      let scan = scans.get(key);
      if (scan === undefined) {
        const names = finite.inputs.filter((name) => graph.inputs.some((i) => i.name === name && i.dtype === "f32"));
        const flags = kernels.buffer(4 * Math.max(4, names.length));
        const ks = names.map((name, slot) => kernels.scan(exe.buffer(name), elementCount(graph.inputs.find((i) => i.name === name)!.shape), flags, slot));
        scans.set(key, (scan = { flags, kernels: ks, names }));
      }
      await exe.prepare(feeds);
      device.queue.writeBuffer(scan.flags, 0, reset(scan.names.length));
      const outputs = read.map((name) => graph.outputs.find((o) => o.name === name)!);
      const sizes = outputs.map((o) => elementCount(o.shape) * 4);
      const total = 16 * Math.ceil(Math.max(1, scan.names.length) / 4) + sizes.reduce((a, b) => a + Math.ceil(b / 16) * 16, 0);
      const staging = device.createBuffer({ size: Math.max(16, total), usage: MAP_READ | COPY_DST });
      try {
        device.pushErrorScope("validation");
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        for (const k of scan.kernels) k.encode(pass);
        exe.encode(pass);
        pass.end();
        const flagBytes = 16 * Math.ceil(Math.max(1, scan.names.length) / 4);
        encoder.copyBufferToBuffer(scan.flags, 0, staging, 0, flagBytes);
        const at: number[] = [];
        let offset = flagBytes;
        outputs.forEach((o, j) => {
          at.push(offset);
          if (sizes[j]! > 0) encoder.copyBufferToBuffer(exe.buffer(o.name), 0, staging, offset, sizes[j]!);
          offset += Math.ceil(sizes[j]! / 16) * 16;
        });
        device.queue.submit([encoder.finish()]);
        const [error] = await Promise.all([device.popErrorScope(), staging.mapAsync(MAP_MODE_READ)]);
        if (error !== null) throw new Error(`webgpu: running the kernel graph failed: ${error.message}`);
        const range = staging.getMappedRange();
        const failed = failure(new Uint32Array(range, 0, scan.names.length), scan.names, finite);
        const data: Record<string, Float32Array | Int32Array> = {};
        outputs.forEach((o, j) => {
          const n = elementCount(o.shape);
          data[o.name] = o.dtype === "i32" ? new Int32Array(range, at[j]!, n).slice() : new Float32Array(range, at[j]!, n).slice();
        });
        staging.unmap();
        if (failed !== null) throw failed;
        return data;
      } finally {
        staging.destroy();
      }
    },
    destroy(): void {
      for (const s of scans.values()) {
        s.flags.destroy();
        for (const k of s.kernels) k.destroy();
      }
      scans.clear();
    },
  };
}

/** A data set on the device, its batches gathered there (`HomeData`); null when an input is larger than a buffer may be. */
async function uploadData(
  device: GPUDevice,
  kernels: DeviceKernels,
  executableOf: WeakMap<HomeGraph, WebGpuExecutable>,
  inputs: readonly { readonly name: string; readonly size: number; readonly dtype: "f32" | "i32" }[],
  data: Readonly<Record<string, ArrayLike<number>>>,
  examples: number,
  window: number,
  finite: FiniteCheck,
): Promise<HomeData | null> {
  const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  if (inputs.some((i) => examples * i.size * 4 > limit) || examples * 4 > limit) return null;
  const owned: GPUBuffer[] = [];
  const own = (b: GPUBuffer): GPUBuffer => (owned.push(b), b);
  const sets = new Map<string, { buffer: GPUBuffer; size: number }>();
  for (const i of inputs) {
    const given = data[i.name]!;
    const n = examples * i.size;
    // The user's own array where it has the input's type: no copy on the host (the queue stages it).
    const typed = i.dtype === "f32" ? (given instanceof Float32Array ? given : Float32Array.from(given)) : given instanceof Int32Array ? given : Int32Array.from(given);
    const buffer = own(kernels.buffer(n * 4));
    if (n > 0) device.queue.writeBuffer(buffer, 0, typed.subarray(0, n));
    sets.set(i.name, { buffer, size: i.size });
  }
  // The finiteness of every float input, once, on the device.
  const floats = inputs.filter((i) => i.dtype === "f32");
  if (floats.length > 0) {
    const flags = own(kernels.buffer(4 * Math.max(4, floats.length)));
    device.queue.writeBuffer(flags, 0, new Uint32Array(Math.max(4, floats.length)).fill(NONE));
    const scans = floats.map((i, slot) => kernels.scan(sets.get(i.name)!.buffer, examples * i.size, flags, slot));
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (const k of scans) k.encode(pass);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const words = new Uint32Array(await readBack(device, flags, 4 * floats.length));
    for (const k of scans) k.destroy();
    const failed = failure(words, floats.map((i) => i.name), finite);
    if (failed !== null) {
      for (const b of owned) b.destroy();
      throw failed;
    }
  }
  const order = own(kernels.buffer(examples * 4));
  const status = own(kernels.buffer(16));
  const losses = own(kernels.buffer(4 * window));
  const staging = device.createBuffer({ size: Math.max(16, 4 * window), usage: MAP_READ | COPY_DST });
  owned.push(staging);
  /** The kernels around each (graph, writes) queued so far. */
  const around = new WeakMap<HomeGraph, Map<string, { gathers: { kernel: DeviceKernel; size: number }[]; guard: DeviceKernel; commits: DeviceKernel[] }>>();
  const made: DeviceKernel[] = [];
  let queued = 0;
  /** Whether an error scope of the window's submits is open (`flush` closes it). */
  let scoped = false;
  let freed = false;
  const kernelsOf = (u: QueuedUpdate, exe: WebGpuExecutable) => {
    let byWrites = around.get(u.graph);
    if (byWrites === undefined) around.set(u.graph, (byWrites = new Map()));
    const key = [u.loss, ...u.inputs, "", ...u.writes.map((w) => w.output)].join("\u0000");
    let k = byWrites.get(key);
    if (k === undefined) {
      const gathers = u.inputs.map((name) => {
        const set = sets.get(name);
        if (set === undefined) throw new Error(`internal error: the data set has no input '${name}'`);
        const target = exe.buffer(name);
        return { kernel: kernels.gather(set.buffer, order, target, Math.floor(target.size / 4)), size: set.size };
      });
      const guard = kernels.guard(exe.buffer(u.loss), status, losses);
      const pairs = u.writes
        .map((w) => ({ source: exe.buffer(w.output), target: onGpu(w.tensor).buffer, words: elementCount(w.tensor.shape) }))
        .filter((p) => p.words > 0 && p.source !== p.target);
      const commits = kernels.commit(status, pairs);
      made.push(...gathers.map((g) => g.kernel), guard, ...commits);
      byWrites.set(key, (k = { gathers, guard, commits }));
    }
    return k;
  };
  return {
    examples,
    order(o: Int32Array): void {
      if (o.length !== examples) throw new Error(`internal error: an order of ${o.length} examples for a data set of ${examples}`);
      device.queue.writeBuffer(order, 0, o);
    },
    async enqueue(u: QueuedUpdate, begin: number, end: number): Promise<void> {
      if (freed) throw new Error("internal error: the data set was freed");
      if (queued >= window) throw new Error(`internal error: more than ${window} updates queued`);
      const exe = executableOf.get(u.graph);
      if (exe === undefined) throw new Error("internal error: a graph of another home");
      const k = kernelsOf(u, exe);
      await exe.prepare(u.feeds, {}, new Set(u.inputs));
      if (queued === 0) {
        device.queue.writeBuffer(status, 0, new Uint32Array(4));
        // Popped by `flush`: errors of the window's submits reject it.
        device.pushErrorScope("validation");
        scoped = true;
      }
      for (const g of k.gathers) g.kernel.set([begin, end - begin, g.size]);
      k.guard.set([queued]);
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      for (const g of k.gathers) g.kernel.encode(pass);
      exe.encode(pass);
      k.guard.encode(pass);
      for (const c of k.commits) c.encode(pass);
      pass.end();
      device.queue.submit([encoder.finish()]);
      queued++;
    },
    async flush(): Promise<Float32Array> {
      const n = queued;
      queued = 0;
      if (!scoped) return new Float32Array(0);
      scoped = false;
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(losses, 0, staging, 0, Math.max(16, 4 * window));
      device.queue.submit([encoder.finish()]);
      const [error] = await Promise.all([device.popErrorScope(), staging.mapAsync(MAP_MODE_READ)]);
      if (error !== null) {
        staging.unmap();
        throw new Error(`webgpu: a training update failed: ${error.message}`);
      }
      const out = new Float32Array(staging.getMappedRange(0, 4 * n).slice(0));
      staging.unmap();
      return out;
    },
    free(): void {
      if (freed) return;
      freed = true;
      for (const k of made) k.destroy();
      for (const b of owned) b.destroy();
    },
  };
}
