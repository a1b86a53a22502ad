/**
 * The WGSL renderer: one group of kernels (`shader-groups.ts`) → the source of one
 * compute shader, and the dispatch that runs it (STYLE lessons 10 and 11: a dumb
 * printer of a decided plan; it makes no decision about the graph).
 *
 * Layout: binding i (i < number of inputs) is the i-th input as a read-only
 * `array<T>`, the next bindings are the outputs (`out`, `out1`, …),
 * read-write. Every size, stride and attribute is baked into the source as a
 * constant (kernel graphs are static). Mostly one invocation computes one
 * output element, found from the global id, and invocations past the end
 * return at once; tiled matmuls and tree reductions work by workgroup.
 *
 * What runs together is decided by the kernel planner and cut into shaders by `shader-groups.ts`; `renderGroup` prints one group
 * (`wgsl-fused.ts`, `wgsl-matmul.ts`, `wgsl-reduce.ts`), `renderKernel` one
 * kernel on its own; an `attention` kernel of the plan prints whole as one
 * flash-attention shader (`wgsl-attention.ts`) where that renderer takes it. A matmul group with few output tiles and a long k
 * (`splitK`) prints as two shaders, partial products and their sum, and
 * `planDispatches` lists what the executor runs, both of those included. A kernel graph kernel of several ops, and the ops
 * `OP_RENDERERS` (`wgsl-ops.ts`) lacks, throw `Error("webgpu: op X is not
 * supported yet")`.
 */
import { sizeOf, stridesOf } from "../../ir/shape.js";
import { kernelOutputs, type Kernel, type KernelGraph } from "../../kernel/graph.js";
import { poolChainsEndingAt } from "../../kernel/pool-chains.js";
import { MAX_BINDINGS, planShaderGroups, viewOfValue, type FusedGroup, type ShaderGroupOptions, type View } from "./shader-groups.js";
import { primitiveGraph } from "./primitive-graph.js";
import { evaluator, fusedBody, fusedValue } from "./wgsl-fused.js";
import { helperSource, u32Lit, type Helper } from "./wgsl-lib.js";
import { renderMatmul, splitK, type MatmulOperand, type SplitK } from "./wgsl-matmul.js";
import { reduceParts, renderReduceTree, wantsTree } from "./wgsl-reduce.js";
import { renderAttention, type RenderedAttention } from "./wgsl-attention.js";
import { renderConvPool, type RenderedConvPool } from "./wgsl-pool.js";
import { flashBackward, SCRATCH_ROWS, type FlashBackward } from "./wgsl-attention-backward.js";
import type { OpAttrs } from "../../ir/ops.js";
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
  return { wgsl: flatShader(`${op.op} → ${out.dtype}[${out.shape.join(", ")}]`, operands, out, used, body), workgroups: dispatchFor(count) };
}

/**
 * A shader of one invocation per output element: the bindings, the helpers,
 * and `main` running `body` for flat index `i`. No kernel id in the source:
 * kernels that compute alike share one shader.
 */
function flatShader(comment: string, inputs: readonly TensorType[], out: TensorType, used: ReadonlySet<Helper>, body: string, extra: readonly TensorType[] = []): string {
  const count = sizeOf(out.shape);
  const workgroups = dispatchFor(count);
  const lines: string[] = [`// ${comment}`];
  inputs.forEach((t, i) => lines.push(`@group(0) @binding(${i}) var<storage, read> in${i}: array<${t.dtype}>;`));
  lines.push(`@group(0) @binding(${inputs.length}) var<storage, read_write> out: array<${out.dtype}>;`);
  extra.forEach((t, j) => lines.push(`@group(0) @binding(${inputs.length + 1 + j}) var<storage, read_write> out${j + 1}: array<${t.dtype}>;`));
  lines.push("");
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
  return lines.join("\n");
}

/**
 * A rendered group of a fusion plan: its shader, dispatch, the values bound
 * to `in0`, `in1`, … in order, and those written (`out`, `out1`, …). A
 * split-K matmul group (`splitK`) runs `partials` first, which writes the
 * partial products to a scratch buffer of `elements` f32s; the group's own
 * shader then binds that buffer where its bindings say `SCRATCH`, sums the
 * partials and runs the epilogue.
 */
