/**
 * A run's tensors in and out: the initial values of a model's parameters,
 * fresh parameters for a replaced head, and the conversion between the
 * training store (f32 and i32 arrays) and checkpoint tensors, where
 * `num_batches_tracked` is `I64` as PyTorch keeps it (spec/checkpoints.md).
 */
import { initialTensor, type ParamInfo } from "../../compiler/lower/index.js";
import { nonFiniteProblem, type Tensor } from "../../runtime/checkpoint/index.js";
import { TensorStore, type StoredTensor } from "../../runtime/train/store.js";

/** Every tensor of the model, initialized from `seed` (spec/layers.md, "Initialization"). */
export function initialStore(params: readonly ParamInfo[], seed: number): TensorStore {
  const store = new TensorStore();
  for (const p of params) store.set(p.name, initialTensor(p, seed));
  return store;
}

/**
 * After `replace W with ...`: removes the old head's tensors and adds the new
 * head's, freshly initialized from the pretrain seed. `params` is the model
 * as it is after the replacement.
 */
export function replaceHead(store: TensorStore, part: string, params: readonly ParamInfo[], seed: number): void {
  for (const name of store.names()) if (name.startsWith(`${part}.`)) store.delete(name);
  for (const p of params) if (p.name.startsWith(`${part}.`)) store.set(p.name, initialTensor(p, seed));
}

/** The store's tensors named in `names`, as checkpoint tensors. */
export function toCheckpointTensors(store: TensorStore, names: readonly string[]): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const name of [...names].sort()) {
    const t = store.get(name);
    if (!t) throw new Error(`internal error: no tensor '${name}' to save`);
    if (t.data instanceof Int32Array) {
      // Integer state is a step counter (`num_batches_tracked`): I64 in the file, as PyTorch has it.
      out.set(name, { dtype: "I64", shape: [...t.shape], data: BigInt64Array.from(t.data, (v) => BigInt(v)) });
    } else {
      out.set(name, { dtype: "F32", shape: [...t.shape], data: Float32Array.from(t.data) });
    }
  }
  return out;
}

/**
 * A checkpoint tensor as the store holds it, or a reason why it cannot be: a
 * shape or dtype the model does not have (an integer tensor where the model
 * has floats is refused, never converted), or a float that is not finite.
 */
export function fromCheckpointTensor(tensor: Tensor, expected: { shape: readonly number[]; dtype: "f32" | "i32" }): StoredTensor | string {
  if (tensor.shape.join() !== expected.shape.join()) return `has shape [${tensor.shape.join(", ")}], the model expects [${expected.shape.join(", ")}]`;
  if (expected.dtype === "f32") {
    if (tensor.dtype !== "F32" && tensor.dtype !== "F64") return `is ${tensor.dtype}, the model expects F32`;
    const data = Float32Array.from(tensor.data);
    // Checked after rounding: an F64 beyond float32's range becomes an infinity here.
    return nonFiniteProblem(tensor.shape, data) ?? { shape: [...tensor.shape], data };
  }
  if (tensor.dtype === "I64" || tensor.dtype === "I32") {
    const values = tensor.data as ArrayLike<number | bigint>;
    const data = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = Number(values[i]!);
      if (v < -(2 ** 31) || v >= 2 ** 31) return `holds ${String(values[i])} at element ${i}, outside the int32 range the model keeps it in`;
      data[i] = v;
    }
    return { shape: [...tensor.shape], data };
  }
  return `is ${tensor.dtype}, the model expects an integer (I64)`;
}
