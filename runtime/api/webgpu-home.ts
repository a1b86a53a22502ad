/// <reference types="@webgpu/types" />
/**
 * The home of a model on WebGPU: every tensor is a GPU buffer that graphs
 * bind in place (never uploaded per run), `commit` copies a training step's
 * new values into them on the GPU, and `read` copies one back only when the
 * app asks (`save`, `tensor`).
 */
import type { WebGpuBackend, WebGpuExecutable } from "../backends/webgpu/index.js";
import type { KernelGraph } from "../kernel/graph.js";
import { elementCount, type HomeGraph, type HomeTensor, type RunOutputs, type TensorHome } from "./home.js";

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

/** The home of a model on the WebGPU device of `backend`. */
export function webGpuHome(backend: WebGpuBackend): TensorHome {
  const device = backend.device;
  const buffers = new Set<GPUBuffer>();
  const executables = new Set<WebGpuExecutable>();
  const write = (t: GpuTensor, data: Float32Array | Int32Array): void => {
    const n = elementCount(t.shape);
    const typed = t.dtype === "i32" ? (data instanceof Int32Array ? data : Int32Array.from(data)) : data instanceof Float32Array ? data : Float32Array.from(data);
    if (n > 0) device.queue.writeBuffer(t.buffer, 0, typed.subarray(0, n));
  };
  const a = backend.adapter;
  return {
    backend: backend.name,
    adapter: [a.vendor, a.architecture, a.description].filter((x) => x !== "").join(" ") + (a.isFallback ? " (software)" : ""),
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
      return {
        async run(feeds, read): Promise<RunOutputs> {
          const outputs = await exe.runAsync(feeds, {}, read);
          const data: Record<string, Float32Array | Int32Array> = {};
          for (const name of read) data[name] = outputs[name]!.data as Float32Array | Int32Array;
          return data;
        },
        commit(writes): void {
          exe.commit(writes.map((w) => ({ output: w.output, target: onGpu(w.tensor).buffer })));
        },
        destroy(): void {
          if (executables.delete(exe)) exe.destroy();
        },
      };
    },
    release(): void {
      for (const e of executables) e.destroy();
      for (const b of buffers) b.destroy();
      executables.clear();
      buffers.clear();
    },
  };
}