export interface RenderedGroup extends RenderedKernel {
  readonly bindings: readonly number[];
  readonly outputs: readonly number[];
  readonly partials?: RenderedKernel & { readonly bindings: readonly number[]; readonly elements: number };
}

/** The binding of a split-K group's scratch buffer, which is no value of the graph. */
export const SCRATCH = -1;

/** Options of `renderGroup`. */
export interface RenderOptions {
  /** False: every matmul sums all of k, and every reduction all its elements, in one dispatch. */
  readonly splitK?: boolean;
}

/**
 * WGSL for one group of `planFusion`: a group of one kernel as
 * `renderKernel` renders it (but a matmul tiled and a long reduction as a
 * tree where that pays), a longer one as one fused shader.
 */
export function renderGroup(graph: KernelGraph, group: FusedGroup, options: RenderOptions = {}): RenderedGroup {
  const root = graph.kernels[group.root]!;
  const types = (values: readonly number[]): TensorType[] => values.map((v) => graph.values[v]!);
  const matmul = group.kernels.map((k) => graph.kernels[k]!).find((k) => k.ops.length === 1 && k.ops[0]!.op === "matmul");
  if (matmul !== undefined) {
    const rendered = renderMatmulGroup(graph, group, matmul, options.splitK !== false);
    if (rendered !== null) return rendered;
  }
  const op = root.ops[0]!;
  if (root.ops.length === 1 && (op.op === "sum" || op.op === "max")) {
    const x = graph.values[root.inputs[0]!]!;
    const attrs = op.attrs as OpAttrs["sum"];
    const count = sizeOf(attrs.axes.map((a) => x.shape[a]!));
    if (wantsTree(count)) {
      for (const t of [root, x, ...types(group.inputs)]) checkType(t, root.id);
      // The operand's chain, computed where the reduction reads it.
      const read = (idx: string): ReturnType<typeof fusedValue> => fusedValue(graph, group.kernels, group.inputs, root.inputs[0]!, idx);
      const operand = group.kernels.length === 1 ? undefined : { inputs: types(group.inputs), read };
      const bindings = group.kernels.length === 1 ? root.inputs : group.inputs;
      const outputs = sizeOf(root.shape);
      const parts = options.splitK === false ? 1 : reduceParts(count, outputs);
      if (parts === 1) return { ...renderReduceTree(op.op, attrs, x, root.shape, operand), bindings, outputs: [root.output] };
      // Split: chunks' partial results in scratch [outputs, parts], then those reduced over their last axis.
      const partial = renderReduceTree(op.op, attrs, x, root.shape, operand, parts);
      // Laid out as [outputs, 1]: the same elements, in the order of the root's shape.
      const finish = renderReduceTree(op.op, { axes: [1] } as OpAttrs["sum"], { shape: [outputs, parts], dtype: root.dtype }, [outputs, 1]);
      return {
        ...finish,
        bindings: [SCRATCH],
        outputs: [root.output],
        partials: { wgsl: partial.wgsl, workgroups: partial.workgroups, bindings, elements: outputs * parts },
      };
    }
  }
  if (group.kernels.length === 1) return { ...renderKernel(root, types(root.inputs)), bindings: root.inputs, outputs: [root.output] };
  for (const t of [root, ...types(group.inputs), ...types(group.outputs)]) checkType(t, root.id);
  const { body, used } = fusedBody(graph, group.kernels, group.inputs, group.outputs);
  const ops = group.kernels.map((k) => graph.kernels[k]!.ops[0]!.op).join(", ");
  const out: TensorType = { shape: root.shape, dtype: root.dtype };
  const count = sizeOf(out.shape);
  const wgsl = flatShader(`fused ${ops} → ${out.dtype}[${out.shape.join(", ")}]`, types(group.inputs), out, used, count === 0 ? "" : body, types(group.outputs.slice(1)));
  return { wgsl, workgroups: dispatchFor(count), bindings: group.inputs, outputs: group.outputs };
}

/**
 * A group with a matmul: the matmul reading its operands as strided views,
 * then, where the root is elementwise, the rest of the group as its epilogue
 * on each result in registers. Null for a lone plain matmul (`renderKernel`
 * renders it).
 */
