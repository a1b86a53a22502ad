/**
 * The op renderers of the WGSL renderer (`wgsl.ts`): for each op, the body of
 * a compute shader's `main` that computes output element `i`, with every size,
 * stride and attribute baked in as a constant. They print what the kernel
 * says and decide nothing.
 */
import type { DType, Op, OpAttrs, Shape } from "../../ir/ops.js";
import { broadcastShapes, sizeOf, stridesOf } from "../../ir/shape.js";
import { f32Lit, i32Lit, lit, u32Lit, type Helper } from "./wgsl-lib.js";

/** The type of one kernel operand or result. */
export interface TensorType {
  readonly shape: Shape;
  readonly dtype: DType;
}

/** What an op renderer sees: the op's attributes, operand types and result type. */
export interface OpContext {
  readonly attrs: unknown;
  readonly inputs: readonly TensorType[];
  readonly out: TensorType;
  /** Helpers the body calls; the renderer includes their source. */
  readonly use: (helper: Helper) => void;
}

/** Renders the body computing `out[i]` (statements, ending in a write to `out[i]`). */
export type OpRenderer = (c: OpContext) => string;

// ---- Index arithmetic -------------------------------------------------------

/**
 * Statements that split the flat output index `i` into coordinates `c0`, `c1`,
 * … of `shape` (row-major). Axes of size 1 get the constant 0.
 */
export function coords(shape: Shape, name = "c", flat = "i"): string {
  const strides = stridesOf(shape);
  return shape
    .map((d, a) => {
      if (d === 1) return `let ${name}${a} = 0u;`;
      const q = strides[a] === 1 ? flat : `(${flat} / ${u32Lit(strides[a]!)})`;
      return a === 0 ? `let ${name}${a} = ${q};` : `let ${name}${a} = ${q} % ${u32Lit(d)};`;
    })
    .join("\n");
}

/** The sum base + Σ coordinate_a · strides_a as a u32 expression, skipping zero strides. */
export function offset(strides: readonly number[], base = 0, name = "c"): string {
  const terms = strides.flatMap((s, a) => (s === 0 ? [] : [s === 1 ? `${name}${a}` : `${name}${a} * ${u32Lit(s)}`]));
  if (base !== 0 || terms.length === 0) terms.unshift(u32Lit(base));
  return terms.join(" + ");
}

/** A strided read: out[i] = in0[base + Σ c_a · strides_a] over the output's coordinates. */
function stridedRead(out: Shape, strides: readonly number[], base = 0): string {
  return `${coords(out)}\nout[i] = in0[${offset(strides, base)}];`;
}

// ---- Op renderers ------------------------------------------------------------

/** Unary ops on f32 as WGSL expressions of an operand (shared with the fused renderer). */
export const UNARY_F32: Record<string, (x: string) => string> = {
  neg: (x) => `-${x}`,
  exp: (x) => `exp(${x})`,
  log: (x) => `log(${x})`,
  sqrt: (x) => `sqrt(${x})`,
  recip: (x) => `1.0f / ${x}`,
  tanh: (x) => `ftanh(${x})`,
  sigmoid: (x) => `1.0f / (1.0f + exp(-${x}))`,
  erf: (x) => `ferf(${x})`,
  abs: (x) => `abs(${x})`,
  sign: (x) => `sign(${x})`,
  relu: (x) => `select(${x}, 0.0f, ${x} <= 0.0f)`,
  sin: (x) => `fsin(${x})`,
  cos: (x) => `fcos(${x})`,
  detach: (x) => x,
};

/** Unary ops on i32 as WGSL expressions. */
export const UNARY_I32: Record<string, (x: string) => string> = {
  neg: (x) => `-${x}`,
  abs: (x) => `abs(${x})`,
  sign: (x) => `sign(${x})`,
  relu: (x) => `max(${x}, 0i)`,
  detach: (x) => x,
};

/** The helper an op's expression calls on f32. */
export const HELPER_OF: Record<string, Helper> = { tanh: "ftanh", erf: "ferf", sin: "fsin", cos: "fcos", maximum: "fmax", minimum: "fmin", pow: "fpow" };

