/**
 * The tensors a training run carries from update to update and from phase to
 * phase: parameters, running statistics and optimizer state, by name, in the
 * backend-independent form a checkpoint holds (float32 and int32 arrays).
 */
import type { TensorFeed } from "../backends/backend.js";

/** A stored tensor: its shape and row-major elements. */
export interface StoredTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

/** Named tensors, updated in place by training. */
export class TensorStore {
  private readonly tensors = new Map<string, StoredTensor>();

  /** The tensor called `name`, or undefined. */
  get(name: string): StoredTensor | undefined {
    return this.tensors.get(name);
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** Sets (or replaces) a tensor; the store keeps the arrays given. */
  set(name: string, tensor: StoredTensor): void {
    this.tensors.set(name, tensor);
  }

  delete(name: string): void {
    this.tensors.delete(name);
  }

  /** Every name, in insertion order. */
  names(): string[] {
    return [...this.tensors.keys()];
  }

  /** The store as backend feeds (no copy: backends copy feeds in). */
  feeds(): ReadonlyMap<string, TensorFeed> {
    return this.tensors;
  }

  /** Copies `data` into the stored tensor `name`, which must exist with as many elements. */
  overwrite(name: string, data: ArrayLike<number>): void {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`internal error: no stored tensor '${name}' to update`);
    if (t.data.length !== data.length) throw new Error(`internal error: tensor '${name}' has ${t.data.length} elements, the update ${data.length}`);
    t.data.set(data);
  }

  /** A deep copy. */
  clone(): TensorStore {
    const copy = new TensorStore();
    for (const [name, t] of this.tensors) copy.set(name, { shape: [...t.shape], data: t.data.slice() });
    return copy;
  }
}
