/** What the engine tests share: a small transfer pipeline, its plan, digits as typed arrays, and a bitwise comparison. */
import { expect } from "vitest";
import { buildModelPlan } from "../../compiler/plan/index.js";
import type { ModelPlan, PipelineRunOptions } from "../../runtime/index.js";
import { mnistDigits } from "../../runtime/node.js";
import type { ModelTensor } from "../../runtime/api/weights.js";
import { programOf } from "../api/plans.js";

/** A small transfer pipeline: the new head has 3 classes where the pretrained one had 5. */
export const TRANSFER = `model Net {
  input image: f32[1, 28, 28]
  input label: label(classes: 5)
  encoder f = flatten -> dense(16) -> relu
  head W = classifier(classes: 5)
  loss classify = cross_entropy(W(f(image)), label)
  output W(f(image))
}

data digits {
  image: f32[1, 28, 28]
  label: label(classes: 10)
}

pipeline Transfer {
  pretrain Net on digits.train(labels: [0, 1, 2, 3, 4]) { steps: 40, batch: 32, optimizer: adam(lr: 1e-2) }
  freeze f
  replace W with classifier(classes: 3)
  adapt on digits.train(labels: [5, 6, 7], per_class: 10) { steps: 12, batch: 8, optimizer: adam(lr: 1e-2) }
  test on digits.test(labels: [5, 6, 7]) { metrics: [accuracy] }
}
`;

/** The first `n` digits of the embedded set, as typed arrays by field name. */
export async function digitArrays(n: number): Promise<PipelineRunOptions["data"]> {
  const d = await mnistDigits();
  const cut = (s: { images: Float32Array; labels: Int32Array }) => ({ image: s.images.subarray(0, n * 784), label: s.labels.subarray(0, n) });
  return { digits: { train: cut(d.train), test: cut(d.test) } };
}

/** The plan of model `Net` with pipeline `Transfer` of `source`. */
export function transferPlan(source = TRANSFER): ModelPlan {
  const program = programOf(source);
  return buildModelPlan(program, "Net", { pipelines: ["Transfer"] });
}

/** A tensor's bytes. */
export const bits = (t: ModelTensor): Buffer => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

/** Expects two sets of tensors to be equal bit for bit. */
export function expectSameBits(a: ReadonlyMap<string, ModelTensor>, b: ReadonlyMap<string, ModelTensor>): void {
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [name, t] of a) {
    expect(b.get(name)!.shape, name).toEqual(t.shape);
    expect(bits(b.get(name)!).equals(bits(t)), name).toBe(true);
  }
}

