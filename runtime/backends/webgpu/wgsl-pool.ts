/**
 * Pooling in a convolution's epilogue: the planner's `conv` kernel (an
 * implicit GEMM), the `map` kernel of its epilogue (bias, activation; it
 * reads the product through the permute that makes it [B, F, H, W]) and the
 * `reduce` kernel of a max or average pool over s×s windows at stride s,
 * which the planner leaves as three kernels, run as one dispatch: the
 * product's rows are taken in groups of s² (`RowGroups`, `wgsl-matmul.ts`),
 * one group per pooled pixel, so that an invocation holds a whole window of
 * results for each of its columns (filters) in registers, runs the epilogue
 * on each, and folds them as the pool does (in window order), then writes the
 * pooled value. Neither the convolution's output nor the activation goes
 * through memory, unless something else reads them (a backward pass: they are
 * then written too, which needs windows that tile the image).
 *
 * `renderConvPool` checks the shape it takes (the epilogue reads the product
 * only at its own pixel and filter, through views; the pool's windows are
 * the s² strided slices of the epilogue's result, in the order `pool`
 * lowers them) and returns null for anything else: the kernels then run as
 * they are planned.
 */
import type { OpAttrs } from "../../ir/ops.js";
import { sameShape, sizeOf, stridesOf } from "../../ir/shape.js";
import { isPointwise } from "../../kernel/fuse.js";
import type { Kernel, KernelGraph } from "../../kernel/graph.js";
import { viewOfValue, type View } from "./shader-groups.js";
import { evaluator } from "./wgsl-fused.js";
import { helperSource, storageBindings, u32Lit, type Helper } from "./wgsl-lib.js";
import { renderMatmul, type MatmulOperand } from "./wgsl-matmul.js";
import { reductionFold } from "./wgsl-ops.js";

/** A rendered convolution with its pool: shader, dispatch, the values bound to `in0`, `in1`, … and those written. */
export interface RenderedConvPool {
  readonly wgsl: string;
  readonly workgroups: [number, number, number];
  readonly bindings: readonly number[];
  readonly outputs: readonly number[];
}

/**
 * The strides of a view of shape `to` onto a strided view (`shape`,
 * `strides`) of the same elements in the same order, where no copy is needed
 * (axes merged only where their strides chain, split freely), else null.
 */
export function reshapeStrides(shape: readonly number[], strides: readonly number[], to: readonly number[]): number[] | null {
  if (sizeOf(shape) !== sizeOf(to)) return null;
  const from = shape.flatMap((d, a) => (d === 1 ? [] : [[d, strides[a]!] as const]));
  const out: number[] = [];
  let i = 0;
  for (const d of to) {
    if (d === 1) {
      out.push(0);
      continue;
    }
    // Merge source axes until their product is a multiple of d, then split d off the innermost.
    if (i >= from.length) return null;
    let [size, stride] = from[i]!;
    while (size % d !== 0) {
      const next = from[i + 1];
      if (next === undefined || stride !== next[0] * next[1]) return null;
      i++;
      size *= next[0];
      stride = next[1];
    }
    const rest = size / d;
    out.push(stride * rest);
    if (rest === 1) i++;
    else from[i] = [rest, stride] as const;
  }
  return i >= from.length ? out : null;
}

/** The view of `v` onto `base` through reshapes and permutes among `members` (null where there is none, or no strided one). */
function viewOnto(graph: KernelGraph, v: number, base: number, members: ReadonlySet<number>): { strides: number[] } | null {
  if (v === base) return { strides: stridesOf(graph.values[v]!.shape) };
  const def = graph.values[v]!.def;
  if (def < 0 || !members.has(def)) return null;
  const k = graph.kernels[def]!;
  const op = k.ops[0]!;
  if (op.op !== "reshape" && op.op !== "permute") return null;
  const inner = viewOnto(graph, k.inputs[0]!, base, members);
  if (inner === null) return null;
  if (op.op === "permute") return { strides: (op.attrs as OpAttrs["permute"]).perm.map((p) => inner.strides[p]!) };
  const strides = reshapeStrides(graph.values[k.inputs[0]!]!.shape, inner.strides, k.shape);
  return strides === null ? null : { strides };
}

