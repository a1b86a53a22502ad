/**
 * The tensor IR's op set: closed, small, and all in this file.
 *
 * Every layer, mask, objective and optimizer of the language lowers to these
 * primitives, so autodiff (one rule per op), the verifier, the printer and every
 * backend only ever see them. Adding an op means adding it here, to the shape
 * rules (`infer.ts`), to the reference backend (its definition) and to the
 * autodiff table; tests fail until all four know it.
 *
 * Conventions shared by all ops:
 * - Shapes are static. Elementwise ops take operands of identical shapes; the
 *   builder inserts explicit `reshape` + `expand` nodes for NumPy broadcasting,
 *   so the IR itself never broadcasts implicitly (matmul's batch dimensions are
 *   the one exception).
 * - Reductions keep the reduced axes with size 1 (the builder drops them on
 *   request with a `reshape`).
 * - Comparisons produce `i32` 0/1 values; `where` selects on a nonzero `i32`.
 * - Indices (`gather`, `scatter_add`, `argsort`) are `i32`.
 * - `f32` means "floating point": the reference backend computes it in float64,
 *   the CPU and WebGPU backends in float32.
 */

/** Element types of IR values. */
export type DType = "f32" | "i32";

/** The element types, for iteration and validation. */
export const DTYPES: readonly DType[] = ["f32", "i32"];

/** A static shape: one non-negative integer per axis; `[]` is a scalar. */
export type Shape = readonly number[];

/**
 * The attributes of each op: compile-time data that is not an operand.
 * Leaves carry their own shape and dtype, so an op's type is always a function
 * of its operands' types and its attributes (see `infer.ts`).
 */
export interface OpAttrs {
  // Leaves: values that come from outside or are fixed at build time.
  /** Data fed for each run (a batch of examples, a label, a step's seed). */
  input: { readonly name: string; readonly shape: Shape; readonly dtype: DType };
  /** Persistent state the run reads (and a training step may write back): weights, running statistics, optimizer moments. */
  param: { readonly name: string; readonly shape: Shape; readonly dtype: DType };
  /** One number filling a whole shape. */
  const: { readonly value: number; readonly shape: Shape; readonly dtype: DType };
  /** A tensor of numbers fixed at build time, in row-major order. */
  literal: { readonly data: readonly number[]; readonly shape: Shape; readonly dtype: DType };
  /** 0, 1, 2, … along `axis`, repeated along the other axes. */
  iota: { readonly axis: number; readonly shape: Shape; readonly dtype: DType };

  // Counter-based random numbers (runtime/rng, spec/random.md). Operands: seed
  // and step, i32 scalars read as u32 bits; `stream` tells call sites apart.
  /** Element i (row-major) is the shared generator's uniform in [0, 1) at (seed, stream, step, index i). */
  uniform: { readonly stream: number; readonly shape: Shape };
  /** Element i (row-major) is the shared generator's standard normal at (seed, stream, step, index i). */
  normal: { readonly stream: number; readonly shape: Shape };

  // Elementwise unary.
  neg: Empty;
  exp: Empty;
  log: Empty;
  sqrt: Empty;
  /** 1 / x. */
  recip: Empty;
  tanh: Empty;
  /** 1 / (1 + exp(−x)). */
  sigmoid: Empty;
  /** The error function (for exact GELU). */
  erf: Empty;
  abs: Empty;
  /** −1, 0 or 1. */
  sign: Empty;
  /** max(x, 0). */
  relu: Empty;
  sin: Empty;
  cos: Empty;
  /** The identity, through which no gradient flows (stop-gradient). */
  detach: Empty;

  // Elementwise binary (operands of one shape and dtype).
  add: Empty;
  sub: Empty;
  mul: Empty;
  /** Float division; on i32, division truncating toward zero (x / 0 is x, as in WGSL). */
  div: Empty;
  maximum: Empty;
  minimum: Empty;
  /** a^b (floats only). */
  pow: Empty;
  /** 1 where a < b, else 0, as i32. */
  cmplt: Empty;
  /** 1 where a == b, else 0, as i32. */
  cmpeq: Empty;

  // Elementwise ternary.
  /** where(cond, a, b): a where cond ≠ 0, else b. */
  where: Empty;

  // Reductions over axes (kept with size 1).
  sum: { readonly axes: readonly number[] };
  /** Maximum over axes; over an empty axis, −∞ (f32) or −2^31 (i32). */
  max: { readonly axes: readonly number[] };

  // Contraction.
  /** [..., m, k] × [..., k, n] → [..., m, n]; batch dimensions broadcast (NumPy rules). */
  matmul: Empty;

  // Movement.
  /** Same elements in row-major order, new shape. */
  reshape: { readonly shape: Shape };
  /** Output axis i is input axis perm[i]. */
  permute: { readonly perm: readonly number[] };
  /** Repeats size-1 axes to `shape` (same rank). */
  expand: { readonly shape: Shape };
  /** Per axis, elements start, start+step, … below end (0 ≤ start ≤ end ≤ size, step ≥ 1). */
  slice: { readonly starts: readonly number[]; readonly ends: readonly number[]; readonly steps: readonly number[] };
  /** Per axis, `lo` values before, `hi` after and `interior` between elements, all equal to `value`. */
  pad: {
    readonly lo: readonly number[];
    readonly hi: readonly number[];
    readonly interior: readonly number[];
    readonly value: number;
  };
  /** Operands joined along `axis` (any number ≥ 1 of operands). */
  concat: { readonly axis: number };

