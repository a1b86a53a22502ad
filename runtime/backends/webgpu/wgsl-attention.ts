/**
 * The renderer of an `attention` kernel (`runtime/kernel/fuse-attention.ts`):
 * O = P′·V with P′ from softmax rows of S = Q·Kᵀ, as one dispatch in which
 * each workgroup takes `ROWS` query rows of one batch element and walks the
 * keys in blocks staged in workgroup memory, never storing S (flash
 * attention). Each invocation keeps its row of Q, its running maximum m and
 * sum l, and its row of O in registers:
 *
 * 1. over the keys, sᵢⱼ = qᵢ·kⱼ, the kernel's own elementwise chain to the
 *    softmax's logit xᵢⱼ (a scale, a mask), and the online softmax
 *    statistics: m′ = max(m, x), l = l·e^(m − m′) + e^(x − m′);
 * 2. over the keys again, sᵢⱼ and the kernel's chain from the logit to P′ᵢⱼ
 *    (e^(x − m) / l and whatever follows, dropout say) with m and l in place
 *    of the max and sum, accumulated into oᵢ += P′ᵢⱼ · vⱼ in increasing j,
 *    as the matmul sums; values of the score space the kernel writes (a
 *    backward pass's P′) are written here, those of the rows at the end.
 *
 * m is the exact maximum, so P′ is what the unfused kernels compute but for
 * l's rounding (summed online); this holds only for a softmax written as
 * sum(exp(x − expand(max x))), which `renderAttention` checks, returning
 * null (the caller renders the kernel's parts on their own) for anything else:
 * other shapes of softmax, operands that are no strided views, heads wider
 * than `MAX_HEAD`.
 */
import { broadcastShapes, sizeOf, sameShape } from "../../ir/shape.js";
import type { Kernel, KernelGraph } from "../../kernel/graph.js";
import { attentionRoles } from "../../kernel/fuse-attention.js";
import { viewOfValue, type View } from "./shader-groups.js";
import { evaluator } from "./wgsl-fused.js";
import { f32Lit, helperSource, storageBindings, u32Lit, type Helper } from "./wgsl-lib.js";
import { batchCoords, batchStrides, batchSum, type MatmulOperand } from "./wgsl-matmul.js";

/** Query rows per workgroup (one invocation each). */
const ROWS = 64;
/** The widest head (Q's and V's last axis) kept in registers. */
const MAX_HEAD = 128;
/** Workgroup memory every WebGPU device gives. */
const WORKGROUP_BYTES = 16384;
/** The most workgroups along one dispatch dimension. */
const MAX_GROUPS = 65535;

/** A rendered attention kernel: its shader and dispatch, the values bound to `in0`, `in1`, … and those written (`out`, `out1`, …). */
export interface RenderedAttention {
  readonly wgsl: string;
  readonly workgroups: [number, number, number];
  readonly bindings: readonly number[];
  readonly outputs: readonly number[];
}

/**
 * The attention kernel made of `members` (ids of one-op kernels of `graph`,
 * increasing, the product P′·V last), reading `inputs` and writing
 * `outputs` (its result first), or null where this renderer does not take it.
 */