/**
 * One dispatch for the kernels `members` (ids of one-op kernels of `graph`,
 * increasing: a convolution's product, its epilogue, a pool), reading
 * `inputs` and writing `outputs` (the pool's result first; then values read
 * elsewhere: the product, epilogue values of the convolution's shape, or
 * values of the pool's, its maximum say), or null where this renderer does
 * not take them.
 */
export function renderConvPool(graph: KernelGraph, members: readonly number[], inputs: readonly number[], outputs: readonly number[], maxBindings: number): RenderedConvPool | null {
  if (inputs.length + outputs.length > maxBindings) return null;
  const inside = new Set(members);
  const kernels = members.map((k) => graph.kernels[k]!);
  const op = (k: Kernel): string => k.ops[0]!.op;
  const matmuls = kernels.filter((k) => op(k) === "matmul");
  const reductions = kernels.filter((k) => op(k) === "max" || op(k) === "sum");
  if (matmuls.length !== 1 || reductions.length !== 1) return null;
  const mm = matmuls[0]!;
  const red = reductions[0]!;
  const root = kernels[kernels.length - 1]!;
  if (outputs[0] !== root.output || mm.dtype !== "f32") return null;
  for (const u of [...inputs, ...outputs]) if (graph.values[u]!.dtype !== "f32" && graph.values[u]!.dtype !== "i32") return null;
  const shape = (v: number): readonly number[] => graph.values[v]!.shape;
  const def = (v: number): Kernel | undefined => (inside.has(graph.values[v]!.def) ? graph.kernels[graph.values[v]!.def] : undefined);

  // The pool: max or sum over axis 2 of a concat (axis 2) of s² reshaped slices [B, F, Ho, Wo] of one value Y [B, F, H, W].
  const stack = def(red.inputs[0]!);
  const xs = shape(red.inputs[0]!);
  if (stack === undefined || op(stack) !== "concat" || (stack.ops[0]!.attrs as OpAttrs["concat"]).axis !== 2 || xs.length !== 5) return null;
  if ((red.ops[0]!.attrs as OpAttrs["sum"]).axes.join() !== "2") return null;
  const s = Math.round(Math.sqrt(stack.inputs.length));
  if (s * s !== stack.inputs.length || ![1, 2, 4, 8].includes(s * s)) return null;
  let y = -1;
  for (let n = 0; n < stack.inputs.length; n++) {
    const r = def(stack.inputs[n]!);
    const sl = r !== undefined && op(r) === "reshape" ? def(r.inputs[0]!) : undefined;
    if (sl === undefined || op(sl) !== "slice") return null;
    const { starts, steps } = sl.ops[0]!.attrs as OpAttrs["slice"];
    if (starts.join() !== [0, 0, Math.floor(n / s), n % s].join() || steps.join() !== [1, 1, s, s].join()) return null;
    if (y !== -1 && sl.inputs[0] !== y) return null;
    y = sl.inputs[0]!;
  }
  const ys = shape(y);
  if (ys.length !== 4) return null;
  const [batch, filters, h, w] = ys as [number, number, number, number];
  const ho = Math.floor((h - s) / s) + 1;
  const wo = Math.floor((w - s) / s) + 1;
  if (ho < 1 || wo < 1 || !sameShape(xs, [batch, filters, s * s, ho, wo])) return null;

  // The product [.., m, F]: pixel-major rows, filters as columns; Y's element (b, f, h, w) at flat b·HW·F + (h·W + w)·F + f.
  const [m, n] = mm.shape.slice(-2) as [number, number];
  const zs = sizeOf(mm.shape.slice(0, -2));
  if (n !== filters || zs * m !== batch * h * w || m % (h * w) !== 0) return null;
  const want = [h * w * filters, 1, w * filters, filters];
  /** Values computed from the product inside the group, and how each is read. */
  const fromProduct = new Set<number>([mm.output]);
  const pixelwise = new Set<number>();
  for (const k of kernels) if (k !== mm && k.inputs.some((u) => fromProduct.has(u))) fromProduct.add(k.output);
  // Each member reading the product's values: a view of it at Y's index, elementwise at Y's index, or the pool's.
  const poolPart = new Set<number>([red.output, stack.output, ...stack.inputs, ...stack.inputs.map((u) => def(u)!.inputs[0]!)]);
  const after = new Set<number>([red.output]);
  for (const k of kernels) {
    if (k === mm || !fromProduct.has(k.output)) continue;
    if (poolPart.has(k.output) && k.output !== red.output) {
      if (op(k) === "slice" && k.inputs[0] !== y) return null;
      continue;
    }
    if (k === red) continue;
    if (k.inputs.some((u) => after.has(u))) {
      // After the pool: reshapes and elementwise ops of the pooled value and constants, at its index.
      if (sizeOf(k.shape) !== batch * filters * ho * wo) return null;
      if (op(k) !== "reshape" && !(isElementwiseOp(k) && k.inputs.every((u) => after.has(u) || !fromProduct.has(u)))) return null;
      after.add(k.output);
      continue;
    }
    if (!sameShape(k.shape, ys) && !(op(k) === "reshape" || op(k) === "permute")) return null;
    if (op(k) === "reshape" || op(k) === "permute") {
      // A view of the product: only as a step to Y's layout, read at Y's index when it has Y's shape.
      if (sameShape(k.shape, ys)) {
        const v = viewOnto(graph, k.output, mm.output, inside);
        if (v === null || v.strides.some((st, a) => ys[a] !== 1 && st !== want[a])) return null;
        pixelwise.add(k.output);
      }
      continue;
    }
    if (!isElementwiseOp(k) || !k.inputs.every((u) => pixelwise.has(u) || !fromProduct.has(u))) return null;
    pixelwise.add(k.output);
  }
  if (!pixelwise.has(y) || !after.has(root.output)) return null;
  // Every reader of a view of the product that is not Y-shaped must be another view (no reads at other indices).
  for (const k of kernels) {
    for (const u of k.inputs) {
      if (!fromProduct.has(u) || pixelwise.has(u) || after.has(u) || poolPart.has(u) || u === mm.output) continue;
      if (op(k) !== "reshape" && op(k) !== "permute") return null;
    }
    if (k.inputs.includes(mm.output) && k !== mm && op(k) !== "reshape" && op(k) !== "permute") return null;
  }
  // Extra outputs: the product (at its own index) or values at Y's index; then the windows must cover Y.
  const extras = outputs.slice(1).filter((u) => !after.has(u));
  const pooledExtras = outputs.slice(1).filter((u) => after.has(u));
  if (extras.some((u) => u !== mm.output && !pixelwise.has(u))) return null;
  if (extras.length > 0 && (h % s !== 0 || w % s !== 0)) return null;

  // The product's operands, as `renderMatmulGroup` reads them: strided views, or evaluated (the windows).
  const used = new Set<Helper>();
  const operand = (j: number): MatmulOperand => {
    const v = mm.inputs[j]!;
    const view = viewOfValue(graph, v, inside);
    if (view !== false && inputs.includes((view as View).value)) return { binding: inputs.indexOf(view.value), shape: shape(v), base: view.base, strides: view.strides, elements: sizeOf(shape(view.value)) };
    const load = (flat: string): { lines: readonly string[]; value: string } => {
      const ev = evaluator(graph, members, inputs, new Map(), "i", new Map(), `w${j}`);
      const value = ev.at(v, flat);
      for (const hlp of ev.used) used.add(hlp);
      return { lines: ev.lines, value };
    };
    return { binding: -1, shape: shape(v), base: 0, strides: stridesOf(shape(v)), elements: 0, load };
  };
  const a = operand(0);
  const b = operand(1);
  if (a.binding < 0 && a.load === undefined) return null;

  const perImage = (m / (h * w)) * ho * wo;
  const fold = reductionFold(op(red) as "sum" | "max", red.dtype);
  if (op(red) === "max" && red.dtype === "f32") used.add("fmax");
  const outName = (u: number): string => (outputs.indexOf(u) === 0 ? "out" : `out${outputs.indexOf(u)}`);
  let failed = false;
  const epilogue = (win: string, col: string, acc: (e: number) => string): string[] => {
    const lines = [
      `let bl = ${win} / ${u32Lit(ho * wo)};`,
      `let ph = (${win} / ${u32Lit(wo)}) % ${u32Lit(ho)};`,
      `let pw = ${win} % ${u32Lit(wo)};`,
      `let img = z * ${u32Lit(m / (h * w))} + bl;`,
      `var pooled = ${fold.init};`,
    ];
    for (let e = 0; e < s * s; e++) {
      const [dy, dx] = [Math.floor(e / s), e % s];
      lines.push("{", `  let py = ph * ${u32Lit(s)} + ${u32Lit(dy)};`, `  let px = pw * ${u32Lit(s)} + ${u32Lit(dx)};`);
      lines.push(`  let ci = ((img * ${u32Lit(filters)} + ${col}) * ${u32Lit(h)} + py) * ${u32Lit(w)} + px;`);
      try {
        const ev = evaluator(graph, members, inputs, new Map(), "i", new Map([[mm.output, acc(e)]]), `e${e}`);
        const value = ev.at(y, "ci");
        const writes = extras.map((u) => (u === mm.output ? `${outName(u)}[(z * ${u32Lit(m)} + bl * ${u32Lit(h * w)} + py * ${u32Lit(w)} + px) * ${u32Lit(n)} + ${col}] = ${acc(e)};` : `${outName(u)}[ci] = ${ev.at(u, "ci")};`));
        for (const hlp of ev.used) used.add(hlp);
        lines.push(...ev.lines.map((l) => `  ${l}`), ...writes.map((l) => `  ${l}`), `  pooled = ${e === 0 ? value : fold.combine("pooled", value)};`, "}");
      } catch {
        failed = true;
      }
    }
    try {
      const ev = evaluator(graph, members, inputs, new Map(), "i", new Map([[red.output, "pooled"]]), "r");
      lines.push(`let pi = ((img * ${u32Lit(filters)} + ${col}) * ${u32Lit(ho)} + ph) * ${u32Lit(wo)} + pw;`);
      const value = ev.at(root.output, "pi");
      const writes = pooledExtras.map((u) => `${outName(u)}[pi] = ${ev.at(u, "pi")};`);
      for (const hlp of ev.used) used.add(hlp);
      lines.push(...ev.lines, `out[pi] = ${value};`, ...writes);
    } catch {
      failed = true;
    }
    return lines;
  };
  const groups = {
    windows: perImage,
    group: s * s,
    row: (win: string, e: string): string[] => [
      `let rb = ${win} / ${u32Lit(ho * wo)};`,
      `let rh = ((${win} / ${u32Lit(wo)}) % ${u32Lit(ho)}) * ${u32Lit(s)} + ${e} / ${u32Lit(s)};`,
      `let rw = (${win} % ${u32Lit(wo)}) * ${u32Lit(s)} + ${e} % ${u32Lit(s)};`,
      `let rr = rb * ${u32Lit(h * w)} + rh * ${u32Lit(w)} + rw;`,
    ],
    epilogue,
  };
  const r = renderMatmul(a, b, mm.shape, "", null, [false, false], groups);
  if (failed || !r.tiled) return null;
  if (r.body.includes("f32_bits(")) used.add("f32_bits");
  const out = graph.values[outputs[0]!]!;
  const lines = [`// convolution with ${op(red) === "max" ? "max" : "sum"} pool ${s}×${s} (tiled, rows grouped by window) → ${out.dtype}[${out.shape.join(", ")}]`];
  lines.push(...storageBindings(inputs.map((u) => graph.values[u]!.dtype), outputs.map((u) => graph.values[u]!.dtype)));
  lines.push("");
  const helpers = helperSource(used);
  if (helpers !== "") lines.push(helpers);
  lines.push(r.header, ...r.body.split("\n").map((l) => (l === "" ? l : `  ${l}`)), "}", "");
  return { wgsl: lines.join("\n"), workgroups: r.workgroups, bindings: inputs, outputs };
}

/** An elementwise op (its operands read at its own index). */
function isElementwiseOp(k: Kernel): boolean {
  return k.ops.length === 1 && isPointwise(k.ops[0]!.op);
}
