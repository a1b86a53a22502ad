/**
 * A run's tensors in and out of checkpoints: the model's tensors (float32,
 * and int32 for batch norm's `num_batches_tracked`) as safetensors tensors,
 * where `num_batches_tracked` is `I64` as PyTorch keeps it
 * (spec/checkpoints.md), and back.
 */
import { nonFiniteProblem, type Tensor } from "../../runtime/checkpoint/index.js";
import type { ModelTensor } from "../../runtime/api/weights.js";

/** Tensors as checkpoint tensors, sorted by name. */
export function toCheckpointTensors(tensors: ReadonlyMap<string, ModelTensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
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
 * A checkpoint tensor as the model keeps it, or a reason why it cannot be: a
 * shape or dtype the model does not have (an integer tensor where the model
 * has floats is refused, never converted), or a float that is not finite.
 */
export function fromCheckpointTensor(tensor: Tensor, expected: { shape: readonly number[]; dtype: "f32" | "i32" }): ModelTensor | string {
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
