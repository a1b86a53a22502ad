/**
 * The `onnx` backend: kernel graphs run by ONNX Runtime's native CPU kernels
 * (MLAS, with threads) through the `onnxruntime-node` package, in Node only.
 *
 * `compile` translates a kernel graph to an ONNX model (translate.ts, the
 * same translation `repr compile --target onnx` writes) and starts an ONNX
 * Runtime session from its bytes. ONNX Runtime runs asynchronously, so, as
 * on WebGPU, executables run with `runAsync` and their `run` throws. Each
 * executable preallocates its outputs once and hands them to every run
 * (ONNX Runtime writes into them), and fills its random draws in place from
 * the shared counter-based generator, so a run allocates no tensor memory of
 * its own.
 *
 * Both packages are optional peer dependencies (runtime/optional-packages.ts):
 * `onnxruntime-node` for the kernels and `protobufjs` for the model's bytes;
 * `createOnnxBackend` names whichever is missing.
 */
import type { DType, Shape } from "../../ir/ops.js";
import type { KernelGraph } from "../../kernel/graph.js";
import { assertValidKernelGraph } from "../../kernel/validate.js";
import { importOptional } from "../../optional-packages.js";
import { fillNormal, fillUniform } from "../../rng/index.js";
import { lookupFeed, RunError, type Backend, type Executable, type TensorFeeds, type TensorValue } from "../backend.js";
import { encodeOnnxModel, loadProtobuf, type ProtobufLight } from "./proto.js";
import { kernelSource } from "./source.js";
import { translateGraph, type Draw, type DrawOperand } from "./translate.js";

export { OnnxExportError, ONNX_RULES, onnxRule } from "./ops.js";
export { translateGraph, onnxDim, type Draw, type DrawOperand, type Translation, type TranslateOptions } from "./translate.js";
export { kernelSource, batchSource, type SourceGraph, type SourceNode } from "./source.js";
export { encodeOnnxModel, loadProtobuf, ONNX_SCHEMA, type ProtobufLight } from "./proto.js";
export { OPSET, IR_VERSION, type OnnxModel } from "./model.js";

/** The part of onnxruntime-node's API this backend uses. */
export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>, fetches?: Record<string, OrtTensor | null>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
/** The onnxruntime-node module, as far as repr uses it. */
export interface Ort {
  readonly Tensor: new (type: "float32" | "int32", data: Float32Array | Int32Array, dims: readonly number[]) => OrtTensor;
  readonly InferenceSession: { create(bytes: Uint8Array, options: object): Promise<OrtSession> };
}

/** Options of the onnx backend. */
export interface OnnxOptions {
  /** Threads ONNX Runtime's kernels use (its `intraOpNumThreads`); 0, the default, lets it choose (one per core). */
  readonly threads?: number;
}

/** An executable of the onnx backend: `runAsync` runs it; `run` throws. */
export interface OnnxExecutable extends Executable {
  /** The ONNX model's bytes, as the session was made from them. */
  readonly bytes: Uint8Array;
  /** The random draws it reads as inputs, which it fills on every run. */
  readonly draws: readonly Draw[];
  runAsync(feeds: TensorFeeds, params?: TensorFeeds): Promise<Record<string, TensorValue>>;
  /** Releases the session. */
  dispose(): void;
}

/** The onnx backend. */
export interface OnnxBackend extends Backend {
  compile(graph: KernelGraph): OnnxExecutable;
}

/** Loads `onnxruntime-node`; a `MissingPackageError` names it where it is not installed. */
export async function loadOrt(): Promise<Ort> {
  // A computed specifier, so that browser bundlers leave the Node-only package alone.
  const name = "onnxruntime-node";
  const mod = await importOptional("onnxruntime-node", async () => (await import(name)) as Ort & { default?: Ort });
  return mod.InferenceSession !== undefined ? mod : mod.default!;
}

/** The onnx backend, with both of its packages loaded. */
export async function createOnnxBackend(options: OnnxOptions = {}): Promise<OnnxBackend> {
  // One after the other, so that where both are missing the message names ONNX Runtime first.
  const ort = await loadOrt();
  const protobuf = await loadProtobuf();
  return {
    name: "onnx",
    compile: (graph) => compileOnnx(ort, protobuf, graph, options),
  };
}

/**
 * The session options repr runs every graph with: every graph optimization,
 * one graph node at a time, and threads that sleep when idle rather than
 * spin. Spinning threads (ONNX Runtime's default) took 2.3–2.6 times longer
 * per step on a shared 2-core machine (bench/RESULTS.md), as PyTorch's do
 * without `OMP_WAIT_POLICY=PASSIVE`.
 */