function renderMatmulGroup(graph: KernelGraph, group: FusedGroup, matmul: Kernel, split: boolean): RenderedGroup | null {
  const root = graph.kernels[group.root]!;
  const members = new Set(group.kernels);
  const views = matmul.inputs.map((v) => viewOfValue(graph, v, members));
  const types = (values: readonly number[]): TensorType[] => values.map((v) => graph.values[v]!);
  const epilogue = matmul !== root;
  // An operand that is no strided view (a convolution's windows) is evaluated where the tiles load it, from the group's inputs.
  const evaluated = views.some((w) => w === false);
  const direct = !epilogue && !evaluated;
  const bindings = direct ? views.map((w) => (w as View).value) : group.inputs;
  const used = new Set<Helper>();
  const operand = (j: number): MatmulOperand => {
    const shape = graph.values[matmul.inputs[j]!]!.shape;
    const w = views[j]!;
    if (w !== false) return { binding: direct ? j : bindings.indexOf(w.value), shape, base: w.base, strides: w.strides, elements: sizeOf(graph.values[w.value]!.shape) };
    const load = (flat: string): { lines: readonly string[]; value: string } => {
      const ev = evaluator(graph, group.kernels, group.inputs, new Map(), "i", new Map(), `w${j}`);
      const value = ev.at(matmul.inputs[j]!, flat);
      for (const h of ev.used) used.add(h);
      return { lines: ev.lines, value };
    };
    return { binding: -1, shape, base: 0, strides: stridesOf(shape), elements: 0, load };
  };
  const [a, b] = [operand(0), operand(1)];
  const parts = split && !evaluated && matmul.dtype === "f32" && sizeOf(root.shape) > 0 ? splitK(a!.shape, b!.shape) : null;
  if (parts !== null) {
    const rendered = renderSplitGroup(graph, group, matmul, [a!, b!].map((x, j) => ({ ...x, binding: j })) as [MatmulOperand, MatmulOperand], views.map((w) => (w as View).value), parts);
    if (rendered !== null) return rendered;
  }
  let code = "out[i] = mm;";
  if (epilogue) {
    const fused = fusedBody(graph, group.kernels, group.inputs, group.outputs, new Map([[matmul.output, "mm"]]));
    code = fused.body;
    for (const h of fused.used) used.add(h);
  }
  // An operand's binding is read four at a time only where nothing else (the epilogue, the other operand) reads it as scalars.
  const shared = (x: MatmulOperand, y: MatmulOperand): boolean => x.binding === y.binding || new RegExp(`\\bin${x.binding}\\[`).test(code);
  const f32 = matmul.dtype === "f32";
  const r = renderMatmul(a!, b!, matmul.shape, code, null, [f32 && !evaluated && !shared(a!, b!), f32 && !evaluated && !shared(b!, a!)]);
  if (r.body.includes("f32_bits(")) used.add("f32_bits");
  if (!r.tiled && group.kernels.length === 1) return null;
  for (const t of [root, ...types(bindings), ...types(group.outputs)]) checkType(t, root.id);
  const out: TensorType = { shape: root.shape, dtype: root.dtype };
  const ops = group.kernels.map((k) => graph.kernels[k]!.ops[0]!.op).join(", ");
  const comment = `${epilogue ? `fused ${ops}` : "matmul"}${r.tiled ? " (tiled)" : ""} → ${root.dtype}[${root.shape.join(", ")}]`;
  const extra = types(group.outputs.slice(1));
  // An empty result computes nothing (and its sizes would divide by zero).
  const body = sizeOf(root.shape) === 0 ? "" : r.body;
  if (!r.tiled) return { wgsl: flatShader(comment, types(bindings), out, used, body, extra), workgroups: dispatchFor(sizeOf(root.shape)), bindings, outputs: group.outputs };
  const lines = [`// ${comment}`];
  const vec = new Set(r.vec4.flatMap((on, j) => (on ? [[a!, b!][j]!.binding] : [])));
  bindings.forEach((v, j) => lines.push(`@group(0) @binding(${j}) var<storage, read> in${j}: array<${vec.has(j) ? "vec4<f32>" : graph.values[v]!.dtype}>;`));
  [out, ...extra].forEach((t, j) => lines.push(`@group(0) @binding(${bindings.length + j}) var<storage, read_write> out${j === 0 ? "" : j}: array<${t.dtype}>;`));
  lines.push("");
  const helpers = helperSource(used);
  if (helpers !== "") lines.push(helpers);
  lines.push(r.header, indent(r.body), "}", "");
  return { wgsl: lines.join("\n"), workgroups: r.workgroups, bindings, outputs: group.outputs };
}

