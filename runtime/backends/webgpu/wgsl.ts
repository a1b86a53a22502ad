/**
 * The WGSL renderer: one kernel of a kernel graph → the source of one compute
 * shader, and the dispatch that runs it (STYLE lessons 10 and 11: a dumb
 * printer of a decided plan; it makes no decision about the graph).
 *
 * Layout: binding i (i < number of inputs) is the kernel's i-th input as a
 * read-only `array<T>`, the next binding is the output, read-write. Every
 * size, stride and attribute is baked into the source as a constant (kernel
 * graphs are static). One invocation computes one output element, found from
 * the global id; invocations past the end return at once.
 *
 * Today a kernel holds one primitive (`planKernelGraph`); a kernel of several
 * ops, and the ops `OP_RENDERERS` (`wgsl-ops.ts`) lacks, throw
 * `Error("webgpu: op X is not supported yet")`.
 */
import { sizeOf } from "../../ir/shape.js";
import type { Kernel, KernelGraph } from "../../kernel/graph.js";
import { helperSource, u32Lit, type Helper } from "./wgsl-lib.js";
import { OP_RENDERERS, type TensorType } from "./wgsl-ops.js";

export { OP_RENDERERS, type TensorType };

/** Invocations per workgroup. */
export const WORKGROUP_SIZE = 64;
/** The most workgroups along one dispatch dimension (WebGPU's default limit). */
const MAX_GROUPS = 65535;

/** A rendered kernel: its WGSL and the workgroup counts to dispatch (zero when there is nothing to compute). */
export interface RenderedKernel {
  readonly wgsl: string;
  readonly workgroups: readonly [number, number, number];
}

/** The workgroup counts for `count` invocations: along x, spilling into y past the limit. */
export function dispatchFor(count: number): [number, number, number] {
  const groups = Math.ceil(count / WORKGROUP_SIZE);
  if (groups === 0) return [0, 0, 0];
  if (groups <= MAX_GROUPS) return [groups, 1, 1];
  return [MAX_GROUPS, Math.ceil(groups / MAX_GROUPS), 1];
}

/**
 * WGSL for one kernel, given the types of its inputs (in `kernel.inputs`
 * order). Pure: the same kernel always gives the same text.
 */
export function renderKernel(kernel: Kernel, inputs: readonly TensorType[]): RenderedKernel {
  if (!Number.isInteger(kernel.id)) throw new Error("webgpu: a kernel id must be an integer");
  if (kernel.ops.length !== 1) throw new Error(`webgpu: kernels of ${kernel.ops.length} ops (fused kernels) are not supported yet`);
  const op = kernel.ops[0]!;
  const render = Object.prototype.hasOwnProperty.call(OP_RENDERERS, op.op) ? OP_RENDERERS[op.op] : undefined;
  if (render === undefined) throw new Error(`webgpu: op ${String(op.op)} is not supported yet`);
  for (const t of [kernel, ...inputs]) checkType(t, kernel.id);
  // Operands in op order: a one-op kernel reads only kernel inputs.
  const operands = op.args.map((a) => {
    if (!("input" in a)) throw new Error(`webgpu: kernel k${kernel.id} reads an op result it has not computed`);
    return inputs[a.input]!;
  });
  if (op.args.some((a, i) => "input" in a && a.input !== i) || op.args.length !== inputs.length) {
    throw new Error(`webgpu: kernel k${kernel.id} must read its inputs once each, in order`);
  }
  const out: TensorType = { shape: kernel.shape, dtype: kernel.dtype };
  const used = new Set<Helper>();
  const count = sizeOf(out.shape);
  // An empty result computes nothing (and its sizes would divide by zero).
  const body = count === 0 ? "" : render({ attrs: op.attrs, inputs: operands, out, use: (h) => used.add(h) });
  if (body.includes("f32_bits(")) used.add("f32_bits");
  const workgroups = dispatchFor(count);
  // No kernel id in the source: kernels that compute alike share one shader.
  const lines: string[] = [`// ${op.op} → ${out.dtype}[${out.shape.join(", ")}]`];
  operands.forEach((t, i) => lines.push(`@group(0) @binding(${i}) var<storage, read> in${i}: array<${t.dtype}>;`));
  lines.push(`@group(0) @binding(${operands.length}) var<storage, read_write> out: array<${out.dtype}>;`, "");
  const helpers = helperSource(used);
  if (helpers !== "") lines.push(helpers);
  lines.push(
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    "fn main(@builtin(global_invocation_id) gid: vec3<u32>) {",
    `  let i = gid.x + gid.y * ${u32Lit(Math.max(workgroups[0], 1) * WORKGROUP_SIZE)};`,
    `  if (i >= ${u32Lit(count)}) { return; }`,
    indent(body),
    "}",
    "",
  );
  return { wgsl: lines.join("\n"), workgroups };
}

/** WGSL for every kernel of a graph, in execution order; throws for an op the renderer does not support. */
export function kernelWgsl(graph: KernelGraph): { kernel: number; wgsl: string }[] {
  return graph.kernels.map((k) => ({ kernel: k.id, wgsl: renderKernel(k, k.inputs.map((v) => graph.values[v]!)).wgsl }));
}

/** Only known dtypes and integer sizes reach the source (a kernel graph may come from JSON). */
function checkType(t: TensorType, kernel: number): void {
  if (t.dtype !== "f32" && t.dtype !== "i32") throw new Error(`webgpu: kernel k${kernel} has an unknown dtype ${JSON.stringify(t.dtype)}`);
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d >= 0 && d < 2 ** 32)) {
    throw new Error(`webgpu: kernel k${kernel} has a malformed shape ${JSON.stringify(t.shape)}`);
  }
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => (l === "" ? l : `  ${l}`))
    .join("\n");
}
