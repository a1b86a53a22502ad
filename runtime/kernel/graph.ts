/**
 * The kernel graph: the plain-data, backend-neutral program every backend
 * executes (DESIGN.md stage 6).
 *
 * It is a list of kernels in execution order. Each kernel computes one value
 * (and, fused, sometimes a few more) from earlier values with a small
 * expression of IR primitives (`ops`). Planned without fusion, a kernel holds
 * one primitive; the fusion planner (`fuse.ts`) puts several in one and says
 * which kind of kernel they make (`KernelKind`), so that every backend renders
 * the same fused kernels. Values live in buffers chosen by a static memory plan:
 * a buffer holds one value at a time, and a value's buffer is only handed to a
 * later value after its last reader ran. Graph inputs, params and outputs have
 * buffers of their own that are never shared.
 *
 * Everything here is JSON data (no classes, no IR node references), so a
 * kernel graph can be written to disk, diffed and read back
 * (`kernelGraphToJson` / `kernelGraphFromJson`).
 */
import type { DType, Op, Shape } from "../ir/ops.js";
import { fromExactJson, toExactJson } from "../ir/exact-json.js";
import { formatShape } from "../ir/shape.js";

/** An operand of a kernel op: the kernel's `index`-th input value, or the result of an earlier op of the same kernel. */
export type KernelArg = { readonly input: number } | { readonly op: number };

/** One primitive inside a kernel: an IR op with its attributes, applied to kernel inputs or earlier ops. */
export interface KernelOp {
  readonly op: Op;
  /** The IR op's attributes (plain data, as in `OpAttrs`). */
  readonly attrs: unknown;
  readonly args: readonly KernelArg[];
  readonly shape: Shape;
  readonly dtype: DType;
}

/**
 * What a fused kernel computes, in the shapes backends render (see `fuse.ts`
 * for the rules, `anatomy.ts` for the roles of its ops):
 * - `single`: one primitive on its own (an index op, a sort, a literal, …);
 * - `map`: elementwise ops over the root's shape, reading stored values
 *   through views (reshape, permute, expand, slice, pad, concat);
 * - `reduce`: reductions of one shape over the same axes, with the
 *   elementwise ops that feed them and those that use their results
 *   (softmax, layer norm, a loss);
 * - `matmul`: one matrix product whose operands are views of stored values,
 *   and an elementwise epilogue on its result (bias, activation, residual);
 * - `conv`: a `matmul` whose operand is a window view (the columns of a
 *   convolution, read in place: an implicit GEMM);
 * - `attention`: softmax(Q·Kᵀ·s + mask)·V per block (see `anatomy.ts`).
 */
export type KernelKind = "single" | "map" | "reduce" | "matmul" | "conv" | "attention";

/** A value a fused kernel writes besides its result: the result of one of its earlier ops. */
export interface ExtraOutput {
  /** The op whose result it is. */
  readonly op: number;
  /** The value written. */
  readonly value: number;
}

/** One kernel: computes `output` from `inputs`; its result is the value of its last op. */
export interface Kernel {
  /** Position in execution order (kernels run by increasing id). */
  readonly id: number;
  /** The primitives, operands before users; the last one is the kernel's result. */
  readonly ops: readonly KernelOp[];
  /** Value ids read, in operand order (repeats allowed). */
  readonly inputs: readonly number[];
  /** Value id written. */
  readonly output: number;
  readonly shape: Shape;
  readonly dtype: DType;
  /** What the kernel computes, as the fusion planner decided; absent when planned without fusion (one primitive). */
  readonly kind?: KernelKind;
  /** Values written besides `output` (results of earlier ops that later kernels or the graph's outputs read); absent when none. */
  readonly extraOutputs?: readonly ExtraOutput[];
}

/** Every value a kernel writes: its result first, then its extra outputs. */
export function kernelOutputs(k: Kernel): number[] {
  return [k.output, ...(k.extraOutputs ?? []).map((e) => e.value)];
}

/** Where a value comes from and who owns its buffer. */
export type ValueRole = "input" | "param" | "temp" | "output";

/** One tensor value of the graph (the result of a kernel, or an external input/param). */
export interface KernelValue {
  readonly id: number;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly role: ValueRole;
  /** The buffer holding it. */
  readonly buffer: number;
  /** The kernel that writes it, or −1 for inputs and params (written before the first kernel). */
  readonly def: number;
  /** The last kernel that reads it; `kernels.length` for graph outputs (read after the run); `def` when nothing reads it. */
  readonly lastUse: number;
  /** The IR node it came from (for printing and debugging). */
  readonly node?: number;
}

/** A buffer of the memory plan. Every dtype here has 4-byte elements, so one buffer can hold f32 and i32 values in turn. */
export interface KernelBuffer {
  readonly id: number;
  /** Capacity in bytes (the size class of its largest tenant). */
  readonly bytes: number;
  /** "shared" buffers hold temporaries in turn; the others belong to one input, param or output. */
  readonly role: "input" | "param" | "output" | "shared";
}