/**
 * A split-K matmul group (`splitK`): a tiled dispatch of the partial
 * products into scratch, then one invocation per output element summing its
 * partials in order of k (so the result does not depend on timing) and
 * running the rest of the group on the sum. Null when the summing shader
 * would bind more buffers than a group may.
 */
function renderSplitGroup(graph: KernelGraph, group: FusedGroup, matmul: Kernel, operands: [MatmulOperand, MatmulOperand], values: readonly number[], split: SplitK): RenderedGroup | null {
  const root = graph.kernels[group.root]!;
  const types = (vs: readonly number[]): TensorType[] => vs.map((v) => graph.values[v]!);
  const count = sizeOf(matmul.shape);
  const partial = renderMatmul(operands[0], operands[1], matmul.shape, "out[i] = mm;", split, [true, true]);
  for (const t of [root, matmul, ...types(values), ...types(group.outputs)]) checkType(t, root.id);
  const scratch: TensorType = { shape: [split.parts, ...matmul.shape], dtype: "f32" };
  const lines = [`// matmul (split-K partials) → f32[${scratch.shape.join(", ")}]`];
  values.forEach((v, j) => lines.push(`@group(0) @binding(${j}) var<storage, read> in${j}: array<${partial.vec4[j] ? "vec4<f32>" : graph.values[v]!.dtype}>;`));
  lines.push(`@group(0) @binding(${values.length}) var<storage, read_write> out: array<f32>;`, "", partial.header, indent(partial.body), "}", "");
  // The epilogue reads only some of the group's inputs (not those the matmul alone reads): the others are left unbound.
  const preset = new Map([[matmul.output, "mm"]]);
  let inputs: readonly number[] = [];
  let code = "out[i] = mm;";
  let used = new Set<Helper>();
  if (matmul !== root) {
    const probe = fusedBody(graph, group.kernels, group.inputs, group.outputs, preset).body;
    const read = new Set([...probe.matchAll(/\bin(\d+)\[/g)].map((x) => Number(x[1])));
    inputs = group.inputs.filter((_, j) => read.has(j));
    ({ body: code, used } = fusedBody(graph, group.kernels, [SCRATCH, ...inputs], group.outputs, preset));
  }
  if (1 + inputs.length + group.outputs.length > MAX_BINDINGS) return null;
  const body = [`var mm = 0.0f;`, `for (var s = 0u; s < ${u32Lit(split.parts)}; s++) {`, `  mm = mm + in0[s * ${u32Lit(count)} + i];`, "}", code].join("\n");
  const ops = group.kernels.map((k) => graph.kernels[k]!.ops[0]!.op).join(", ");
  const out: TensorType = { shape: root.shape, dtype: root.dtype };
  const wgsl = flatShader(`split-K sum of ${split.parts}${matmul === root ? "" : `, fused ${ops}`} → ${root.dtype}[${root.shape.join(", ")}]`, [scratch, ...types(inputs)], out, used, body, types(group.outputs.slice(1)));
  return {
    wgsl,
    workgroups: dispatchFor(count),
    bindings: [SCRATCH, ...inputs],
    outputs: group.outputs,
    partials: { wgsl: lines.join("\n"), workgroups: partial.workgroups, bindings: values, elements: split.parts * count },
  };
}

/** One dispatch the executor runs: its shader and workgroups, the values it binds to read and those it writes (ids from the graph's count on are scratch buffers, `scratch`). */
export interface Dispatch extends RenderedKernel {
  /** The kernel in whose place it runs, and those it computes (a split-K group's partials: its matmul). */
  readonly kernel: number;
  readonly kernels: readonly number[];
  readonly bindings: readonly number[];
  readonly outputs: readonly number[];
}

/** Options of `planDispatches`: the shader groups', and rendering's. */
export type DispatchOptions = Omit<ShaderGroupOptions, "partition"> &
  RenderOptions & {
    /** The most storage bindings one dispatch may have (the device's limit; by default WebGPU's guaranteed 8): a flash attention backward pass needs more than a plain kernel. */
    readonly maxBindings?: number;
  };

/**
 * Every dispatch the executor runs on a (fused) kernel graph, in execution
 * order: one per shader group of its fused kernels (`shader-groups.ts`), two
 * for a split-K group; the graph they index, with each fused kernel spread
 * out into kernels of one op (`primitive-graph.ts`; the given graph's values
 * keep their ids); and the element count of each scratch buffer by its id.
 * Split-K is on where fusion is, by default.
 */
export function planDispatches(fused: KernelGraph, options: DispatchOptions = {}): { dispatches: Dispatch[]; scratch: Map<number, number>; graph: KernelGraph } {
  const renderOptions = { splitK: options.splitK ?? options.fuse !== false };
  const dispatches: Dispatch[] = [];
  const scratch = new Map<number, number>();
  const { graph, partition } = primitiveGraph(fused);
  const attention = options.fuse === false ? new Map<number, RenderedAttention>() : attentionKernels(fused, graph, partition);
  // Flash backward passes: their dispatches run in place of the last kernel they replace; the others' groups are skipped.
  const backward = new Map<number, FlashBackward>();
  const replacedBy = new Map<number, FlashBackward>();
  for (const [id, whole] of attention) {
    const b = flashBackward(fused, graph, partition, id, options.maxBindings ?? MAX_BINDINGS);
    if (b === null) continue;
    const members = graph.kernels.filter((k) => partition[k.id] === id).map((k) => k.id);
    const forward = renderAttention(graph, members, whole.bindings, b.forwardOutputs);
    if (forward === null) continue;
    attention.set(id, forward);
    backward.set(b.replaced[b.replaced.length - 1]!, b);
    for (const r of b.replaced) replacedBy.set(r, b);
  }
  const pools = options.fuse === false ? new Map<number, RenderedConvPool & { kernels: readonly number[] }>() : convPools(fused, graph, partition);
  for (const g of planShaderGroups(graph, { ...options, partition })) {
    const flash = replacedBy.get(partition[g.root]!);
    if (flash !== undefined) {
      // At the last replaced kernel's first group: the backward's dispatches (the statistics in a scratch buffer).
      if (backward.get(partition[g.root]!) !== flash || dispatches.some((d) => d.kernels.includes(g.root))) continue;
      const id = graph.values.length + scratch.size;
      scratch.set(id, flash.scratchElements);
      const members = graph.kernels.filter((k) => flash.replaced.includes(partition[k.id]!)).map((k) => k.id);
      const at = (v: number): number => (v === SCRATCH_ROWS ? id : v);
      for (const d of flash.dispatches) dispatches.push({ kernel: members[members.length - 1]!, kernels: members, wgsl: d.wgsl, workgroups: d.workgroups, bindings: d.bindings.map(at), outputs: d.outputs.map(at) });
      continue;
    }
    // A convolution with its epilogue and pool runs as one dispatch in place of the three kernels' groups (at the first).
    const pooled = pools.get(partition[g.root]!);
    if (pooled !== undefined) {
      const members = graph.kernels.filter((k) => pooled.kernels.includes(partition[k.id]!)).map((k) => k.id);
      if (dispatches.some((d) => d.kernels.some((k) => members.includes(k)))) continue;
      dispatches.push({ kernel: members[members.length - 1]!, kernels: members, wgsl: pooled.wgsl, workgroups: pooled.workgroups, bindings: pooled.bindings, outputs: pooled.outputs });
      continue;
    }
    // An attention kernel rendered whole runs as one dispatch in place of its parts' (consecutive) groups.
    const whole = attention.get(partition[g.root]!);
    if (whole !== undefined) {
      if (dispatches.some((d) => partition[d.kernel] === partition[g.root])) continue;
      const members = graph.kernels.filter((k) => partition[k.id] === partition[g.root]).map((k) => k.id);
      dispatches.push({ kernel: members[members.length - 1]!, kernels: members, wgsl: whole.wgsl, workgroups: whole.workgroups, bindings: whole.bindings, outputs: whole.outputs });
      continue;
    }
    const r = renderGroup(graph, g, renderOptions);
    if (r.partials === undefined) {
      dispatches.push({ kernel: g.root, kernels: g.kernels, wgsl: r.wgsl, workgroups: r.workgroups, bindings: r.bindings, outputs: r.outputs });
      continue;
    }
    const id = graph.values.length + scratch.size;
    scratch.set(id, r.partials.elements);
    // A split-K matmul's partials compute its matmul and the second pass the rest; a split reduction's partials compute the group and the second pass its root.
    const matmul = g.kernels.find((k) => graph.kernels[k]!.ops[0]!.op === "matmul");
    dispatches.push({ kernel: g.root, kernels: matmul !== undefined ? [matmul] : g.kernels, wgsl: r.partials.wgsl, workgroups: r.partials.workgroups, bindings: r.partials.bindings, outputs: [id] });
    dispatches.push({ kernel: g.root, kernels: matmul !== undefined ? g.kernels : [g.root], wgsl: r.wgsl, workgroups: r.workgroups, bindings: r.bindings.map((v) => (v === SCRATCH ? id : v)), outputs: r.outputs });
  }
  return { dispatches, scratch, graph };
}

/**
 * The `attention` kernels of a fused graph that `renderAttention` renders
 * whole, by kernel id, over the graph spread out one op per kernel (`graph`,
 * `partition`); the rest run as their parts' shader groups.
 */
function attentionKernels(fused: KernelGraph, graph: KernelGraph, partition: readonly number[]): Map<number, RenderedAttention> {
  const rendered = new Map<number, RenderedAttention>();
  for (const f of fused.kernels) {
    if (f.kind !== "attention") continue;
    const members = graph.kernels.filter((k) => partition[k.id] === f.id).map((k) => k.id);
    const outputs = [f.output, ...(f.extraOutputs ?? []).map((e) => e.value)];
    const r = renderAttention(graph, members, distinctInputs(graph, members), outputs);
    if (r !== null) rendered.set(f.id, r);
  }
  return rendered;
}

/**
 * The convolutions followed by a pool that `renderConvPool` renders as one
 * dispatch: a `conv` kernel, the `map` of its epilogue (if any) and a
 * `reduce` pooling it, consecutive in the fused graph; by each of the
 * three's kernel id. Values of the first two read by other kernels (or
 * outputs of the graph) are written too.
 */
function convPools(fused: KernelGraph, graph: KernelGraph, partition: readonly number[]): Map<number, RenderedConvPool & { kernels: readonly number[] }> {
  const found = new Map<number, RenderedConvPool & { kernels: readonly number[] }>();
  for (const c of fused.kernels) {
    for (const { kernels: chain, readOutside } of poolChainsEndingAt(fused, c, (k) => k.kind === "conv")) {
      const ids = new Set(chain);
      // The pool's result is the dispatch's first output; the rest that is read elsewhere is written too.
      const extras = chain.flatMap((id) => (id === c.id ? kernelOutputs(c).slice(1) : kernelOutputs(fused.kernels[id]!))).filter((v) => readOutside.has(v));
      const members = graph.kernels.filter((k) => ids.has(partition[k.id]!)).map((k) => k.id);
      const r = renderConvPool(graph, members, distinctInputs(graph, members), [c.output, ...extras], MAX_BINDINGS);
      if (r === null) continue;
      for (const id of chain) found.set(id, { ...r, kernels: chain });
      break;
    }
  }
  return found;
}

/** The values kernels `members` of `graph` read and none of them writes, distinct, in first-read order. */
function distinctInputs(graph: KernelGraph, members: readonly number[]): number[] {
  const inside = new Set(members.map((k) => graph.kernels[k]!.output));
  const inputs: number[] = [];
  for (const k of members) for (const v of graph.kernels[k]!.inputs) if (!inside.has(v) && !inputs.includes(v)) inputs.push(v);
  return inputs;
}

/**
 * WGSL for every dispatch the executor runs on a graph, in execution order
 * (`planDispatches`): `kernel` is the graph's kernel it runs for, `kernels`
 * every kernel of the graph it computes a part of.
 * Throws for an op the renderer does not support.
 */
export function kernelWgsl(graph: KernelGraph, options: DispatchOptions = {}): { kernel: number; kernels: readonly number[]; wgsl: string }[] {
  // Dispatches name the graph's own (fused) kernels: the spread-out kernels they compute, mapped back.
  const { partition } = primitiveGraph(graph);
  return planDispatches(graph, options).dispatches.map((d) => ({ kernel: partition[d.kernel]!, kernels: [...new Set(d.kernels.map((k) => partition[k]!))], wgsl: d.wgsl }));
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