function unary(op: Op): OpRenderer {
  return ({ inputs, use }) => {
    const table = inputs[0]!.dtype === "f32" ? UNARY_F32 : UNARY_I32;
    const f = table[op];
    if (f === undefined) throw new Error(`webgpu: op ${op} on ${inputs[0]!.dtype} is not supported`);
    if (inputs[0]!.dtype === "f32" && HELPER_OF[op] !== undefined) use(HELPER_OF[op]!);
    return `let x = in0[i];\nout[i] = ${f("x")};`;
  };
}

/** Binary ops as WGSL expressions of two operands of dtype `t`. */
export const BINARY: Record<string, (a: string, b: string, t: DType) => string> = {
  add: (a, b) => `${a} + ${b}`,
  sub: (a, b) => `${a} - ${b}`,
  mul: (a, b) => `${a} * ${b}`,
  // WGSL's i32 division truncates, with x / 0 = x and −2^31 / −1 = −2^31: the IR's rule.
  div: (a, b) => `${a} / ${b}`,
  maximum: (a, b, t) => (t === "f32" ? `fmax(${a}, ${b})` : `max(${a}, ${b})`),
  minimum: (a, b, t) => (t === "f32" ? `fmin(${a}, ${b})` : `min(${a}, ${b})`),
  pow: (a, b) => `fpow(${a}, ${b})`,
  cmplt: (a, b) => `select(0i, 1i, ${a} < ${b})`,
  cmpeq: (a, b) => `select(0i, 1i, ${a} == ${b})`,
};

function binary(op: Op): OpRenderer {
  return ({ inputs, use }) => {
    const t = inputs[0]!.dtype;
    if (t === "f32" && HELPER_OF[op] !== undefined) use(HELPER_OF[op]!);
    return `let a = in0[i];\nlet b = in1[i];\nout[i] = ${BINARY[op]!("a", "b", t)};`;
  };
}

/**
 * How a reduction of `shape` over `axes` addresses its operand: the strides
 * that the output's coordinates take (0 on reduced axes), the number of
 * elements reduced per output, and the offset of the `r`-th of them from the
 * output's base, as WGSL.
 */
export function reductionIndex(shape: Shape, axes: readonly number[]): { keptStrides: number[]; count: number; inner: string } {
  const strides = stridesOf(shape);
  const keptStrides = shape.map((_, a) => (axes.includes(a) ? 0 : strides[a]!));
  const reduced = axes.map((a) => shape[a]!);
  const rStrides = stridesOf(reduced);
  const inner = axes
    .map((a, j) => {
      const q = rStrides[j] === 1 ? "r" : `r / ${u32Lit(rStrides[j]!)}`;
      const coordinate = j === 0 ? q : `${q === "r" ? q : `(${q})`} % ${u32Lit(reduced[j]!)}`;
      return strides[a] === 1 ? coordinate : `(${coordinate}) * ${u32Lit(strides[a]!)}`;
    })
    .join(" + ");
  return { keptStrides, count: sizeOf(reduced), inner };
}

/** A reduction's starting value and how it combines two values of type `t`. */
export function reductionFold(kind: "sum" | "max", t: DType): { init: string; combine: (a: string, b: string) => string } {
  const init = kind === "sum" ? lit(0, t) : t === "f32" ? f32Lit(-Infinity) : i32Lit(-(2 ** 31));
  const combine = (a: string, b: string): string => (kind === "sum" ? `${a} + ${b}` : t === "f32" ? `fmax(${a}, ${b})` : `max(${a}, ${b})`);
  return { init, combine };
}

