/**
 * Where a model keeps its tensors and how its graphs run against them: host
 * memory for the CPU and reference backends (`host-home.ts`), GPU buffers for
 * WebGPU (`webgpu-home.ts`). A model's weights and optimizer state stay in
 * their home between runs; a graph reads them in place, and a training step's
 * `commit` writes its new values there, so on a GPU an update moves only its
 * batch in and its loss out.
 */
import type { TensorFeed } from "../backends/backend.js";
import type { KernelGraph } from "../kernel/graph.js";
import type { PlanOptions } from "../kernel/plan.js";

/** A tensor in a home: its shape and element type (the numbers are the home's). */
export interface HomeTensor {
  readonly shape: readonly number[];
  readonly dtype: "f32" | "i32";
}

/** Outputs of one run by name. The arrays are valid until the graph's next run. */
export type RunOutputs = Readonly<Record<string, Float32Array | Int32Array>>;

/** A graph compiled against a home's tensors. */
export interface HomeGraph {
  /**
   * Runs the graph on `feeds` (its inputs), reading its params from the
   * home's tensors, and resolves with the outputs named in `read`.
   */
  run(feeds: ReadonlyMap<string, TensorFeed>, read: readonly string[], finite?: FiniteCheck): Promise<RunOutputs>;
  /** Copies outputs of the last run into home tensors. Call it after `run` resolved and before the next run. */
  commit(writes: readonly { readonly output: string; readonly tensor: HomeTensor }[]): void;
  /** Releases what the compiled graph holds (its buffers on a GPU); it must not run again. */
  destroy(): void;
}

/**
 * Inputs a graph checks for numbers that are not finite, on the device, in
 * the same run (a home that `checksFinite`); the run rejects with
 * `fail(input, index of the first such element)` and its outputs are not
 * to be used. Homes that do not check ignore it (their callers check on the host).
 */
export interface FiniteCheck {
  readonly inputs: readonly string[];
  readonly fail: (input: string, index: number) => Error;
}

/** One update a `HomeData` queues: a step's graph and what it reads and writes. */
export interface QueuedUpdate {
  /** The step's graph at this batch size (compiled by the same home). */
  readonly graph: HomeGraph;
  /** Its feeds but the data inputs (the counter, the seed, noise tables …), written before it runs. */
  readonly feeds: ReadonlyMap<string, TensorFeed>;
  /** The data inputs, gathered on the device from the data set. */
  readonly inputs: readonly string[];
  /** The output holding the loss. */
  readonly loss: string;
  /** The outputs copied into tensors when the loss (and every loss of the window before it) is finite. */
  readonly writes: readonly { readonly output: string; readonly tensor: HomeTensor }[];
}

/**
 * A data set kept on the device (`TensorHome.upload`): updates gather their
 * batches from it there, in windows of queued updates whose losses are read
 * back together. The NaN guard holds on the device: an update whose loss is
 * not finite, and every later one of its window, commits nothing.
 */
export interface HomeData {
  readonly examples: number;
  /** The order of the pass later updates take their examples from (a permutation of the examples). */
  order(order: Int32Array): void;
  /** Queues one update on examples `order[begin .. end)`; at most `window` updates between flushes. */
  enqueue(update: QueuedUpdate, begin: number, end: number): Promise<void>;
  /** Waits for the queued updates and resolves with their losses, in order (each computed whether or not an earlier one failed). */
  flush(): Promise<Float32Array>;
  /** Releases the device memory. */
  free(): void;
}

/** A model's tensors and the device its graphs run on. */
export interface TensorHome {
  /** The backend's name: `cpu`, `reference`, `webgpu`. */
  readonly backend: string;
  /** The GPU adapter it runs on, as the adapter describes itself (vendor, architecture), or null on a host backend. */
  readonly adapter: string | null;
  /** A new tensor holding `data` (zeros when not given). */
  create(shape: readonly number[], dtype: "f32" | "i32", data?: Float32Array | Int32Array): HomeTensor;
  /** Sets a tensor's numbers (as many as it holds). */
  write(tensor: HomeTensor, data: Float32Array | Int32Array): void;
  /** Sets a tensor's numbers to zero. */
  zero(tensor: HomeTensor): void;
  /** Releases a tensor made by `create` (its GPU buffer); it must not be used again. */
  free(tensor: HomeTensor): void;
  /** A copy of a tensor's numbers, which the caller owns. */
  read(tensor: HomeTensor): Promise<Float32Array | Int32Array>;
  /** How graphs compiled here are planned (`planKernelGraph`'s options): WebGPU joins attention into `attention` kernels. */
  readonly plan?: PlanOptions;
  /** Compiles `graph`, its params bound to `params` by name (every param must be there). */
  compile(graph: KernelGraph, params: ReadonlyMap<string, HomeTensor>): HomeGraph;
  /** Releases everything the home holds: its tensors and compiled graphs. */
  release(): void;
  /** Whether its graphs check float inputs for numbers that are not finite themselves (`run`'s `finite`), so that callers need not on the host. */
  readonly checksFinite: boolean;
  /**
   * Keeps a data set on the device for training (`HomeData`), checked for
   * numbers that are not finite there (rejecting with `finite.fail`), with
   * room for `window` queued updates; resolves with null where the home keeps
   * no data (host homes) or the data does not fit. Absent on host homes.
   */
  upload?(inputs: readonly { readonly name: string; readonly size: number; readonly dtype: "f32" | "i32" }[], data: Readonly<Record<string, ArrayLike<number>>>, examples: number, window: number, finite: FiniteCheck): Promise<HomeData | null>;
}

/** The number of elements of a shape. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}
