// The PyTorch anchor of an example's training step: the module `repr compile --target pytorch`
// writes for a plan, with the tensors the step starts from (tensors.safetensors) and one batch
// (inputs.safetensors, noise tables included), in a folder that bench/onnx_torch_step.py and
// bench/torch_anchors.py read. bench/onnx.ts and bench/all.ts both write it here.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describePytorch, printPytorch } from "../compiler/emit/pytorch/index.js";
import type { ModelPlan } from "../runtime/api/plan.js";
import { encodeSafetensors, type Tensor } from "../runtime/checkpoint/index.js";

/** A named tensor to write: f32 as F32, i32 as I64 (PyTorch's index type). */
export interface NamedTensor {
  readonly name: string;
  readonly dtype: "f32" | "i32";
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

const asTensor = (t: NamedTensor): Tensor =>
  t.dtype === "f32" ? { dtype: "F32", shape: [...t.shape], data: Float32Array.from(t.data) } : { dtype: "I64", shape: [...t.shape], data: BigInt64Array.from(Array.from(t.data, (x) => BigInt(x))) };

/** Writes the generated module of `plan`, `tensors` and `inputs` into `folder`; returns the module's class name. */
export function writePytorchStep(folder: string, plan: ModelPlan, tensors: readonly NamedTensor[], inputs: readonly NamedTensor[]): string {
  const module = describePytorch([plan]);
  for (const [name, text] of printPytorch(module)) writeFileSync(join(folder, name), text);
  writeFileSync(join(folder, "tensors.safetensors"), encodeSafetensors(new Map(tensors.map((t) => [t.name, asTensor(t)]))));
  writeFileSync(join(folder, "inputs.safetensors"), encodeSafetensors(new Map(inputs.map((t) => [t.name, asTensor(t)]))));
  return module.classes[0]!.name;
}