  // Indexing along one axis.
  /** gather(x, idx): out[…, j, …] = x[…, idx[…, j, …], …] along `axis` (PyTorch `gather`). */
  gather: { readonly axis: number };
  /** scatter_add(target, idx, updates): target with updates[…, j, …] added at target[…, idx[…, j, …], …]. */
  scatter_add: { readonly axis: number };

  // Sorting.
  /** The indices that sort x along `axis`; stable (ties keep their order), ascending unless `descending`. */
  argsort: { readonly axis: number; readonly descending: boolean };

  // Conversion.
  /** f32 → i32 truncates toward zero and saturates at the i32 range (NaN → 0), as WGSL does; i32 → f32 is exact in float64. */
  cast: { readonly dtype: DType };
}

/** The attributes of an op that has none. */
export type Empty = Readonly<Record<string, never>>;

/** An op name. */
export type Op = keyof OpAttrs;

/** The families of ops; passes and backends usually switch on these. */
export type OpGroup =
  | "leaf"
  | "random"
  | "unary"
  | "binary"
  | "ternary"
  | "reduce"
  | "matmul"
  | "movement"
  | "index"
  | "sort"
  | "cast";

/** What every pass needs to know about an op without looking at its rule. */
export interface OpInfo {
  readonly group: OpGroup;
  /** The number of operands, or "variadic" (one or more). */
  readonly arity: number | "variadic";
  /** True when the op is defined on f32 values only. */
  readonly floatOnly: boolean;
}

function info<G extends OpGroup>(group: G, arity: number | "variadic", floatOnly = false): OpInfo & { readonly group: G } {
  return { group, arity, floatOnly };
}

/** The op table: every op with its group, arity and dtype restriction. */
export const OPS = {
  input: info("leaf", 0),
  param: info("leaf", 0),
  const: info("leaf", 0),
  literal: info("leaf", 0),
  iota: info("leaf", 0),

  uniform: info("random", 2),
  normal: info("random", 2),

  neg: info("unary", 1),
  exp: info("unary", 1, true),
  log: info("unary", 1, true),
  sqrt: info("unary", 1, true),
  recip: info("unary", 1, true),
  tanh: info("unary", 1, true),
  sigmoid: info("unary", 1, true),
  erf: info("unary", 1, true),
  abs: info("unary", 1),
  sign: info("unary", 1),
  relu: info("unary", 1),
  sin: info("unary", 1, true),
  cos: info("unary", 1, true),
  detach: info("unary", 1),

  add: info("binary", 2),
  sub: info("binary", 2),
  mul: info("binary", 2),
  div: info("binary", 2),
  maximum: info("binary", 2),
  minimum: info("binary", 2),
  pow: info("binary", 2, true),
  cmplt: info("binary", 2),
  cmpeq: info("binary", 2),

  where: info("ternary", 3),

  sum: info("reduce", 1),
  max: info("reduce", 1),

  matmul: info("matmul", 2, true),

  reshape: info("movement", 1),
  permute: info("movement", 1),
  expand: info("movement", 1),
  slice: info("movement", 1),
  pad: info("movement", 1),
  concat: info("movement", "variadic"),

  gather: info("index", 2),
  scatter_add: info("index", 3),

  argsort: info("sort", 1),

  cast: info("cast", 1),
} satisfies { readonly [O in Op]: OpInfo };

/** Every op, in table order. */
export const ALL_OPS: readonly Op[] = Object.keys(OPS) as Op[];

/** The ops of one group, in table order. */
export function opsIn(group: OpGroup): Op[] {
  return ALL_OPS.filter((op) => OPS[op].group === group);
}

/**
 * Whether `op` is in `group`: code that handles a whole family asks this
 * rather than listing the family's ops, so an op added to the table cannot be
 * missed there.
 */
export function isOpOf<G extends OpGroup>(op: Op, group: G): op is OpOfGroup<G> {
  return OPS[op].group === group;
}

/** The ops of group `G`, as a type. */
export type OpOfGroup<G extends OpGroup> = { [O in Op]: (typeof OPS)[O]["group"] extends G ? O : never }[Op];
/** Unary elementwise op names. */
export type UnaryOp = OpOfGroup<"unary">;
/** Binary elementwise op names. */
export type BinaryOp = OpOfGroup<"binary">;
/** Reduction op names. */
export type ReduceOp = OpOfGroup<"reduce">;
/** Leaf op names (no operands). */
export type LeafOp = OpOfGroup<"leaf">;
/** Random op names. */
export type RandomOp = OpOfGroup<"random">;
/** Movement op names. */
export type MovementOp = OpOfGroup<"movement">;

/** True when `op` is a known op name (for reading IR from outside, e.g. JSON). */
export function isOp(op: string): op is Op {
  return Object.prototype.hasOwnProperty.call(OPS, op);
}