/** A named external value. */
export interface NamedValue {
  readonly name: string;
  readonly value: number;
  readonly shape: Shape;
  readonly dtype: DType;
}

/** What the memory plan costs. */
export interface MemorySummary {
  /** Sum of all buffers' capacities: what a backend allocates with the plan. */
  readonly peakBytes: number;
  /** Sum of all values' sizes: what it would allocate with one buffer per value. */
  readonly peakBytesWithoutReuse: number;
  /** The most bytes live at one time (a lower bound for any plan). */
  readonly liveBytesMax: number;
}

/** The kernel graph. */
export interface KernelGraph {
  readonly version: 1;
  readonly kernels: readonly Kernel[];
  readonly values: readonly KernelValue[];
  readonly buffers: readonly KernelBuffer[];
  readonly inputs: readonly NamedValue[];
  readonly params: readonly NamedValue[];
  /** Outputs by name; two names may share a value. */
  readonly outputs: readonly NamedValue[];
  readonly memory: MemorySummary;
}

/** Bytes per element of a dtype. */
export function bytesPerElement(_dtype: DType): number {
  return 4;
}

/** A kernel graph as JSON text. Non-finite numbers and −0 are spelled `{"$num": "-Infinity"}` so they survive. */
export function kernelGraphToJson(graph: KernelGraph, indent?: number): string {
  return toExactJson(graph, indent);
}

/** Reads back what `kernelGraphToJson` wrote. */
export function kernelGraphFromJson(text: string): KernelGraph {
  const graph = fromExactJson(text) as KernelGraph;
  if (graph.version !== 1) throw new Error(`kernel graph version ${String(graph.version)} is not supported`);
  return graph;
}

/** A byte count for people: `512 B`, `3.0 KiB`, `1.2 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function formatAttrs(attrs: unknown): string {
  if (typeof attrs !== "object" || attrs === null) return "";
  const entries = Object.entries(attrs as Record<string, unknown>).filter(([k]) => k !== "shape" && k !== "dtype");
  if (entries.length === 0) return "";
  const show = (v: unknown): string => {
    if (Array.isArray(v)) return v.length > 8 ? `[${v.slice(0, 8).map(show).join(", ")}, …]` : `[${v.map(show).join(", ")}]`;
    return typeof v === "number" ? String(v) : JSON.stringify(v);
  };
  return ` {${entries.map(([k, v]) => `${k}=${show(v)}`).join(", ")}}`;
}

/**
 * One kernel as text: `v7 = add(v5, v6) : f32[64, 256]`; a fused kernel as
 * `v9 = map { t0 = …; t1 = … } : f32[…]`, its extra outputs as `v8 ← t0`.
 */
export function printKernel(k: Kernel): string {
  const body = k.ops
    .map((o, i) => {
      const args = o.args.map((a) => ("input" in a ? `v${k.inputs[a.input]!}` : `t${a.op}`)).join(", ");
      return `${k.ops.length > 1 ? `t${i} = ` : ""}${o.op}(${args})${formatAttrs(o.attrs)}`;
    })
    .join("; ");
  const extra = (k.extraOutputs ?? []).map((e) => `, v${e.value} ← t${e.op}`).join("");
  const kind = k.kind !== undefined && k.kind !== "single" ? `${k.kind} { ${body} }` : body;
  return `v${k.output} = ${kind}${extra} : ${k.dtype}${formatShape(k.shape)}`;
}

/** The text form of a kernel graph: one line per kernel with its buffer and live range, then the memory summary. */
export function printKernelGraph(graph: KernelGraph): string {
  const lines: string[] = [];
  const type = (v: { dtype: DType; shape: Shape }): string => `${v.dtype}${formatShape(v.shape)}`;
  const val = (id: number): string => `v${id}`;
  const named = (kind: string, list: readonly NamedValue[]): void => {
    for (const n of list) lines.push(`${kind} ${n.name}: ${type(n)} = ${val(n.value)} @b${graph.values[n.value]!.buffer}`);
  };
  const ops = graph.kernels.reduce((n, k) => n + k.ops.length, 0);
  const fused = ops === graph.kernels.length ? "" : ` (${ops} ops fused)`;
  lines.push(`kernel graph: ${graph.kernels.length} kernels${fused}, ${graph.values.length} values, ${graph.buffers.length} buffers`);
  named("input", graph.inputs);
  named("param", graph.params);
  for (const k of graph.kernels) {
    const v = graph.values[k.output]!;
    lines.push(`k${k.id}: ${printKernel(k)} @b${v.buffer} live ${v.def}..${v.lastUse}`);
  }
  named("output", graph.outputs);
  const m = graph.memory;
  lines.push(
    `memory: ${formatBytes(m.peakBytes)} with reuse, ${formatBytes(m.peakBytesWithoutReuse)} without, ${formatBytes(m.liveBytesMax)} live at most`,
  );
  return lines.join("\n") + "\n";
}
