/**
 * The static memory plan of a kernel program: which buffer holds each value.
 *
 * Each value is live from the kernel that writes it to the last kernel that
 * reads it (graph outputs: to the end of the run; inputs and params: from
 * before the first kernel). Inputs, params and outputs get a buffer each,
 * never shared. Every other value takes, first fit, a free shared buffer of
 * its size class (its byte size rounded up to a power of two, at least 16); a
 * buffer becomes free after the last reader of its value ran, so a kernel
 * never writes a buffer it reads. A fused kernel's extra outputs are written
 * by it like its result.
 */
import { sizeOf } from "../ir/shape.js";
import { bytesPerElement, kernelOutputs, type KernelBuffer, type KernelGraph, type KernelValue, type MemorySummary } from "./graph.js";
import type { KernelProgram } from "./program.js";

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

/** Gives every value of `program` a buffer: the kernel graph backends execute. */
export function planMemory(program: KernelProgram): KernelGraph {
  const { kernels, values: vals } = program;
  const def: number[] = vals.map(() => -1);
  for (const k of kernels) for (const v of kernelOutputs(k)) def[v] = k.id;

  // Liveness.
  const lastUse = def.slice();
  for (const k of kernels) for (const v of k.inputs) lastUse[v] = Math.max(lastUse[v]!, k.id);
  for (const o of program.outputs) lastUse[o.value] = kernels.length;

  // Buffers: dedicated ones for inputs, params and outputs; shared ones, first fit by size class, for the rest.
  const buffers: KernelBuffer[] = [];
  const bufferOf: number[] = vals.map(() => -1);
  const free: number[] = []; // shared buffer ids, free now, in id order
  const dedicated = (v: number, r: KernelBuffer["role"]): void => {
    bufferOf[v] = buffers.length;
    buffers.push({ id: buffers.length, bytes: sizeClass(valueBytes(vals[v]!)), role: r });
  };
  const release = (v: number): void => {
    const b = bufferOf[v]!;
    if (buffers[b]!.role !== "shared" || free.includes(b)) return;
    const at = free.findIndex((f) => f > b);
    free.splice(at < 0 ? free.length : at, 0, b);
  };
  vals.forEach((value, v) => {
    if (value.role === "input" || value.role === "param") dedicated(v, value.role);
  });
  for (const k of kernels) {
    const written = kernelOutputs(k);
    for (const v of written) {
      if (vals[v]!.role === "output") dedicated(v, "output");
      else {
        const cls = sizeClass(valueBytes(vals[v]!));
        const at = free.findIndex((b) => buffers[b]!.bytes === cls);
        if (at >= 0) bufferOf[v] = free.splice(at, 1)[0]!;
        else {
          bufferOf[v] = buffers.length;
          buffers.push({ id: buffers.length, bytes: cls, role: "shared" });
        }
      }
    }
    for (const i of k.inputs) if (lastUse[i] === k.id) release(i);
    for (const v of written) if (lastUse[v] === k.id) release(v);
  }

  const values: KernelValue[] = vals.map((value, v) => ({
    id: v,
    shape: value.shape,
    dtype: value.dtype,
    role: value.role,
    buffer: bufferOf[v]!,
    def: def[v]!,
    lastUse: lastUse[v]!,
    ...(value.node === undefined ? {} : { node: value.node }),
  }));
  return {
    version: 1,
    kernels,
    values,
    buffers,
    inputs: program.inputs,
    params: program.params,
    outputs: program.outputs,
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
