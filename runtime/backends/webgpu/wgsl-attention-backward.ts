/**
 * A flash-style attention backward pass: the kernels autodiff makes for the
 * gradients of O = P′·V with P′ from softmax rows of S = Q·Kᵀ (an
 * `attention` kernel of the plan, `wgsl-attention.ts`) run as two dispatches
 * that recompute the probabilities per tile from the row statistics instead
 * of reading the [.., T, T′] matrices (P′, exp, dP, dS) from memory:
 *
 * - the plan's kernels this replaces: dP = G·Vᵀ (a `matmul`: G is the
 *   incoming gradient), dS (a `reduce` over each row: the softmax's
 *   backward, reading dP, the forward's values of the score space and its
 *   rows, and any mask), and the products dV = P′ᵀ·G′, dQ = dS·K and
 *   dK = Qᵀ·dS (or dSᵀ·Q), each a kernel of views and its matmul alone;
 * - dispatch 1, one invocation per query row (64 rows per workgroup, keys
 *   staged in blocks): the softmax statistics m and l again (online, as the
 *   forward computes them, so P′ is the forward's to the bit), then the row
 *   sum dS needs, then dQᵢ = Σⱼ dSᵢⱼ·kⱼ; it writes m, l and that sum per row
 *   to a scratch buffer;
 * - dispatch 2, one invocation per key (64 keys per workgroup, query rows
 *   staged in blocks with their statistics): dVⱼ = Σᵢ P′ᵢⱼ·G′ᵢ and
 *   dKⱼ = Σᵢ dSᵢⱼ·qᵢ, each summed in increasing i.
 *
 * Every value of the score space is evaluated by the plan's own ops
 * (`evaluator`, with S, dP, m, l and the row sum in registers), so the
 * softmax's backward is whatever autodiff wrote (a scale, a mask, dropout).
 * `flashBackward` returns null for anything else: the kernels then run as
 * planned. The forward kernel then writes only the values other kernels
 * still read (`forwardOutputs`).
 */
import type { DType, OpAttrs } from "../../ir/ops.js";
import { broadcastShapes, sameShape, sizeOf, stridesOf } from "../../ir/shape.js";
import type { Kernel, KernelGraph } from "../../kernel/graph.js";
import { attentionRoles } from "../../kernel/fuse-attention.js";
import { viewOfValue, type View } from "./shader-groups.js";
import { evaluator } from "./wgsl-fused.js";
import { f32Lit, helperSource, storageBindings, u32Lit, type Helper } from "./wgsl-lib.js";
import { batchCoords, batchStrides, batchSum, type MatmulOperand } from "./wgsl-matmul.js";

/** Rows (dispatch 1) or keys (dispatch 2) per workgroup, one invocation each. */
const LANES = 64;
/** The widest head kept in registers. */
const MAX_HEAD = 128;
/** Workgroup memory every WebGPU device gives. */
const WORKGROUP_BYTES = 16384;
/** The most workgroups along one dispatch dimension. */
const MAX_GROUPS = 65535;

/** One dispatch of the backward pass; `SCRATCH_ROWS` among bindings and outputs stands for the statistics buffer. */
export interface BackwardDispatch {
  readonly wgsl: string;
  readonly workgroups: [number, number, number];
  readonly bindings: readonly number[];
  readonly outputs: readonly number[];
}

/** The placeholder of the row-statistics scratch buffer in `BackwardDispatch` bindings and outputs. */
export const SCRATCH_ROWS = -2;

/** A flash backward found for a forward attention kernel. */
export interface FlashBackward {
  /** The fused kernels it runs in place of (ids of the fused graph). */
  readonly replaced: readonly number[];
  /** The values the forward kernel must still write (its result first). */
  readonly forwardOutputs: readonly number[];
  readonly dispatches: readonly BackwardDispatch[];
  /** f32 elements of the statistics buffer (3 per query row). */
  readonly scratchElements: number;
}

