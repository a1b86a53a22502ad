/**
 * From IR to kernel graph: one kernel per primitive (fusion comes later), in
 * the IR's topological order, and a static memory plan.
 *
 * The plan: each value is live from the kernel that writes it to the last
 * kernel that reads it (graph outputs: to the end of the run; inputs and
 * params: from before the first kernel). Inputs, params and outputs get a
 * buffer each, never shared. Every other value takes, first fit, a free shared
 * buffer of its size class (its byte size rounded up to a power of two, at
 * least 16); a buffer becomes free after the last reader of its value ran, so
 * a kernel never writes a buffer it reads.
 */
import type { Graph, Node } from "../ir/node.js";
import { graphNodes } from "../ir/node.js";
import { sizeOf } from "../ir/shape.js";
import {
  bytesPerElement,
  type Kernel,
  type KernelBuffer,
  type KernelGraph,
  type KernelValue,
  type MemorySummary,
  type NamedValue,
  type ValueRole,
} from "./graph.js";

/** The size class of a byte count: the next power of two, at least 16. */
export function sizeClass(bytes: number): number {
  let c = 16;
  while (c < bytes) c *= 2;
  return c;
}

/** Bytes of a value. */
export function valueBytes(v: { shape: readonly number[]; dtype: KernelValue["dtype"] }): number {
  return sizeOf(v.shape) * bytesPerElement(v.dtype);
}

/** Lowers an IR graph to a kernel graph with one kernel per primitive and plans its memory. */
export function planKernelGraph(graph: Graph): KernelGraph {
  const nodes = graphNodes(graph);
  const valueOf = new Map<Node, number>(nodes.map((n, i) => [n, i]));
  const outputNodes = new Set(graph.outputs.map((o) => o.node));
  const role = (n: Node): ValueRole =>
    n.op === "input" ? "input" : n.op === "param" ? "param" : outputNodes.has(n) ? "output" : "temp";

  // Kernels, in the IR's topological order.
  const kernels: Kernel[] = [];
  const def: number[] = nodes.map(() => -1);
  for (const n of nodes) {
    if (n.op === "input" || n.op === "param") continue;
    const id = kernels.length;
    def[valueOf.get(n)!] = id;
    kernels.push({
      id,
      ops: [{ op: n.op, attrs: n.attrs, args: n.inputs.map((_, i) => ({ input: i })), shape: n.shape, dtype: n.dtype }],
      inputs: n.inputs.map((i) => valueOf.get(i)!),
      output: valueOf.get(n)!,
      shape: n.shape,
      dtype: n.dtype,
    });
  }

  // Liveness.
  const lastUse = def.slice();
  for (const k of kernels) for (const v of k.inputs) lastUse[v] = Math.max(lastUse[v]!, k.id);
  for (const n of outputNodes) lastUse[valueOf.get(n)!] = kernels.length;

  // Buffers: dedicated ones for inputs, params and outputs; shared ones, first fit by size class, for the rest.
  const buffers: KernelBuffer[] = [];
  const bufferOf: number[] = nodes.map(() => -1);
  const free: number[] = []; // shared buffer ids, free now, in id order
  const dedicated = (v: number, r: KernelBuffer["role"]): void => {
    bufferOf[v] = buffers.length;
    buffers.push({ id: buffers.length, bytes: sizeClass(valueBytes(nodes[v]!)), role: r });
  };
  const release = (v: number): void => {
    const b = bufferOf[v]!;
    if (buffers[b]!.role !== "shared" || free.includes(b)) return;
    const at = free.findIndex((f) => f > b);
    free.splice(at < 0 ? free.length : at, 0, b);
  };
  nodes.forEach((n, v) => {
    if (n.op === "input" || n.op === "param") dedicated(v, n.op);
  });
  for (const k of kernels) {
    const v = k.output;
    if (role(nodes[v]!) === "output") dedicated(v, "output");
    else {
      const cls = sizeClass(valueBytes(k));
      const at = free.findIndex((b) => buffers[b]!.bytes === cls);
      if (at >= 0) bufferOf[v] = free.splice(at, 1)[0]!;
      else {
        bufferOf[v] = buffers.length;
        buffers.push({ id: buffers.length, bytes: cls, role: "shared" });
      }
    }
    for (const i of k.inputs) if (lastUse[i] === k.id) release(i);
    if (lastUse[v] === k.id) release(v);
  }

  const values: KernelValue[] = nodes.map((n, v) => ({
    id: v,
    shape: n.shape,
    dtype: n.dtype,
    role: role(n),
    buffer: bufferOf[v]!,
    def: def[v]!,
    lastUse: lastUse[v]!,
    node: n.id,
  }));
  const named = (n: Node, name: string): NamedValue => ({ name, value: valueOf.get(n)!, shape: n.shape, dtype: n.dtype });
  const leaves = (op: "input" | "param"): NamedValue[] =>
    nodes.filter((n) => n.op === op).map((n) => named(n, (n.attrs as { name: string }).name));
  return {
    version: 1,
    kernels,
    values,
    buffers,
    inputs: leaves("input"),
    params: leaves("param"),
    outputs: graph.outputs.map((o) => named(o.node, o.name)),
    memory: memorySummary(values, buffers, kernels.length),
  };
}

function memorySummary(values: readonly KernelValue[], buffers: readonly KernelBuffer[], kernelCount: number): MemorySummary {
  // Live bytes at each step −1 (before the first kernel) … kernelCount (after the last), by a sweep of +size at def, −size after lastUse.
  const delta = new Array<number>(kernelCount + 3).fill(0);
  for (const v of values) {
    const bytes = valueBytes(v);
    delta[v.def + 1]! += bytes;
    delta[v.lastUse + 2]! -= bytes;
  }
  let live = 0;
  let liveBytesMax = 0;
  for (const d of delta) {
    live += d;
    liveBytesMax = Math.max(liveBytesMax, live);
  }
  return {
    peakBytes: buffers.reduce((s, b) => s + b.bytes, 0),
    peakBytesWithoutReuse: values.reduce((s, v) => s + valueBytes(v), 0),
    liveBytesMax,
  };
}
