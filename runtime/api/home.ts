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
  run(feeds: ReadonlyMap<string, TensorFeed>, read: readonly string[]): Promise<RunOutputs>;
  /** Copies outputs of the last run into home tensors. Call it after `run` resolved and before the next run. */
  commit(writes: readonly { readonly output: string; readonly tensor: HomeTensor }[]): void;
  /** Releases what the compiled graph holds (its buffers on a GPU); it must not run again. */
  destroy(): void;
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
  /** Compiles `graph`, its params bound to `params` by name (every param must be there). */
  compile(graph: KernelGraph, params: ReadonlyMap<string, HomeTensor>): HomeGraph;
  /** Releases everything the home holds: its tensors and compiled graphs. */
  release(): void;
}

/** The number of elements of a shape. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}
