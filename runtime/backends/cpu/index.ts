/**
 * The CPU backend: executes kernel graphs in float32 (and exact i32) with
 * typed arrays.
 *
 * `compile` allocates one ArrayBuffer per buffer of the memory plan, makes a
 * Float32Array or Int32Array view for each value (values that share a buffer
 * share its memory, one at a time), and turns each kernel into a step with
 * everything precomputed (see `kernels.ts`). A run copies the feeds into their
 * buffers, runs the steps in order and returns views of the output buffers:
 * no allocation per run or per element.
 */
import { formatShape, sameShape } from "../../ir/shape.js";
import type { KernelGraph, NamedValue } from "../../kernel/graph.js";
import { assertValidKernelGraph } from "../../kernel/validate.js";
import { lookupFeed, RunError, type Backend, type Executable, type TensorFeeds, type TensorValue } from "../backend.js";
import { MAKERS, type Arr, type Slot, type Step } from "./kernels.js";

export { MAKERS } from "./kernels.js";
export { matmulInto, matmulScratch } from "./matmul.js";

/** The CPU backend. */
export const cpuBackend: Backend = {
  name: "cpu",
  compile: compileCpu,
};

/** Compiles a kernel graph for the CPU. */
export function compileCpu(graph: KernelGraph): Executable {
  assertValidKernelGraph(graph);
  const memory = graph.buffers.map((b) => new ArrayBuffer(b.bytes));
  const slots: Slot[] = graph.values.map((v) => {
    const size = v.shape.reduce((p, d) => p * d, 1);
    const data: Arr = v.dtype === "f32" ? new Float32Array(memory[v.buffer]!, 0, size) : new Int32Array(memory[v.buffer]!, 0, size);
    return { data, shape: v.shape, dtype: v.dtype };
  });
  const steps: Step[] = graph.kernels.map((k) => {
    if (k.ops.length !== 1) throw new Error(`cpu: kernel k${k.id} fuses ${k.ops.length} ops; fused kernels are not supported yet`);
    const op = k.ops[0]!;
    if (op.args.some((a, i) => !("input" in a) || a.input !== i)) throw new Error(`cpu: kernel k${k.id} has unexpected operands`);
    const maker = MAKERS[op.op] as ((attrs: unknown, out: Slot, args: readonly Slot[]) => Step) | undefined;
    if (maker === undefined) throw new Error(`cpu: no kernel for op ${op.op}`);
    return maker(
      op.attrs,
      slots[k.output]!,
      k.inputs.map((v) => slots[v]!),
    );
  });
  const leaves = [
    ...graph.inputs.map((n) => ({ n, kind: "input", from: "feeds" as const })),
    ...graph.params.map((n) => ({ n, kind: "param", from: "params" as const })),
  ];
  // The outputs record is built once: its arrays are views of the output buffers.
  const outputs: Record<string, TensorValue> = Object.fromEntries(
    graph.outputs.map((o) => [o.name, { shape: o.shape, dtype: o.dtype, data: slots[o.value]!.data }]),
  );
  const count = steps.length;
  return {
    graph,
    run(feeds: TensorFeeds, params: TensorFeeds = {}): Record<string, TensorValue> {
      for (let i = 0; i < leaves.length; i++) {
        const { n, kind, from } = leaves[i]!;
        load(kind, n, lookupFeed(from === "feeds" ? feeds : params, n.name), slots[n.value]!.data);
      }
      for (let i = 0; i < count; i++) steps[i]!();
      return outputs;
    },
  };
}

/** Checks a feed against its input or param and copies it into the value's buffer. */
function load(kind: string, n: NamedValue, fed: { shape: readonly number[]; data: ArrayLike<number> } | undefined, into: Arr): void {
  const what = `${kind} "${n.name}"`;
  if (fed === undefined) throw new RunError(`${what} (${n.dtype}${formatShape(n.shape)}) was not fed`);
  if (!sameShape(fed.shape, n.shape)) throw new RunError(`${what} expects shape ${formatShape(n.shape)}, was fed ${formatShape(fed.shape)}`);
  if (fed.data.length !== into.length) {
    throw new RunError(`${what} of shape ${formatShape(n.shape)} was fed ${fed.data.length} numbers, not ${into.length}`);
  }
  if (n.dtype === "i32" && !(fed.data instanceof Int32Array)) {
    for (let i = 0; i < fed.data.length; i++) {
      const v = fed.data[i]!;
      if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new RunError(`${what} is i32 but element ${i} is ${v}`);
    }
  }
  into.set(fed.data);
}
