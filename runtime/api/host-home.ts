/**
 * The home of a model on a host backend (CPU, reference, or onnx): tensors
 * are typed arrays, graphs are fed the arrays themselves (and run
 * synchronously, or with `runAsync` where the executable has it, as ONNX
 * Runtime's do), and `commit` copies an output's numbers into its tensor.
 *
 * Where an executable keeps its params in buffers of its own (the CPU's
 * arena: `Executable.paramView`), a tensor may instead be *held* there: its
 * current numbers are that executable's param buffer after a run, or the
 * output a commit named, and its array is brought up to date only when
 * something else needs it (`current`). A training step that runs again and
 * again then copies each updated tensor once per update, inside the
 * executable's memory, instead of out to the array and back in.
 */
import type { Backend, Executable, TensorFeed, TensorFeeds, TensorValue } from "../backends/backend.js";
import type { KernelGraph } from "../kernel/graph.js";
import { elementCount, type HomeGraph, type HomeTensor, type RunOutputs, type TensorHome } from "./home.js";

/** A tensor in host memory. */
interface HostTensor extends HomeTensor {
  /** Its numbers, unless `held` says where newer ones are. */
  readonly data: Float32Array | Int32Array;
  /** Where its current numbers are instead: a buffer of `exe`, valid until `exe` runs again. */
  held?: { readonly exe: Executable; readonly view: Float32Array | Int32Array };
}

const host = (t: HomeTensor): HostTensor => t as HostTensor;

/** The tensor's array, brought up to date from where it is held. */
function current(t: HostTensor): Float32Array | Int32Array {
  if (t.held !== undefined) {
    t.data.set(t.held.view);
    t.held = undefined;
  }
  return t.data;
}

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
      t.held = undefined;
      t.data.set(data.subarray(0, t.data.length));
    },
    zero(tensor): void {
      const t = host(tensor);
      t.held = undefined;
      t.data.fill(0);
    },
    free(): void {
      // Host arrays are collected once nothing refers to them.
    },
    read(tensor): Promise<Float32Array | Int32Array> {
      return Promise.resolve(current(host(tensor)).slice());
    },
    compile(graph: KernelGraph, params: ReadonlyMap<string, HomeTensor>): HomeGraph {
      const exe = backend.compile(graph);
      const tensors = [...params].map(([name, t]) => ({ name, t: host(t), own: exe.paramView?.(name), feed: { shape: t.shape, data: host(t).data } as { shape: readonly number[]; data: Float32Array | Int32Array } }));
      const paramFeeds = new Map<string, TensorFeed>(tensors.map((p) => [p.name, p.feed]));
      const holdable = new Set(tensors.flatMap((p) => (p.own !== undefined ? [p.t] : [])));
      let last: Record<string, TensorValue> = {};
      return {
        async run(feeds, read): Promise<RunOutputs> {
          for (const p of tensors) {
            if (p.own !== undefined && p.t.held?.exe === exe) {
              // Held by this executable: into its own buffer (from the output a commit named), which is fed as is.
              if (p.t.held.view !== p.own) p.own.set(p.t.held.view);
              p.t.held = { exe, view: p.own };
              p.feed.data = p.own;
            } else p.feed.data = current(p.t);
          }
          last = isAsync(exe) ? await exe.runAsync(feeds, paramFeeds) : exe.run(feeds, paramFeeds);
          // Its buffers now hold every param's numbers, and only its next run changes them.
          for (const p of tensors) if (p.own !== undefined) p.t.held = { exe, view: p.own };
          const outputs: Record<string, Float32Array | Int32Array> = {};
          for (const name of read) outputs[name] = asFloat32(last[name]!.data);
          return outputs;
        },
        commit(writes): void {
          for (const w of writes) {
            const t = host(w.tensor);
            const out = last[w.output]!.data as Float32Array | Int32Array;
            if (holdable.has(t)) t.held = { exe, view: out };
            else current(t).set(out);
          }
        },
        destroy(): void {
          // Nothing may stay held by an executable that will not run again.
          for (const p of tensors) if (p.t.held?.exe === exe) current(p.t);
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
