/**
 * The home of a model on a host backend (CPU, reference, or onnx): tensors
 * are typed arrays, graphs are fed the arrays themselves (and run
 * synchronously, or with `runAsync` where the executable has it, as ONNX
 * Runtime's do), and `commit` copies an output's numbers into its tensor.
 */
import type { Backend, Executable, TensorFeed, TensorFeeds, TensorValue } from "../backends/backend.js";
import type { KernelGraph } from "../kernel/graph.js";
import { elementCount, type HomeGraph, type HomeTensor, type RunOutputs, type TensorHome } from "./home.js";

/** A tensor in host memory. */
interface HostTensor extends HomeTensor {
  readonly data: Float32Array | Int32Array;
}

const host = (t: HomeTensor): HostTensor => t as HostTensor;

/** The home of a model on `backend`, in host memory. */
export function hostHome(backend: Backend): TensorHome {
  return {
    backend: backend.name,
    adapter: null,
    ...(backend.plan === undefined ? {} : { plan: backend.plan }),
    checksFinite: false,
    create(shape, dtype, data): HomeTensor {
      const size = elementCount(shape);
      const own = dtype === "i32" ? new Int32Array(size) : new Float32Array(size);
      if (data !== undefined) own.set(data.subarray(0, size));
      const t: HostTensor = { shape: [...shape], dtype, data: own };
      return t;
    },
    write(tensor, data): void {
      const t = host(tensor);
      t.data.set(data.subarray(0, t.data.length));
    },
    zero(tensor): void {
      host(tensor).data.fill(0);
    },
    free(): void {
      // Host arrays are collected once nothing refers to them.
    },
    read(tensor): Promise<Float32Array | Int32Array> {
      return Promise.resolve(host(tensor).data.slice());
    },
    compile(graph: KernelGraph, params: ReadonlyMap<string, HomeTensor>): HomeGraph {
      const exe = backend.compile(graph);
      const paramFeeds = new Map<string, TensorFeed>([...params].map(([name, t]) => [name, { shape: t.shape, data: host(t).data }]));
      let last: Record<string, TensorValue> = {};
      return {
        async run(feeds, read): Promise<RunOutputs> {
          last = isAsync(exe) ? await exe.runAsync(feeds, paramFeeds) : exe.run(feeds, paramFeeds);
          const outputs: Record<string, Float32Array | Int32Array> = {};
          for (const name of read) outputs[name] = asFloat32(last[name]!.data);
          return outputs;
        },
        commit(writes): void {
          for (const w of writes) host(w.tensor).data.set(last[w.output]!.data);
        },
        destroy(): void {
          last = {};
          if (isAsync(exe)) exe.dispose?.();
        },
      };
    },
    release(): void {
      // Host arrays are collected with the model.
    },
  };
}

/** An executable that runs asynchronously (the onnx backend's), whose `run` throws. */
interface AsyncExecutable extends Executable {
  runAsync(feeds: TensorFeeds, params?: TensorFeeds): Promise<Record<string, TensorValue>>;
  dispose?(): void;
}

function isAsync(exe: Executable): exe is AsyncExecutable {
  return typeof (exe as Partial<AsyncExecutable>).runAsync === "function";
}

/** Host outputs as 32-bit arrays (the reference backend computes in float64). */
function asFloat32(data: Float64Array | Float32Array | Int32Array): Float32Array | Int32Array {
  return data instanceof Float64Array ? Float32Array.from(data) : data;
}
