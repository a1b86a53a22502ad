/**
 * Long reductions (`sum`, `max`) as one workgroup per output element: each of
 * its invocations folds a strided share of the reduced elements, then the
 * workgroup combines the partial results as a tree in workgroup memory. The
 * plain renderer (`wgsl-ops.ts`) loops serially in one invocation per output,
 * which leaves a GPU idle when few outputs reduce many elements (a loss).
 */
import type { DType, OpAttrs, Shape } from "../../ir/ops.js";
import { sizeOf } from "../../ir/shape.js";
import { helperSource, u32Lit, type Helper } from "./wgsl-lib.js";
import { isLongReduction } from "./shader-groups.js";
import { coords, offset, reductionFold, reductionIndex } from "./wgsl-ops.js";

/** Invocations per workgroup of a tree reduction. */
const THREADS = 256;
/** The most workgroups along one dispatch dimension. */
const MAX_GROUPS = 65535;

/** Whether a reduction of `count` elements per output is long enough for a tree (fusion plans with this too). */
export function wantsTree(count: number): boolean {
  return isLongReduction(count);
}

/** How a fused reduction reads its operand: the bindings' types, and statements giving element `idx` (a name) of the operand. */
export interface FusedOperand {
  readonly inputs: readonly { readonly dtype: DType }[];
  readonly read: (idx: string) => { readonly lines: readonly string[]; readonly value: string; readonly used: ReadonlySet<Helper> };
}

/** Reduced elements per workgroup of a split reduction's first pass. */
const SPLIT_CHUNK = 8192;

/**
 * How many parts a reduction of `count` elements into `outputs` elements is
 * split into (1: not split). A few outputs of very many elements (a loss
 * over a whole batch) would leave all but a few workgroups of a GPU idle:
 * such a reduction first folds chunks of 8192 elements in workgroups of their
 * own, then folds the chunks' results.
 */
export function reduceParts(count: number, outputs: number): number {
  if (outputs >= 64 || count < 4 * SPLIT_CHUNK) return 1;
  return Math.min(Math.ceil(count / SPLIT_CHUNK), Math.floor(MAX_GROUPS / outputs));
}

/**
 * The shader and dispatch of a tree reduction of `x` over `attrs.axes` into
 * `out`; `x` is `in0`, or computed by `fused` from its bindings. With
 * `parts` > 1 it is the first pass of a split reduction: workgroup
 * i · parts + p folds the p-th run of `⌈count / parts⌉` reduced elements of
 * output i, and `out` (scratch) gets [outputs, parts] partial results, which
 * a reduction over their last axis finishes.
 */
export function renderReduceTree(
  kind: "sum" | "max",
  attrs: OpAttrs["sum"],
  x: { shape: Shape; dtype: DType },
  out: Shape,
  fused?: FusedOperand,
  parts = 1,
): { wgsl: string; workgroups: [number, number, number] } {
  const t = x.dtype;
  const { keptStrides, count, inner } = reductionIndex(x.shape, attrs.axes);
  const outputs = sizeOf(out);
  const { init, combine } = reductionFold(kind, t);
  const used = new Set<Helper>();
  if (kind === "max" && t === "f32") used.add("fmax");
  if (init.includes("f32_bits(")) used.add("f32_bits");
  const groups = outputs * parts;
  const chunk = Math.ceil(count / parts);
  const x0 = Math.min(groups, MAX_GROUPS);
  const index = `base + ${inner === "" ? "0u" : inner}`;
  let load = [`let v = in0[${index}];`];
  if (fused !== undefined) {
    const { lines: computed, value, used: helpers } = fused.read("xi");
    load = [`let xi = ${index};`, ...computed, `let v = ${value};`];
    for (const h of helpers) used.add(h);
  }
  const inputs = fused?.inputs ?? [x];
  const lines = [
    `// ${fused === undefined ? "" : "fused "}${kind} (tree${parts > 1 ? `, split in ${parts} parts` : ""}) → ${t}[${out.join(", ")}${parts > 1 ? `, ${parts}` : ""}]`,
    ...inputs.map((b, j) => `@group(0) @binding(${j}) var<storage, read> in${j}: array<${b.dtype}>;`),
    `@group(0) @binding(${inputs.length}) var<storage, read_write> out: array<${t}>;`,
    "",
    `var<workgroup> part: array<${t}, ${THREADS}>;`,
    "",
  ];
  const helpers = helperSource(used);
  if (helpers !== "") lines.push(helpers);
  lines.push(
    `@compute @workgroup_size(${THREADS})`,
    "fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {",
    // Uniform per workgroup, so returning here keeps the barriers below in uniform control flow.
    `  let w = wg.x + wg.y * ${u32Lit(x0)};`,
    `  if (w >= ${u32Lit(groups)}) { return; }`,
    `  let i = w / ${u32Lit(parts)};`,
    `  let first = (w % ${u32Lit(parts)}) * ${u32Lit(chunk)};`,
    `  let end = min(first + ${u32Lit(chunk)}, ${u32Lit(count)});`,
    ...coords(out).split("\n").map((l) => `  ${l}`),
    `  let base = ${offset(keptStrides)};`,
    `  var acc = ${init};`,
    `  for (var r = first + lid.x; r < end; r += ${u32Lit(THREADS)}) {`,
    ...load.map((l) => `    ${l}`),
    `    acc = ${combine("acc", "v")};`,
    "  }",
    "  part[lid.x] = acc;",
    "  workgroupBarrier();",
    `  for (var s = ${u32Lit(THREADS / 2)}; s > 0u; s = s >> 1u) {`,
    `    if (lid.x < s) { part[lid.x] = ${combine("part[lid.x]", "part[lid.x + s]")}; }`,
    "    workgroupBarrier();",
    "  }",
    "  if (lid.x == 0u) { out[w] = part[0]; }",
    "}",
    "",
  );
  return { wgsl: lines.join("\n"), workgroups: groups === 0 ? [0, 0, 0] : [x0, Math.ceil(groups / x0), 1] };
}