export function renderAttention(graph: KernelGraph, members: readonly number[], inputs: readonly number[], outputs: readonly number[]): RenderedAttention | null {
  const kernels = members.map((k) => graph.kernels[k]!);
  const roles = attentionRoles(kernels, graph);
  if (roles === null || outputs[0] !== roles.output.output) return null;
  const inside = new Set(members);
  const def = (v: number): Kernel | undefined => (inside.has(graph.values[v]!.def) ? graph.kernels[graph.values[v]!.def] : undefined);
  // The softmax's sum must be of exp(x − expand(max x)) for the online statistics to be its own.
  const x = roles.max.inputs[0]!;
  const e = def(roles.sum.inputs[0]!);
  const diff = e?.ops[0]!.op === "exp" ? def(e.inputs[0]!) : undefined;
  if (diff?.ops[0]!.op !== "sub" || diff.inputs[0] !== x) return null;
  const opOf = (k: Kernel | undefined): string | undefined => k?.ops[0]!.op;
  const expand = def(diff.inputs[1]!);
  if (opOf(expand) !== "expand") return null;
  let m = def(expand!.inputs[0]!);
  while (opOf(m) === "detach" || opOf(m) === "reshape") m = def(m!.inputs[0]!);
  if (m !== roles.max) return null;

  const views = [roles.scores.inputs[0]!, roles.scores.inputs[1]!, roles.output.inputs[1]!].map((v) => viewOfValue(graph, v, inside));
  if (!views.every((w): w is View => w !== false)) return null;
  const shape = (v: number): readonly number[] => graph.values[v]!.shape;
  const operand = (v: number, w: View): MatmulOperand => ({ binding: inputs.indexOf(w.value), shape: shape(v), base: w.base, strides: w.strides, elements: sizeOf(shape(w.value)) });
  const q = operand(roles.scores.inputs[0]!, views[0]!);
  const k = operand(roles.scores.inputs[1]!, views[1]!);
  const v = operand(roles.output.inputs[1]!, views[2]!);
  if ([q, k, v].some((o) => o.binding < 0)) return null;
  const s = shape(roles.scores.output);
  const [rows, keys] = s.slice(-2) as [number, number];
  const dk = q.shape[q.shape.length - 1]!;
  const dv = v.shape[v.shape.length - 1]!;
  const batch = s.slice(0, -2);
  const batches = sizeOf(batch);
  const vBatch = broadcastShapes(v.shape.slice(0, -2), batch);
  if (vBatch === null || !sameShape(vBatch, batch) || dk > MAX_HEAD || dv > MAX_HEAD || dk === 0 || dv === 0 || batches > MAX_GROUPS || batches === 0 || rows === 0) return null;
  if (graph.kernels[members[members.length - 1]!] !== roles.output) return null;
  for (const t of [...inputs, ...outputs].map((u) => graph.values[u]!)) if (t.dtype !== "f32" && t.dtype !== "i32") return null;
  const rowShape = shape(roles.max.output);
  const full = outputs.slice(1).filter((u) => sameShape(shape(u), s));
  const perRow = outputs.slice(1).filter((u) => !sameShape(shape(u), s));
  if (!perRow.every((u) => sameShape(shape(u), rowShape))) return null;

  // Keys per staged block: K's and V's rows of the block in workgroup memory.
  const block = Math.max(1, Math.min(ROWS, Math.floor(WORKGROUP_BYTES / 4 / (dk + dv))));
  const [sqr, sqd] = q.strides.slice(-2) as [number, number];
  const [skd, skj] = k.strides.slice(-2) as [number, number];
  const [svj, svd] = v.strides.slice(-2) as [number, number];
  const negInf = f32Lit(-Infinity);
  const used = new Set<Helper>();
  const outName = (u: number): string => {
    const j = outputs.indexOf(u);
    return j === 0 ? "out" : `out${j}`;
  };

  let pass1: ReturnType<typeof evaluator>;
  let pass2: ReturnType<typeof evaluator>;
  let fin: ReturnType<typeof evaluator>;
  let xName: string;
  let pName: string;
  const writesFull: string[] = [];
  const writesRow: string[] = [];
  try {
    pass1 = evaluator(graph, members, inputs, new Map([[roles.scores.output, "s"]]), "idx");
    xName = pass1.at(x, "idx");
    const stats = new Map([
      [roles.max.output, "m"],
      [roles.sum.output, "l"],
    ]);
    pass2 = evaluator(graph, members, inputs, new Map([[roles.scores.output, "s"]]), "idx", stats);
    pName = pass2.at(roles.output.inputs[0]!, "idx");
    for (const u of full) writesFull.push(`${outName(u)}[idx] = ${pass2.at(u, "idx")};`);
    fin = evaluator(graph, members, inputs, new Map(), "ridx", stats);
    for (const u of perRow) writesRow.push(`${outName(u)}[ridx] = ${fin.at(u, "ridx")};`);
  } catch {
    // A chain this renderer cannot evaluate in registers (it reads S at another index, say).
    return null;
  }
  for (const ev of [pass1, pass2, fin]) for (const h of ev.used) used.add(h);

  const loadK = [
    `  for (var e = lid.x; e < ${u32Lit(block * dk)}; e += ${u32Lit(ROWS)}) {`,
    `    let key = kb + e / ${u32Lit(dk)};`,
    "    var w = 0.0f;",
    `    if (key < ${u32Lit(keys)}) { w = in${k.binding}[kbase + (e % ${u32Lit(dk)}) * ${u32Lit(skd)} + key * ${u32Lit(skj)}]; }`,
    "    Ks[e] = w;",
    "  }",
  ];
  const loadV = [
    `  for (var e = lid.x; e < ${u32Lit(block * dv)}; e += ${u32Lit(ROWS)}) {`,
    `    let key = kb + e / ${u32Lit(dv)};`,
    "    var w = 0.0f;",
    `    if (key < ${u32Lit(keys)}) { w = in${v.binding}[vbase + key * ${u32Lit(svj)} + (e % ${u32Lit(dv)}) * ${u32Lit(svd)}]; }`,
    "    Vs[e] = w;",
    "  }",
  ];
  const score = [
    "      let key = kb + kj;",
    "      var s = 0.0f;",
    `      for (var d = 0u; d < ${u32Lit(dk)}; d++) { s = s + q[d] * Ks[kj * ${u32Lit(dk)} + d]; }`,
    `      let idx = (z * ${u32Lit(rows)} + row) * ${u32Lit(keys)} + key;`,
  ];
  const keyLoop = `    for (var kj = 0u; kj < min(${u32Lit(block)}, ${u32Lit(keys)} - kb); kj++) {`;
  const ind = (lines: readonly string[], n: number): string[] => lines.map((l) => " ".repeat(n) + l);
  const lines: string[] = [
    "let z = wg.y;",
    ...batchCoords(batch, "z"),
    `let qbase = ${batchSum(q.base, batchStrides(q, batch))};`,
    `let kbase = ${batchSum(k.base, batchStrides(k, batch))};`,
    `let vbase = ${batchSum(v.base, batchStrides(v, batch))};`,
    `let row = wg.x * ${u32Lit(ROWS)} + lid.x;`,
    `let live = row < ${u32Lit(rows)};`,
    `var q: array<f32, ${dk}>;`,
    `if (live) { for (var d = 0u; d < ${u32Lit(dk)}; d++) { q[d] = in${q.binding}[qbase + row * ${u32Lit(sqr)} + d * ${u32Lit(sqd)}]; } }`,
    `var m = ${negInf};`,
    "var l = 0.0f;",
    `for (var kb = 0u; kb < ${u32Lit(keys)}; kb += ${u32Lit(block)}) {`,
    ...loadK,
    "  workgroupBarrier();",
    "  if (live) {",
    keyLoop,
    ...score,
    ...ind(pass1.lines, 6),
    `      let mx = max(m, ${xName});`,
    // Before the first finite logit, m is −∞ and l is 0: nothing to rescale.
    `      l = select(l * exp(m - mx), 0.0f, m == ${negInf}) + exp(${xName} - mx);`,
    "      m = mx;",
    "    }",
    "  }",
    "  workgroupBarrier();",
    "}",
    `var acc: array<f32, ${dv}>;`,
    `for (var kb = 0u; kb < ${u32Lit(keys)}; kb += ${u32Lit(block)}) {`,
    ...loadK,
    ...loadV,
    "  workgroupBarrier();",
    "  if (live) {",
    keyLoop,
    ...score,
    ...ind(pass2.lines, 6),
    ...ind(writesFull, 6),
    `      for (var d = 0u; d < ${u32Lit(dv)}; d++) { acc[d] = acc[d] + ${pName} * Vs[kj * ${u32Lit(dv)} + d]; }`,
    "    }",
    "  }",
    "  workgroupBarrier();",
    "}",
    "if (live) {",
    `  let obase = (z * ${u32Lit(rows)} + row) * ${u32Lit(dv)};`,
    `  for (var d = 0u; d < ${u32Lit(dv)}; d++) { out[obase + d] = acc[d]; }`,
    `  let ridx = z * ${u32Lit(rows)} + row;`,
    ...ind(fin.lines, 2),
    ...ind(writesRow, 2),
    "}",
  ];
  if ([...lines, ...loadK].join("\n").includes("f32_bits(")) used.add("f32_bits");
  const out = graph.values[outputs[0]!]!;
  const header = [`// attention (flash: ${ROWS} query rows per workgroup, keys in blocks of ${block}) → ${out.dtype}[${out.shape.join(", ")}]`];
  header.push(...storageBindings(inputs.map((u) => graph.values[u]!.dtype), outputs.map((u) => graph.values[u]!.dtype)));
  header.push("");
  const helpers = helperSource(used);
  if (helpers !== "") header.push(helpers);
  header.push(
    `var<workgroup> Ks: array<f32, ${block * dk}>;`,
    `var<workgroup> Vs: array<f32, ${block * dv}>;`,
    "",
    `@compute @workgroup_size(${ROWS})`,
    "fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {",
    ...ind(lines, 2),
    "}",
    "",
  );
  return { wgsl: header.join("\n"), workgroups: [Math.ceil(rows / ROWS), batches, 1], bindings: inputs, outputs };
}

