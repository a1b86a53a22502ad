/**
 * The device interface every backend implements (STYLE lesson 10: backends are
 * plug-ins). A backend compiles a kernel graph (`runtime/kernel/`) once into an
 * `Executable`, which owns the buffers of the graph's memory plan and reuses
 * them on every run. Backends execute kernel graphs only, never IR.
 */
import type { DType, Shape } from "../ir/ops.js";
import type { KernelGraph } from "../kernel/graph.js";
import type { PlanOptions } from "../kernel/plan.js";

/** A tensor fed for an input or param: its shape and row-major numbers (any array type). */
export interface TensorFeed {
  readonly shape: Shape;
  readonly data: ArrayLike<number>;
}

/** Tensors by input or param name. */
export type TensorFeeds = ReadonlyMap<string, TensorFeed> | Readonly<Record<string, TensorFeed>>;

/** A tensor a run returns. */
export interface TensorValue {
  readonly shape: Shape;
  readonly dtype: DType;
  /** Row-major elements in the backend's own precision. */
  readonly data: Float64Array | Float32Array | Int32Array;
}

/** A compiled kernel graph, ready to run many times. */
export interface Executable {
  readonly graph: KernelGraph;
  /**
   * Runs the graph on `feeds` (its inputs) and `params`, and returns its
   * outputs by name. Returned arrays may be views of the executable's own
   * buffers: they stay valid until the next run (copy them to keep them).
   */
  run(feeds: TensorFeeds, params?: TensorFeeds): Record<string, TensorValue>;
  /**
   * The executable's own buffer of param `name`, where a backend keeps one
   * (the CPU's arena): a run loads the param into it and only reads it, so
   * it holds the param's numbers after the run; fed as that param's data, it
   * is not copied.
   */
  paramView?(name: string): Float32Array | Int32Array | undefined;
}

/** A backend: a name and a compiler from kernel graphs to executables. */
export interface Backend {
  readonly name: string;
  compile(graph: KernelGraph): Executable;
  /** How graphs for it are planned (`planKernelGraph`'s options), where it renders kernel kinds others do not (the CPU: attention). */
  readonly plan?: PlanOptions;
}

/** A feed looked up by name, wherever feeds come from. */
export function lookupFeed(feeds: TensorFeeds, name: string): TensorFeed | undefined {
  if (feeds instanceof Map) return feeds.get(name);
  const record = feeds as Readonly<Record<string, TensorFeed>>;
  return Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined;
}

export { RunError } from "./reference/evaluate.js";