function reduce(kind: "sum" | "max"): OpRenderer {
  return ({ attrs, inputs, out, use }) => {
    const x = inputs[0]!;
    const t = x.dtype;
    // The output's coordinates address the kept axes; the loop walks the reduced ones.
    const { keptStrides, count, inner } = reductionIndex(x.shape, (attrs as OpAttrs["sum"]).axes);
    const { init, combine: fold } = reductionFold(kind, t);
    const combine = fold("acc", "v");
    if (count === 0) return `out[i] = ${init};`;
    if (kind === "max" && t === "f32") use("fmax");
    return [
      coords(out.shape),
      `let base = ${offset(keptStrides)};`,
      `var acc = ${init};`,
      `for (var r = 0u; r < ${u32Lit(count)}; r++) {`,
      `  let v = in0[base + ${inner === "" ? "0u" : inner}];`,
      `  acc = ${combine};`,
      "}",
      "out[i] = acc;",
    ].join("\n");
  };
}

/** Strides of an operand's batch axes against the broadcast batch shape (0 where it repeats). */
export function batchStrides(own: Shape, batch: Shape, matrix: number): number[] {
  const lead = batch.length - own.length;
  const ownStrides = stridesOf(own);
  return batch.map((_, a) => (a < lead || own[a - lead] === 1 ? 0 : ownStrides[a - lead]! * matrix));
}

const matmul: OpRenderer = ({ inputs, out }) => {
  const [a, b] = inputs as [TensorType, TensorType];
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2))!;
  const as = batchStrides(a.shape.slice(0, -2), batch, m * k);
  const bs = batchStrides(b.shape.slice(0, -2), batch, k * n);
  // Output coordinates: the batch axes, then row and column.
  return [
    coords(out.shape),
    `let a0 = ${offset([...as, k, 0])};`,
    `let b0 = ${offset([...bs, 0, 1])};`,
    "var acc = 0.0f;",
    `for (var p = 0u; p < ${u32Lit(k)}; p++) {`,
    `  acc = acc + in0[a0 + p] * in1[b0 + p * ${u32Lit(n)}];`,
    "}",
    "out[i] = acc;",
  ]
    .join("\n");
};

const permute: OpRenderer = ({ attrs, inputs, out }) => {
  const strides = stridesOf(inputs[0]!.shape);
  return stridedRead(
    out.shape,
    (attrs as OpAttrs["permute"]).perm.map((p) => strides[p]!),
  );
};

const expand: OpRenderer = ({ inputs, out }) => {
  const x = inputs[0]!;
  const strides = stridesOf(x.shape).map((s, a) => (x.shape[a] === 1 ? 0 : s));
  return stridedRead(out.shape, strides);
};

const slice: OpRenderer = ({ attrs, inputs, out }) => {
  const { starts, steps } = attrs as OpAttrs["slice"];
  const strides = stridesOf(inputs[0]!.shape);
  const base = starts.reduce((sum, s, a) => sum + s * strides[a]!, 0);
  return stridedRead(
    out.shape,
    strides.map((s, a) => s * steps[a]!),
    base,
  );
};

const pad: OpRenderer = ({ attrs, inputs, out }) => {
  const { lo, interior, value } = attrs as OpAttrs["pad"];
  const x = inputs[0]!;
  const strides = stridesOf(x.shape);
  // Output coordinate c lands on input element (c − lo) / (interior + 1) when that is whole and in range.
  const checks: string[] = [];
  const terms: string[] = [];
  x.shape.forEach((d, a) => {
    const gap = interior[a]! + 1;
    checks.push(`let d${a} = i32(c${a}) - ${i32Lit(lo[a]!)};`);
    const conditions = [`d${a} >= 0i`, `d${a} < ${i32Lit((d - 1) * gap + 1)}`];
    if (gap > 1) conditions.push(`d${a} % ${i32Lit(gap)} == 0i`);
    checks.push(`inside = inside && ${conditions.join(" && ")};`);
    if (strides[a] !== 0 && d > 1) terms.push(`u32(d${a} / ${i32Lit(gap)}) * ${u32Lit(strides[a]!)}`);
  });
  return [
    coords(out.shape),
    "var inside = true;",
    ...checks,
    `var v = ${lit(value, out.dtype)};`,
    `if (inside) { v = in0[${terms.length === 0 ? "0u" : terms.join(" + ")}]; }`,
    "out[i] = v;",
  ].join("\n");
};

