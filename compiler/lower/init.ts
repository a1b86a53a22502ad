/**
 * Parameter initialization (spec/layers.md): how each tensor of a model starts,
 * drawn from the shared counter-based generator (spec/random.md) so that one
 * seed gives the same initial weights on every backend.
 *
 * A parameter's numbers come from the stream `init/<name>` at step 0, element
 * `i` of the stream for element `i` (row-major) of the tensor (a teacher's
 * copy of a weight from its student's stream, so that it starts equal):
 *
 *     U(a)      a · (2u − 1)        u = uniform(seed, init/<name>, 0, i)
 *     N(σ)      σ · z               z = normal(seed, init/<name>, 0, i)
 *     constant  c
 *
 * `initialValues` computes them directly; `initGraph` builds the same thing as
 * IR (one `uniform` or `normal` op per tensor), so a backend initializes with
 * its own kernels and precision.
 */
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Graph, Node } from "../../runtime/ir/node.js";
import type { DType } from "../../runtime/ir/ops.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { fillNormal, fillUniform, streamOf } from "../../runtime/rng/index.js";

/** How a tensor starts. */
export type Init =
  /** U(bound): uniform on [−bound, bound]. */
  | { readonly kind: "uniform"; readonly bound: number }
  /** N(std): normal with mean 0. */
  | { readonly kind: "normal"; readonly std: number }
  /** Every element `value` (ones, zeros, a running variance of 1). */
  | { readonly kind: "constant"; readonly value: number };

/** Whether a tensor is learned (gets gradients) or is state a step may overwrite (running statistics). */
export type ParamKind = "weight" | "state";

/** One tensor of a model: a weight, a running statistic or a mask token. */
export interface ParamInfo {
  /** The checkpoint name (spec/checkpoints.md), e.g. `f.0.weight`. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly init: Init;
  /** The part (or mask) that owns it: the first segment of its name. */
  readonly owner: string;
  readonly kind: ParamKind;
  /**
   * Whether weight decay applies (spec/optimizers.md, "What decays"): the
   * matrices and kernels that multiply inputs and embedding tables, not
   * biases, norm scales and shifts, positional tables or tokens.
   */
  readonly decay: boolean;
  /**
   * Its layer within its part, 1, 2, ..., for `layer_decay` (spec/optimizers.md,
   * "Learning rates"): the stages of the part's top-level pipe that have
   * parameters, `repeat` counting each copy and a sequential block its body's
   * stages. 0 for mask tokens and where it is not known.
   */
  readonly layer: number;
  /**
   * A momentum teacher's copy of a student's weight (spec/teachers.md): the
   * student tensor it follows after every update, `t ← m·t + (1 − m)·s`. It
   * starts equal to the student (drawn from the student's stream).
   */
  readonly follows?: { readonly name: string; readonly momentum: number };
}

/** U(1/√fan_in): the fan-in bound of dense and convolution weights. */
export function fanIn(fan: number): Init {
  return { kind: "uniform", bound: 1 / Math.sqrt(fan) };
}

/** N(std). */
export function normalInit(std: number): Init {
  return { kind: "normal", std };
}

/** Every element `value`. */
export function constantInit(value: number): Init {
  return { kind: "constant", value };
}

/** The stream a parameter's initial numbers come from: `init/<name>`. */
export function initStream(name: string): number {
  return streamOf("init", name);
}

/** The stream of a tensor's initial numbers: its own, or for a teacher's copy the student's, so it starts equal. */
function streamFor(param: ParamInfo): number {
  return initStream(param.follows?.name ?? param.name);
}

/**
 * A parameter's initial values for `seed`, computed in float64 (a Float64Array)
 * or rounded once to float32 (a Float32Array), as spec/random.md says.
 */
export function initialValues<T extends Float32Array | Float64Array>(param: ParamInfo, seed: number, out?: T): T {
  const n = sizeOf(param.shape);
  const values = (out ?? new Float64Array(n)) as T;
  if (values.length !== n) throw new RangeError(`${param.name}: ${values.length} values for ${n} elements`);
  const init = param.init;
  switch (init.kind) {
    case "constant":
      values.fill(init.value);
      return values;
    case "uniform": {
      const u = fillUniform(new Float64Array(n), seed >>> 0, streamFor(param), 0, 0);
      for (let i = 0; i < n; i++) values[i] = init.bound * (2 * u[i]! - 1);
      return values;
    }
    case "normal": {
      const z = fillNormal(new Float64Array(n), seed >>> 0, streamFor(param), 0, 0);
      for (let i = 0; i < n; i++) values[i] = init.std * z[i]!;
      return values;
    }
  }
}

/** A tensor's initial value as training feeds it: rounded once to float32, or int32 for an i32 tensor. */
export interface InitialTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

/**
 * A parameter's initial value for `seed` as training holds it: the float64
 * values of `initialValues`, rounded once to float32 (or to int32 for an i32
 * tensor). `repr train` and the benches start from it.
 */
export function initialTensor(param: ParamInfo, seed: number): InitialTensor {
  const values = initialValues(param, seed);
  return { shape: [...param.shape], data: param.dtype === "i32" ? Int32Array.from(values) : Float32Array.from(values) };
}

/** Every parameter's initial values, by name. */
export function initialize(params: readonly ParamInfo[], seed: number): Map<string, Float64Array> {
  return new Map(params.map((p) => [p.name, initialValues(p, seed)]));
}

/**
 * The initialization as an IR graph: input `seed` (an i32 scalar holding
 * the seed's 32 bits) and one output per parameter, named after it.
 */
export function initGraph(params: readonly ParamInfo[]): Graph {
  const b = new IRBuilder();
  const seed = b.input("seed", [], "i32");
  const step = b.constant(0, [], "i32");
  const outputs: Record<string, Node> = {};
  for (const p of params) {
    const init = p.init;
    let value: Node;
    if (init.kind === "constant") value = b.constant(init.value, p.shape, "f32");
    else if (init.kind === "uniform") {
      const u = b.uniform(p.shape, { seed, step, stream: streamFor(p) });
      value = b.mul(b.sub(b.mul(u, 2), 1), init.bound);
    } else value = b.mul(b.normal(p.shape, { seed, step, stream: streamFor(p) }), init.std);
    // A constant node is shared by equal shapes; a cast or reshape is not needed for f32.
    outputs[p.name] = p.dtype === "f32" ? value : b.cast(value, p.dtype);
  }
  return b.graph(outputs);
}
