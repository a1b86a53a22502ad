/**
 * A model's tensors in and out: safetensors bytes or tensors by name, checked
 * against the plan (every tensor present, with its shape and dtype), and the
 * safetensors bytes `Model.save` writes. In memory every tensor is float32,
 * or int32 for the integer ones (batch norm's `num_batches_tracked`), which
 * the file holds as `I64`, as PyTorch does (spec/checkpoints.md).
 */
import { CheckpointError } from "../checkpoint/errors.js";
import type { Dtype, Tensor } from "../checkpoint/dtypes.js";
import { compareParameters, formatParameterReport, reportIsClean, type ExpectedParameter } from "../checkpoint/match.js";
import { checkpointMetadata, readCheckpointInfo, type CheckpointInfo } from "../checkpoint/metadata.js";
import { decodeSafetensors, encodeSafetensors } from "../checkpoint/safetensors.js";
import { nonFiniteProblem } from "../checkpoint/finite.js";
import { ReprError } from "./errors.js";
import type { PlanTensor } from "./plan.js";

/** A tensor of a model as the runtime keeps it: shape and row-major elements. */
export interface ModelTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

/** A tensor given by name (`Model.create`'s `weights` as a map): shape and row-major numbers. */
export interface TensorInput {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number> | BigInt64Array;
}

/** Weights for a model: safetensors bytes, or tensors by name. */
export type Weights = Uint8Array | ArrayBuffer | ReadonlyMap<string, TensorInput>;

/** The name messages give weights passed in memory. */
const WEIGHTS = "weights";

/** What the file's metadata says about where the weights come from, as far as it says. */
export type WeightsInfo = Partial<CheckpointInfo>;

/** Whether a tensor may be missing from weights (its initial value is kept): batch norm's step counter, which repr does not use. */
function optional(t: PlanTensor): boolean {
  return t.dtype === "i32" && t.name.endsWith("num_batches_tracked");
}

const fileDtype = (t: PlanTensor): Dtype => (t.dtype === "i32" ? "I64" : "F32");

/** The safetensors dtypes read into a tensor of each plan dtype, the first being what `save` writes. */
const accepted: Readonly<Record<"f32" | "i32", readonly Dtype[]>> = { f32: ["F32", "F64"], i32: ["I64", "I32"] };

/** The dtype a map entry's data has, as safetensors would name it; a plain array counts as what the tensor needs. */
function dtypeOfData(data: ArrayLike<number> | BigInt64Array, expected: Dtype): Dtype {
  if (data instanceof Float32Array) return "F32";
  if (data instanceof Float64Array) return "F64";
  if (data instanceof Int32Array) return "I32";
  if (data instanceof BigInt64Array) return "I64";
  if (data instanceof Uint8Array) return "U8";
  return expected;
}

/**
 * Reads weights into tensors of the plan, in plan order. Everything that does
 * not fit — missing, unexpected, mis-shaped or mis-typed tensors, all at
 * once — is one `ReprError` with a line per problem; tensors that may be
 * missing (`num_batches_tracked`) are left out of the result.
 */
export function readWeights(tensors: readonly PlanTensor[], weights: Weights): { tensors: Map<string, ModelTensor>; info: WeightsInfo } {
  let loaded: Map<string, Tensor>;
  let info: WeightsInfo = {};
  if (weights instanceof Uint8Array || weights instanceof ArrayBuffer) {
    const bytes = weights instanceof Uint8Array ? weights : new Uint8Array(weights);
    try {
      const decoded = decodeSafetensors(bytes, WEIGHTS);
      loaded = decoded.tensors;
      info = readCheckpointInfo(decoded.metadata, WEIGHTS);
    } catch (cause) {
      if (cause instanceof CheckpointError) throw new ReprError(cause.message, { cause });
      throw cause;
    }
  } else if (weights instanceof Map) {
    loaded = new Map();
    const expected = new Map(tensors.map((t) => [t.name, fileDtype(t)]));
    for (const [name, t] of weights as ReadonlyMap<string, TensorInput>) {
      if (t === null || typeof t !== "object" || !Array.isArray(t.shape) || t.data === null || typeof t.data?.length !== "number") {
        throw new ReprError(`${WEIGHTS}: tensor '${name}' must be { shape, data }`);
      }
      const count = t.shape.reduce((p, d) => p * d, 1);
      if (t.data.length !== count) throw new ReprError(`${WEIGHTS}: tensor '${name}' has shape [${t.shape.join(", ")}] of ${count} elements, but ${t.data.length} numbers`);
      loaded.set(name, { dtype: dtypeOfData(t.data, expected.get(name) ?? "F32"), shape: t.shape, data: t.data } as Tensor);
    }
  } else {
    throw new ReprError(`${WEIGHTS} must be safetensors bytes (a Uint8Array or ArrayBuffer) or a Map of tensors by name`);
  }
  const expected: ExpectedParameter[] = tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: fileDtype(t), optional: optional(t) }));
  const raw = compareParameters(expected, loaded);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const report = { ...raw, wrongDtype: raw.wrongDtype.filter((w) => !accepted[byName.get(w.name)!.dtype as "f32" | "i32"].includes(w.actual)) };
  if (!reportIsClean(report)) throw new ReprError(`${WEIGHTS}: ${formatParameterReport(report)}`);
  const out = new Map<string, ModelTensor>();
  for (const t of tensors) {
    const source = loaded.get(t.name);
    if (source === undefined) continue;
    out.set(t.name, { shape: [...t.shape], data: convert(t, source.data as ArrayLike<number> | BigInt64Array) });
  }
  return { tensors: out, info };
}

/** A file tensor's elements as the runtime keeps them; floats are checked to be finite, integers to fit i32. */
function convert(t: PlanTensor, data: ArrayLike<number> | BigInt64Array): Float32Array | Int32Array {
  if (t.dtype === "f32") {
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
    // A NaN or an infinity would poison every output and update without a word: refused, with where it is.
    const problem = nonFiniteProblem(t.shape, out);
    if (problem !== null) throw new ReprError(`${WEIGHTS}: tensor '${t.name}' ${problem}`);
    return out;
  }
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
      throw new ReprError(`${WEIGHTS}: tensor '${t.name}' is an i32 tensor, but its element ${i} is ${String(data[i])}`);
    }
    out[i] = v;
  }
  return out;
}

/** The model's tensors as safetensors bytes: float32 as `F32`, integers as `I64`, with repr's metadata. */
export function encodeWeights(tensors: ReadonlyMap<string, ModelTensor>, info: CheckpointInfo): Uint8Array {
  const out = new Map<string, Tensor>();
  for (const [name, t] of tensors) {
    if (t.data instanceof Int32Array) out.set(name, { dtype: "I64", shape: [...t.shape], data: BigInt64Array.from(t.data, (v) => BigInt(v)) });
    else out.set(name, { dtype: "F32", shape: [...t.shape], data: t.data });
  }
  return encodeSafetensors(out, checkpointMetadata(info));
}