const concat: OpRenderer = ({ attrs, inputs, out }) => {
  const axis = (attrs as OpAttrs["concat"]).axis;
  const lines = [coords(out.shape)];
  let start = 0;
  const branches: string[] = [];
  inputs.forEach((t, k) => {
    const size = t.shape[axis]!;
    if (size === 0) return;
    const strides = stridesOf(t.shape);
    const terms = t.shape.flatMap((d, a) => {
      if (d === 1) return [];
      const c = a === axis ? `(c${a} - ${u32Lit(start)})` : `c${a}`;
      return [strides[a] === 1 ? c : `${c} * ${u32Lit(strides[a]!)}`];
    });
    const read = `out[i] = in${k}[${terms.length === 0 ? "0u" : terms.join(" + ")}];`;
    const end = start + size;
    branches.push(`if (c${axis} < ${u32Lit(end)}) {\n  ${read}\n  return;\n}`);
    start = end;
  });
  lines.push(...branches);
  return lines.join("\n");
};

/** The [outer, size, inner] view of a shape around `axis`. */
function around(shape: Shape, axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

const gather: OpRenderer = ({ attrs, inputs }) => {
  const axis = (attrs as OpAttrs["gather"]).axis;
  const [, size] = around(inputs[0]!.shape, axis);
  const [, count, inner] = around(inputs[1]!.shape, axis);
  // Out-of-range indices are a broken program; they are clamped rather than read out of bounds.
  return [
    `let o = i / ${u32Lit(count * inner)};`,
    `let w = i % ${u32Lit(inner)};`,
    `let k = u32(clamp(in1[i], 0i, ${i32Lit(Math.max(size - 1, 0))}));`,
    `out[i] = in0[(o * ${u32Lit(size)} + k) * ${u32Lit(inner)} + w];`,
  ].join("\n");
};

const scatterAdd: OpRenderer = ({ attrs, inputs, out }) => {
  const axis = (attrs as OpAttrs["scatter_add"]).axis;
  const [, size, inner] = around(out.shape, axis);
  const [, count] = around(inputs[1]!.shape, axis);
  // One invocation per target element adds, in order, every update aimed at it: deterministic, no atomics.
  return [
    `let o = i / ${u32Lit(size * inner)};`,
    `let k = i32((i / ${u32Lit(inner)}) % ${u32Lit(size)});`,
    `let w = i % ${u32Lit(inner)};`,
    "var acc = in0[i];",
    `for (var j = 0u; j < ${u32Lit(count)}; j++) {`,
    `  let at = (o * ${u32Lit(count)} + j) * ${u32Lit(inner)} + w;`,
    "  if (in1[at] == k) { acc = acc + in2[at]; }",
    "}",
    "out[i] = acc;",
  ].join("\n");
};

const argsort: OpRenderer = ({ attrs, inputs, use }) => {
  const { axis, descending } = attrs as OpAttrs["argsort"];
  const x = inputs[0]!;
  const [, size, inner] = around(x.shape, axis);
  // Invocation i takes input element j of its line and writes j at its rank: the number of
  // elements that sort before it (stable; NaN after +∞).
  const key = x.dtype === "f32" ? (v: string): string => `select(${v}, f32_bits(0x7f800000u), is_nan(${v}))` : (v: string): string => v;
  const nan = x.dtype === "f32" ? (v: string): string => `is_nan(${v})` : (): string => "false";
  if (x.dtype === "f32") use("is_nan");
  const lt = descending ? ">" : "<";
  return [
    `let o = i / ${u32Lit(size * inner)};`,
    `let j = (i / ${u32Lit(inner)}) % ${u32Lit(size)};`,
    `let w = i % ${u32Lit(inner)};`,
    `let line = o * ${u32Lit(size * inner)} + w;`,
    "let v = in0[i];",
    `let kv = ${key("v")};`,
    "var rank = 0u;",
    `for (var q = 0u; q < ${u32Lit(size)}; q++) {`,
    `  let u = in0[line + q * ${u32Lit(inner)}];`,
    `  let ku = ${key("u")};`,
    // Equal keys (±∞ against NaN included) compare by NaN-ness, then position.
    `  let nu = ${nan("u")};`,
    `  let nv = ${nan("v")};`,
    `  let tie = ku == kv && nu == nv;`,
    `  let before = ku ${lt} kv || (ku == kv && ${descending ? "nu && !nv" : "!nu && nv"}) || (tie && q < j);`,
    "  if (before) { rank++; }",
    "}",
    `out[line + rank * ${u32Lit(inner)}] = i32(j);`,
  ]
    .join("\n");
};

const cast: OpRenderer = ({ attrs, inputs, use }) => {
  const to = (attrs as OpAttrs["cast"]).dtype;
  const from = inputs[0]!.dtype;
  if (from === to) return "out[i] = in0[i];";
  if (to === "f32") return "out[i] = f32(in0[i]);";
  use("to_i32");
  return "out[i] = to_i32(in0[i]);";
};

const constant: OpRenderer = ({ attrs, out }) => `out[i] = ${lit((attrs as OpAttrs["const"]).value, out.dtype)};`;

const literal: OpRenderer = ({ attrs, out }) => {
  const data = (attrs as OpAttrs["literal"]).data;
  if (data.length === 0) return "";
  const values = data.map((v) => lit(v, out.dtype));
  return [`var data = array<${out.dtype}, ${data.length}>(${values.join(", ")});`, "out[i] = data[i];"].join("\n");
};

const iota: OpRenderer = ({ attrs, out }) => {
  const { axis, shape } = attrs as OpAttrs["iota"];
  const stride = stridesOf(shape)[axis]!;
  return `out[i] = ${out.dtype}((i / ${u32Lit(stride)}) % ${u32Lit(shape[axis]!)});`;
};

/** uniform / normal: element i is word i mod 4 of Philox at block i / 4 (runtime/rng/block.ts). */
function random(kind: "uniform" | "normal"): OpRenderer {
  return ({ attrs, use }) => {
    use("philox");
    if (kind === "normal") {
      use("fsin");
      use("fcos");
    }
    const stream = (attrs as OpAttrs["uniform"]).stream;
    const lines = [
      "let seed = bitcast<u32>(in0[0]);",
      "let step = bitcast<u32>(in1[0]);",
      `let words = philox(vec4<u32>(i / 4u, 0u, step, 0u), vec2<u32>(seed, ${u32Lit(stream)}));`,
      "let lane = i % 4u;",
    ];
    if (kind === "uniform") {
      lines.push(`out[i] = f32(words[lane] >> 8u) * ${f32Lit(2 ** -24)};`);
    } else {
      // Box–Muller on the lane's pair (runtime/rng/normal.ts): even lanes take the cosine, odd ones the sine.
      lines.push(
        "let first = lane & 2u;",
        `let u1 = f32((words[first] >> 8u) + 1u) * ${f32Lit(2 ** -24)};`,
        `let u2 = f32(words[first + 1u] >> 8u) * ${f32Lit(2 ** -24)};`,
        "let r = sqrt(0.0f - 2.0f * log(u1));",
        `let theta = ${f32Lit(Math.PI)} * (2.0f * u2 - 1.0f);`,
        "out[i] = select(r * fsin(theta), r * fcos(theta), lane == first);",
      );
    }
    return lines.join("\n");
  };
}

/** The renderer of each op the WebGPU backend supports; `input` and `param` are never kernels. */
export const OP_RENDERERS: Partial<Record<Op, OpRenderer>> = {
  const: constant,
  literal,
  iota,
  uniform: random("uniform"),
  normal: random("normal"),
  ...Object.fromEntries(Object.keys(UNARY_F32).map((op) => [op, unary(op as Op)])),
  ...Object.fromEntries(Object.keys(BINARY).map((op) => [op, binary(op as Op)])),
  where: () => "out[i] = select(in2[i], in1[i], in0[i] != 0i);",
  sum: reduce("sum"),
  max: reduce("max"),
  matmul,
  reshape: () => "out[i] = in0[i];",
  permute,
  expand,
  slice,
  pad,
  concat,
  gather,
  scatter_add: scatterAdd,
  argsort,
  cast,
};
