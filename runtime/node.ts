/**
 * repr's runtime for Node (`repr/runtime/node`): everything `repr/runtime`
 * has, plus what needs Node's file system — weights files by path and the
 * MNIST digits of the `mnist` package — and the CPU backend's worker
 * threads. Browsers import `repr/runtime`.
 */
import { readFile } from "node:fs/promises";
// The CPU backend's worker threads (worker_threads), which the universal entry cannot reach.
import "./backends/cpu/node-threads.js";
import { writeCheckpointAtomic } from "./checkpoint/files.js";
import { CheckpointError } from "./checkpoint/errors.js";
import { mnistSplits } from "./data/mnist.js";
import { ReprError } from "./api/errors.js";
import { Model, type ModelOptions } from "./api/model.js";
import type { ModelPlan } from "./api/plan.js";

export * from "./index.js";
export { readCheckpoint, writeCheckpointAtomic } from "./checkpoint/files.js";

/** Runs `f`, turning a checkpoint file's problem into a `ReprError` with the same message. */
async function fileErrors<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (cause) {
    if (cause instanceof CheckpointError) throw new ReprError(cause.message, { cause });
    throw cause;
  }
}

/** A class `repr compile` generated: its plan, and a way to wrap a `Model` of it. */
export interface GeneratedClass<T> {
  readonly plan: ModelPlan;
  fromModel(model: Model): T;
}

/**
 * Makes a model with the weights of a safetensors file (as `repr train`
 * writes them): of a plan, or of a generated class (`loadModel(Autoencoder,
 * path)` resolves with an `Autoencoder`). `options.weights` is ignored.
 */
export async function loadModel(plan: ModelPlan, path: string, options?: Omit<ModelOptions, "weights">): Promise<Model>;
export async function loadModel<T>(generated: GeneratedClass<T>, path: string, options?: Omit<ModelOptions, "weights">): Promise<T>;
export async function loadModel<T>(target: ModelPlan | GeneratedClass<T>, path: string, options: Omit<ModelOptions, "weights"> = {}): Promise<Model | T> {
  if (isGenerated(target)) return target.fromModel(await loadPlanModel(target.plan, path, options));
  return loadPlanModel(target, path, options);
}

function isGenerated<T>(x: ModelPlan | GeneratedClass<T>): x is GeneratedClass<T> {
  return typeof (x as GeneratedClass<T>).fromModel === "function" && typeof (x as GeneratedClass<T>).plan === "object";
}

async function loadPlanModel(plan: ModelPlan, path: string, options: Omit<ModelOptions, "weights">): Promise<Model> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    throw new ReprError(`${path}: cannot read the weights: ${code === "ENOENT" ? "no such file" : (cause as Error).message}`, { cause });
  }
  // Messages about the weights name the file.
  try {
    return await Model.create(plan, { ...options, weights: bytes });
  } catch (error) {
    if (error instanceof ReprError && error.message.startsWith("weights: ")) throw new ReprError(`${path}: ${error.message.slice("weights: ".length)}`, { cause: error });
    throw error;
  }
}

/**
 * Writes the model's weights to `path` as a safetensors file, atomically: a
 * reader sees the old file or the new one, never part of one. Takes a
 * `Model` or an instance of a generated class.
 */
export async function saveModel(model: Model | { readonly model: Model }, path: string): Promise<void> {
  const bytes = await (model instanceof Model ? model : model.model).save();
  await fileErrors(() => writeCheckpointAtomic(path, bytes));
}

/** The MNIST digits of the `mnist` package: 28×28 images (pixels in [0, 1], row-major) and labels, split 80/20 per digit. */
export interface MnistDigits {
  readonly train: { readonly images: Float32Array; readonly labels: Int32Array };
  readonly test: { readonly images: Float32Array; readonly labels: Int32Array };
}

/** Reads the `mnist` package's 10,000 digits (about half a second the first time; shared after that). */
export function mnistDigits(): Promise<MnistDigits> {
  return mnistSplits();
}