interface Product {
  readonly fused: Kernel;
  readonly mm: Kernel;
  /** Its operands as strided views of stored values, or null for an operand computed by the backward (dS, P′). */
  readonly views: readonly [View | false, View | false];
}

/**
 * The flash backward of forward attention kernel `forward` (fused graph id)
 * whose members (`graph` spread out, `partition`) form `roles`, or null
 * where the backward kernels are not of the shape above.
 */
export function flashBackward(fused: KernelGraph, graph: KernelGraph, partition: readonly number[], forward: number, maxBindings: number): FlashBackward | null {
  const fw = fused.kernels[forward]!;
  const membersOf = (f: number): number[] => graph.kernels.filter((k) => partition[k.id] === f).map((k) => k.id);
  const fwMembers = membersOf(forward);
  const roles = attentionRoles(fwMembers.map((k) => graph.kernels[k]!), graph);
  if (roles === null) return null;
  const shape = (v: number): readonly number[] => graph.values[v]!.shape;
  const s = shape(roles.scores.output);
  const [rows, keys] = s.slice(-2) as [number, number];
  const batch = s.slice(0, -2);
  const batches = sizeOf(batch);
  if (batches === 0 || rows === 0 || keys === 0 || batches > MAX_GROUPS) return null;
  const fwInside = new Set(fwMembers);
  const fwViews = [roles.scores.inputs[0]!, roles.scores.inputs[1]!, roles.output.inputs[1]!].map((v) => viewOfValue(graph, v, fwInside));
  if (!fwViews.every((w): w is View => w !== false)) return null;
  const [qv, kv, vv] = fwViews as [View, View, View];
  const dk = shape(roles.scores.inputs[0]!).at(-1)!;
  const dv = shape(roles.output.inputs[1]!).at(-1)!;
  if (dk > MAX_HEAD || dv > MAX_HEAD) return null;
  const vBatch = broadcastShapes(shape(roles.output.inputs[1]!).slice(0, -2), batch);
  if (vBatch === null || !sameShape(vBatch, batch)) return null;
  const fwExtras = (fw.extraOutputs ?? []).map((e) => e.value);

  // The reduce kernel of the softmax's backward: one sum over the last axis of the score space, its root dS.
  const readersOf = (v: number): Kernel[] => fused.kernels.filter((k) => k.inputs.includes(v));
  const reduce = fused.kernels.find((k) => k.id > forward && k.kind === "reduce" && k.inputs.some((u) => fwExtras.includes(u)) && sameShape(k.shape, s));
  if (reduce === undefined || (reduce.extraOutputs ?? []).length > 0) return null;
  const rMembers = membersOf(reduce.id);
  const sums = rMembers.map((k) => graph.kernels[k]!).filter((k) => k.ops[0]!.op === "sum" || k.ops[0]!.op === "max");
  if (sums.length !== 1 || sums[0]!.ops[0]!.op !== "sum") return null;
  const rsum = sums[0]!;
  if ((rsum.ops[0]!.attrs as OpAttrs["sum"]).axes.join() !== String(s.length - 1) || !sameShape(shape(rsum.inputs[0]!), s)) return null;

  /** A fused kernel that is views and one matmul (its root, no epilogue). */
  const product = (f: Kernel): Product | null => {
    const ms = membersOf(f.id).map((k) => graph.kernels[k]!);
    const mm = ms[ms.length - 1]!;
    if (mm.ops[0]!.op !== "matmul" || mm.output !== f.output || (f.extraOutputs ?? []).length > 0) return null;
    if (!ms.every((k) => k === mm || ["reshape", "permute", "expand", "slice"].includes(k.ops[0]!.op))) return null;
    const inside = new Set(ms.map((k) => k.id));
    return { fused: f, mm, views: [viewOfValue(graph, mm.inputs[0]!, inside), viewOfValue(graph, mm.inputs[1]!, inside)] };
  };
  /** Whether operand j of `p` reads stored value `of` as the forward's operand with view `w` does, its two last axes swapped when `swap`. */
  const sameAs = (p: Product, j: number, w: View, of: readonly number[], swap: boolean): boolean => {
    const x = p.views[j];
    if (x === false || x.value !== w.value || x.base !== w.base) return false;
    const mine = shape(p.mm.inputs[j]!);
    const bs = (view: View, sh: readonly number[]): number[] => batchStrides({ binding: 0, shape: sh, base: 0, strides: view.strides, elements: 0 }, batch);
    if (bs(x, mine).join() !== bs(w, of).join()) return false;
    const [a, b] = x.strides.slice(-2) as [number, number];
    const [c, d] = w.strides.slice(-2) as [number, number];
    return swap ? a === d && b === c : a === c && b === d;
  };
  /** Whether operand j of `p` reads computed full-space value `v` (plain or transposed per `swap`) through permutes only. */
  const reads = (p: Product, j: number, v: number, swap: boolean): boolean => {
    const x = p.views[j];
    if (x === false || x.value !== v || x.base !== 0) return false;
    const want = stridesOf(s);
    const mine = [...want];
    if (swap) [mine[mine.length - 1], mine[mine.length - 2]] = [want[want.length - 2]!, want[want.length - 1]!];
    return x.strides.join() === mine.join();
  };

  // dP = G·Vᵀ: the product read by the reduce kernel.
  const dPs = reduce.inputs.map((u) => fused.kernels.find((k) => k.output === u)).filter((k): k is Kernel => k !== undefined && k.kind === "matmul");
  if (dPs.length !== 1) return null;
  const dP = product(dPs[0]!);
  const sv = shape(roles.output.inputs[1]!);
  if (dP === null || !sameShape(dP.mm.shape, s) || !sameAs(dP, 1, vv, sv, true) || dP.views[0] === false) return null;
  const g = dP.views[0];
  if (shape(dP.mm.inputs[0]!).at(-1) !== dv || readersOf(dP.fused.output).some((k) => k.id !== reduce.id)) return null;

  // dQ, dK (from dS) and dV (from a forward value of the score space).
  const dS = reduce.output;
  const sq = shape(roles.scores.inputs[0]!);
  const sk = shape(roles.scores.inputs[1]!);
  let dQ: Product | null = null;
  let dK: Product | null = null;
  let dKTransposed = false;
  let dV: Product | null = null;
  let pPrime = -1;
  for (const k of readersOf(dS)) {
    const p = product(k);
    if (p === null) return null;
    if (reads(p, 0, dS, false) && sameAs(p, 1, kv, sk, true) && dQ === null) dQ = p;
    else if (reads(p, 1, dS, false) && sameAs(p, 0, qv, sq, true) && dK === null) {
      dK = p;
      dKTransposed = true;
    } else if (reads(p, 0, dS, true) && sameAs(p, 1, qv, sq, false) && dK === null) dK = p;
    else return null;
  }
  if (fused.outputs.some((o) => o.value === dS)) return null;
  // Values of the forward's score space: read only by the reduce kernel and dV's product (P′ᵀ·G′).
  const replaced = new Set([reduce.id, dP.fused.id, ...(dQ ? [dQ.fused.id] : []), ...(dK ? [dK.fused.id] : [])]);
  for (const u of fwExtras) {
    if (!sameShape(shape(u), s)) continue;
    for (const k of readersOf(u)) {
      if (replaced.has(k.id)) continue;
      const p = product(k);
      if (p === null || dV !== null || !reads(p, 0, u, true) || p.views[1] === false || shape(p.mm.inputs[1]!).slice(-2)[0] !== rows) return null;
      dV = p;
      pPrime = u;
      replaced.add(k.id);
    }
    if (fused.outputs.some((o) => o.value === u)) return null;
  }
  // A non-replaced kernel between the first and last replaced ones must not read what they write (the dispatches run at the last).
  const ids = [...replaced].sort((a, b) => a - b);
  const written = new Set(ids.flatMap((id) => [fused.kernels[id]!.output]));
  for (let id = ids[0]!; id < ids[ids.length - 1]!; id++) if (!replaced.has(id) && fused.kernels[id]!.inputs.some((u) => written.has(u))) return null;
  for (const p of [dQ, dK, dV]) if (p !== null && !sameShape(p.mm.shape.slice(0, -2), batch)) return null;
  const g2 = dV?.views[1] as View | undefined;
  const dv2 = dV === null ? 0 : shape(dV.mm.inputs[1]!).at(-1)!;
  if (dv2 > MAX_HEAD) return null;

  // The evaluator's world: the forward's and the reduce kernel's ops, with S, dP, m, l and the row sum in registers.
  const members = [...fwMembers, ...rMembers].sort((a, b) => a - b);
  const inside = new Set(members.map((k) => graph.kernels[k]!.output));
  const bindings: number[] = [];
  for (const k of members) for (const u of graph.kernels[k]!.inputs) if (!inside.has(u) && u !== dP.mm.output && !bindings.includes(u)) bindings.push(u);
  for (const w of [qv, kv, vv, g, ...(g2 ? [g2] : [])]) if (!bindings.includes(w.value)) bindings.push(w.value);
  const slot = (v: number): number => bindings.indexOf(v);
  const stats = bindings.length;
  const used = new Set<Helper>();
  const evalAt = (extra: [number, string][]): ReturnType<typeof evaluator> =>
    evaluator(graph, members, bindings, new Map([[roles.scores.output, "s"], [dP.mm.output, "dp"]]), "idx", new Map([[roles.max.output, "m"], [roles.sum.output, "l"], ...extra]));
  let x: string, rowTerm: string, dsRow: string, dsKey: string, pKey = "";
  let ev1: ReturnType<typeof evaluator>, ev2: ReturnType<typeof evaluator>, ev3: ReturnType<typeof evaluator>, ev4: ReturnType<typeof evaluator>;
  try {
    ev1 = evaluator(graph, fwMembers, bindings, new Map([[roles.scores.output, "s"]]), "idx");
    x = ev1.at(roles.max.inputs[0]!, "idx");
    ev2 = evalAt([]);
    rowTerm = ev2.at(rsum.inputs[0]!, "idx");
    ev3 = evalAt([[rsum.output, "rs"]]);
    dsRow = ev3.at(dS, "idx");
    ev4 = evalAt([[rsum.output, "rs"]]);
    dsKey = ev4.at(dS, "idx");
    if (dV !== null) pKey = ev4.at(pPrime, "idx");
  } catch {
    return null;
  }
  for (const ev of [ev1, ev2, ev3, ev4]) for (const h of ev.used) used.add(h);
  // The statistics start at −∞, a literal made of bits.
  used.add("f32_bits");

  const op = (w: View, sh: readonly number[]): MatmulOperand => ({ binding: slot(w.value), shape: sh, base: w.base, strides: w.strides, elements: 0 });
  const Q = op(qv, sq);
  const K = op(kv, sk);
  const V = op(vv, sv);
  const G = op(g, shape(dP.mm.inputs[0]!));
  const G2 = g2 && dV ? op(g2, shape(dV.mm.inputs[1]!)) : null;
  const [sqr, sqd] = Q.strides.slice(-2) as [number, number];
  const [skd, skj] = K.strides.slice(-2) as [number, number];
  const [svj, svd] = V.strides.slice(-2) as [number, number];
  const [sgr, sgd] = G.strides.slice(-2) as [number, number];
  const negInf = f32Lit(-Infinity);
  const ind = (lines: readonly string[], n: number): string[] => lines.map((l) => " ".repeat(n) + l);
  const prelude = [
    "let z = wg.y;",
    ...batchCoords(batch, "z"),
    `let qbase = ${batchSum(Q.base, batchStrides(Q, batch))};`,
    `let kbase = ${batchSum(K.base, batchStrides(K, batch))};`,
    `let vbase = ${batchSum(V.base, batchStrides(V, batch))};`,
    `let gbase = ${batchSum(G.base, batchStrides(G, batch))};`,
    ...(G2 ? [`let g2base = ${batchSum(G2.base, batchStrides(G2, batch))};`] : []),
  ];
  const header = (title: string, outs: readonly number[], reading: readonly number[], shared: readonly string[]): string[] => {
    const lines = [`// ${title}`];
    const dtype = (u: number): DType => (u === SCRATCH_ROWS ? "f32" : graph.values[u]!.dtype);
    lines.push(...storageBindings(reading.map(dtype), outs.map(dtype)));
    lines.push("");
    const helpers = helperSource(used);
    if (helpers !== "") lines.push(helpers);
    lines.push(...shared, "", `@compute @workgroup_size(${LANES})`, "fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {");
    return lines;
  };

  // Dispatch 1: per query row, the statistics, the row sum, and dQ.
  const block1 = Math.max(1, Math.min(LANES, Math.floor(WORKGROUP_BYTES / 4 / (dk + dv))));
  const stage = (name: string, width: number, base: string, rs: number, cs: number, limit: number, start: string, block: number, binding: number): string[] => [
    `  for (var e = lid.x; e < ${u32Lit(block * width)}; e += ${u32Lit(LANES)}) {`,
    `    let r = ${start} + e / ${u32Lit(width)};`,
    "    var w = 0.0f;",
    `    if (r < ${u32Lit(limit)}) { w = in${binding}[${base} + r * ${u32Lit(rs)} + (e % ${u32Lit(width)}) * ${u32Lit(cs)}]; }`,
    `    ${name}[e] = w;`,
    "  }",
  ];
  const loadK = stage("Ks", dk, "kbase", skj, skd, keys, "kb", block1, K.binding);
  const loadV = stage("Vs", dv, "vbase", svj, svd, keys, "kb", block1, V.binding);
  const keyLoop = `    for (var kj = 0u; kj < min(${u32Lit(block1)}, ${u32Lit(keys)} - kb); kj++) {`;
  const score = [
    "      let key = kb + kj;",
    "      var s = 0.0f;",
    `      for (var d = 0u; d < ${u32Lit(dk)}; d++) { s = s + q[d] * Ks[kj * ${u32Lit(dk)} + d]; }`,
    `      let idx = (z * ${u32Lit(rows)} + row) * ${u32Lit(keys)} + key;`,
  ];
  const dpLine = `      var dp = 0.0f;\n      for (var d = 0u; d < ${u32Lit(dv)}; d++) { dp = dp + g[d] * Vs[kj * ${u32Lit(dv)} + d]; }`;
  const keyPass = (body: readonly string[], withV: boolean): string[] => [
    `for (var kb = 0u; kb < ${u32Lit(keys)}; kb += ${u32Lit(block1)}) {`,
    ...loadK,
    ...(withV ? loadV : []),
    "  workgroupBarrier();",
    "  if (live) {",
    keyLoop,
    ...score,
    ...(withV ? dpLine.split("\n") : []),
    ...ind(body, 6),
    "    }",
    "  }",
    "  workgroupBarrier();",
    "}",
  ];
  const one = [
    ...prelude,
    `let row = wg.x * ${u32Lit(LANES)} + lid.x;`,
    `let live = row < ${u32Lit(rows)};`,
    `var q: array<f32, ${dk}>;`,
    `var g: array<f32, ${dv}>;`,
    "if (live) {",
    `  for (var d = 0u; d < ${u32Lit(dk)}; d++) { q[d] = in${Q.binding}[qbase + row * ${u32Lit(sqr)} + d * ${u32Lit(sqd)}]; }`,
    `  for (var d = 0u; d < ${u32Lit(dv)}; d++) { g[d] = in${G.binding}[gbase + row * ${u32Lit(sgr)} + d * ${u32Lit(sgd)}]; }`,
    "}",
    `var m = ${negInf};`,
    "var l = 0.0f;",
    ...keyPass([...ev1.lines, `let mx = max(m, ${x});`, `l = select(l * exp(m - mx), 0.0f, m == ${negInf}) + exp(${x} - mx);`, "m = mx;"], false),
    "var rs = 0.0f;",
    ...keyPass([...ev2.lines, `rs = rs + ${rowTerm};`], true),
    `var dq: array<f32, ${dk}>;`,
    ...keyPass([...ev3.lines, `let ds = ${dsRow};`, `for (var d = 0u; d < ${u32Lit(dk)}; d++) { dq[d] = dq[d] + ds * Ks[kj * ${u32Lit(dk)} + d]; }`], true),
    "if (live) {",
    "  let ridx = z * " + u32Lit(rows) + " + row;",
    "  out[ridx * 3u] = m;",
    "  out[ridx * 3u + 1u] = l;",
    "  out[ridx * 3u + 2u] = rs;",
    ...(dQ ? [`  for (var d = 0u; d < ${u32Lit(dk)}; d++) { out1[ridx * ${u32Lit(dk)} + d] = dq[d]; }`] : []),
    "}",
  ];
  const outs1 = [SCRATCH_ROWS, ...(dQ ? [dQ.fused.output] : [])];
  const wgsl1 = [
    ...header(`attention backward (flash, rows): m, l and the row sum per query row${dQ ? ", dQ" : ""}`, outs1, bindings, [`var<workgroup> Ks: array<f32, ${block1 * dk}>;`, `var<workgroup> Vs: array<f32, ${block1 * dv}>;`]),
    ...ind(one, 2),
    "}",
    "",
  ].join("\n");
  const dispatches: BackwardDispatch[] = [{ wgsl: wgsl1, workgroups: [Math.ceil(rows / LANES), batches, 1], bindings, outputs: outs1 }];

  // Dispatch 2: per key, dV and dK over the query rows in blocks (with their statistics).
  if (dK !== null || dV !== null) {
    const width = dk + dv + dv2 + 3;
    const block2 = Math.max(1, Math.min(LANES, Math.floor(WORKGROUP_BYTES / 4 / width)));
    const reading = [...bindings, SCRATCH_ROWS];
    const [sg2r, sg2d] = G2 ? (G2.strides.slice(-2) as [number, number]) : [0, 0];
    const loads = [
      ...stage("Qs", dk, "qbase", sqr, sqd, rows, "rb", block2, Q.binding),
      ...stage("Gs", dv, "gbase", sgr, sgd, rows, "rb", block2, G.binding),
      ...(G2 ? stage("G2s", dv2, "g2base", sg2r, sg2d, rows, "rb", block2, G2.binding) : []),
      ...stage("Ss", 3, `z * ${u32Lit(rows * 3)}`, 3, 1, rows, "rb", block2, stats),
    ];
    const two = [
      ...prelude,
      `let key = wg.x * ${u32Lit(LANES)} + lid.x;`,
      `let live = key < ${u32Lit(keys)};`,
      `var kr: array<f32, ${dk}>;`,
      `var vr: array<f32, ${dv}>;`,
      "if (live) {",
      `  for (var d = 0u; d < ${u32Lit(dk)}; d++) { kr[d] = in${K.binding}[kbase + key * ${u32Lit(skj)} + d * ${u32Lit(skd)}]; }`,
      `  for (var d = 0u; d < ${u32Lit(dv)}; d++) { vr[d] = in${V.binding}[vbase + key * ${u32Lit(svj)} + d * ${u32Lit(svd)}]; }`,
      "}",
      `var dkacc: array<f32, ${dk}>;`,
      `var dvacc: array<f32, ${Math.max(dv2, 1)}>;`,
      `for (var rb = 0u; rb < ${u32Lit(rows)}; rb += ${u32Lit(block2)}) {`,
      ...loads,
      "  workgroupBarrier();",
      "  if (live) {",
      `    for (var ri = 0u; ri < min(${u32Lit(block2)}, ${u32Lit(rows)} - rb); ri++) {`,
      "      let row = rb + ri;",
      "      var s = 0.0f;",
      `      for (var d = 0u; d < ${u32Lit(dk)}; d++) { s = s + Qs[ri * ${u32Lit(dk)} + d] * kr[d]; }`,
      "      var dp = 0.0f;",
      `      for (var d = 0u; d < ${u32Lit(dv)}; d++) { dp = dp + Gs[ri * ${u32Lit(dv)} + d] * vr[d]; }`,
      "      let m = Ss[ri * 3u];",
      "      let l = Ss[ri * 3u + 1u];",
      "      let rs = Ss[ri * 3u + 2u];",
      `      let idx = (z * ${u32Lit(rows)} + row) * ${u32Lit(keys)} + key;`,
      ...ind(ev4.lines, 6),
      ...(dK ? [`      for (var d = 0u; d < ${u32Lit(dk)}; d++) { dkacc[d] = dkacc[d] + ${dsKey} * Qs[ri * ${u32Lit(dk)} + d]; }`] : []),
      ...(dV ? [`      for (var d = 0u; d < ${u32Lit(dv2)}; d++) { dvacc[d] = dvacc[d] + ${pKey} * G2s[ri * ${u32Lit(dv2)} + d]; }`] : []),
      "    }",
      "  }",
      "  workgroupBarrier();",
      "}",
      "if (live) {",
    ];
    const outs2: number[] = [];
    if (dK) {
      const name = outs2.length === 0 ? "out" : `out${outs2.length}`;
      outs2.push(dK.fused.output);
      // dK as [.., keys, dk] (dSᵀ·Q) or its transpose [.., dk, keys] (Qᵀ·dS).
      two.push(`  for (var d = 0u; d < ${u32Lit(dk)}; d++) { ${name}[${dKTransposed ? `(z * ${u32Lit(dk)} + d) * ${u32Lit(keys)} + key` : `(z * ${u32Lit(keys)} + key) * ${u32Lit(dk)} + d`}] = dkacc[d]; }`);
    }
    if (dV) {
      const name = outs2.length === 0 ? "out" : `out${outs2.length}`;
      outs2.push(dV.fused.output);
      two.push(`  for (var d = 0u; d < ${u32Lit(dv2)}; d++) { ${name}[(z * ${u32Lit(keys)} + key) * ${u32Lit(dv2)} + d] = dvacc[d]; }`);
    }
    two.push("}");
    const shared = [`var<workgroup> Qs: array<f32, ${block2 * dk}>;`, `var<workgroup> Gs: array<f32, ${block2 * dv}>;`, ...(G2 ? [`var<workgroup> G2s: array<f32, ${block2 * dv2}>;`] : []), `var<workgroup> Ss: array<f32, ${block2 * 3}>;`];
    const wgsl2 = [...header(`attention backward (flash, keys):${dK ? " dK" : ""}${dV ? " dV" : ""}`, outs2, reading, shared), ...ind(two, 2), "}", ""].join("\n");
    dispatches.push({ wgsl: wgsl2, workgroups: [Math.ceil(keys / LANES), batches, 1], bindings: reading, outputs: outs2 });
  }
  if (dispatches.some((d) => d.bindings.length + d.outputs.length > maxBindings)) return null;
  // The forward still writes the values kernels other than those replaced read.
  const forwardOutputs = [fw.output, ...fwExtras.filter((u) => fused.outputs.some((o) => o.value === u) || fused.kernels.some((k) => !replaced.has(k.id) && k.id !== forward && k.inputs.includes(u)))];
  return { replaced: ids, forwardOutputs, dispatches, scratchElements: batches * rows * 3 };
}