export function sessionOptions(options: OnnxOptions): object {
  return {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: options.threads ?? 0,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
  };
}

const arrayOf = (dtype: DType, size: number): Float32Array | Int32Array => (dtype === "f32" ? new Float32Array(size) : new Int32Array(size));
const sizeOf = (shape: Shape): number => shape.reduce((p, d) => p * d, 1);

/** Compiles `graph` for ONNX Runtime. */
function compileOnnx(ort: Ort, protobuf: ProtobufLight, graph: KernelGraph, options: OnnxOptions): OnnxExecutable {
  assertValidKernelGraph(graph);
  const { model, draws } = translateGraph(kernelSource(graph), { name: "repr" });
  const bytes = encodeOnnxModel(protobuf, model);
  const session = ort.InferenceSession.create(bytes, sessionOptions(options));
  // Reported by the first runAsync; until then, not an unhandled rejection.
  session.catch(() => undefined);
  const type = (dtype: DType): "float32" | "int32" => (dtype === "f32" ? "float32" : "int32");

  // Outputs: one array each (names sharing a value share nothing here: ONNX writes each).
  const outputs = graph.outputs.map((o) => {
    const data = arrayOf(o.dtype, sizeOf(o.shape));
    return { name: o.name, value: { shape: o.shape, dtype: o.dtype, data } as TensorValue, tensor: new ort.Tensor(type(o.dtype), data, o.shape) };
  });
  const fetches = Object.fromEntries(outputs.map((o) => [o.name, o.tensor]));
  const result = Object.fromEntries(outputs.map((o) => [o.name, o.value]));
  const drawn = draws.map((d) => {
    const data = new Float32Array(sizeOf(d.shape as number[]));
    return { draw: d, data, tensor: new ort.Tensor("float32", data, d.shape as number[]) };
  });
  const externals = [...graph.inputs.map((v) => ({ ...v, kind: "input" as const })), ...graph.params.map((v) => ({ ...v, kind: "param" as const }))];

  // Each input's ONNX Runtime tensor, kept while it is fed the same array, so a run allocates none.
  const inputs: Record<string, OrtTensor> = {};
  const wrapped = new Map<string, { data: ArrayLike<number>; tensor: OrtTensor }>();
  let disposed = false;
  return {
    graph,
    bytes,
    draws,
    run(): Record<string, TensorValue> {
      throw new RunError("the onnx backend runs asynchronously: use runAsync");
    },
    async runAsync(feeds: TensorFeeds, params: TensorFeeds = {}): Promise<Record<string, TensorValue>> {
      if (disposed) throw new RunError("this onnx executable was disposed");
      const s = await session;
      for (const v of externals) {
        const feed = lookupFeed(v.kind === "input" ? feeds : params, v.name);
        if (feed === undefined) throw new RunError(`missing ${v.kind} '${v.name}'`);
        // The same array as last run (a model's tensors, a sized graph's input scratch): the same wrapper.
        const known = wrapped.get(v.name);
        if (known !== undefined && known.data === feed.data) continue;
        const size = sizeOf(v.shape);
        if (feed.data.length !== size) throw new RunError(`${v.kind} '${v.name}' has ${feed.data.length} elements, expected ${size}`);
        const want = v.dtype === "f32" ? Float32Array : Int32Array;
        const data = feed.data instanceof want ? feed.data : want.from(feed.data);
        inputs[v.name] = new ort.Tensor(type(v.dtype), data, v.shape);
        wrapped.set(v.name, { data: feed.data, tensor: inputs[v.name]! });
      }
      for (const d of drawn) {
        fillDraw(d.draw, feeds, d.data);
        inputs[d.draw.input] = d.tensor;
      }
      await s.run(inputs, fetches);
      return result;
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      void session.then((s) => s.release()).catch(() => undefined);
    },
  };
}

/**
 * Fills `out` with a draw's numbers for a run fed `feeds` (where its seed
 * and step come from): element i is the generator's draw at (seed, stream,
 * step, i), exactly what the other backends compute for the same op.
 */
export function fillDraw(draw: Draw, feeds: TensorFeeds, out: Float32Array): Float32Array {
  const seed = operand(draw.seed, feeds);
  const step = operand(draw.step, feeds);
  return draw.kind === "uniform" ? fillUniform(out, seed, draw.stream, 0, step) : fillNormal(out, seed, draw.stream, 0, step);
}

/** A draw's seed or step, as the u32 the generator reads. */
function operand(o: DrawOperand, feeds: TensorFeeds): number {
  if ("value" in o) return o.value >>> 0;
  const feed = lookupFeed(feeds, o.input);
  if (feed === undefined) throw new RunError(`missing input '${o.input}'`);
  return Number(feed.data[0]) >>> 0;
}
