/**
 * The ONNX nodes of each IR op: one rule per op of `runtime/ir/ops.ts`, all
 * in this table, so an op added to the IR is one entry here (an op without
 * a rule is an `OnnxExportError` naming it; `test/onnx/ops.test.ts` fails
 * until every op has one).
 *
 * Each rule keeps the op's meaning as the reference backend defines it,
 * where ONNX's own op differs:
 * - integer division truncates toward zero and x / 0 is x (ONNX leaves
 *   division by zero undefined, so the divisor is made nonzero first);
 * - f32 → i32 casts saturate at the i32 range and send NaN to 0;
 * - comparisons give i32 0/1, and `where` selects on a nonzero i32;
 * - `argsort` is stable: `TopK` with `sorted` orders ties by index (ONNX
 *   Runtime's documented tie rule), ascending or descending;
 * - `pad`'s interior padding, which ONNX's `Pad` lacks, spreads each axis
 *   apart: where the axis and those after it are small, by a product with a
 *   constant 0/1 matrix (there
 *   a NaN or ±∞ spreads along its row, and −0 becomes 0: the padding of a
 *   strided slice's gradient, where the loss is already not finite),
 *   otherwise with a reshape, a pad and a slice.
 * Random draws are graph inputs (`translate.ts` decides their names): ONNX
 * has no counter-based generator, so the runtime draws them.
 */
import type { BatchNumber } from "../../ir/batch-graph.js";
import { isBatchPoly } from "../../ir/batch-graph.js";
import type { Op } from "../../ir/ops.js";
import type { OnnxBuilder } from "./builder.js";
import { ElemType, elemTypeOf, int, ints, str, tensor, type ElemTypeCode } from "./model.js";
import type { SourceNode } from "./source.js";

/** A graph cannot be written as ONNX (an op without a rule, a draw whose seed is computed). */
export class OnnxExportError extends Error {
  override readonly name = "OnnxExportError";
}

/** What a rule sees: the builder, the node, and its operands' ONNX names and nodes. */
export interface OpContext {
  readonly b: OnnxBuilder;
  readonly node: SourceNode;
  /** Operand `k`'s ONNX value (in the form the translator chose: possibly un-broadcast). */
  arg(k: number): string;
  /** Operand `k`'s source node. */
  argNode(k: number): SourceNode;
  /** Source node `i`'s index of operand `j` (operands of operands: `c.inputOf(c.node.inputs[k], j)`). */
  inputOf(i: number, j: number): number;
  /** Source node `i`. */
  nodeAt(i: number): SourceNode;
  /** Source node `i`'s full ONNX value (written whenever a node reading it in full is). */
  fullAt(i: number): string;
  /** How many nodes (and graph outputs) read source node `i`. */
  usersOf(i: number): number;
  /** Whether operand `k` is read un-expanded (`arg(k)` is then the expand's operand). */
  compact(k: number): boolean;
  /** The graph input a leaf or a random draw reads. */
  external(): string;
}

/** A rule: adds the nodes of one IR node and returns the ONNX value holding its result. */
export type OpRule = (c: OpContext) => string;

const plain = (n: BatchNumber, what: string): number => {
  if (isBatchPoly(n)) throw new OnnxExportError(`${what} depends on the batch size, which ONNX export does not support here`);
  return n;
};

const attr = <T>(c: OpContext, key: string): T => c.node.attrs[key] as T;
const elem = (c: OpContext): ElemTypeCode => elemTypeOf(c.node.dtype);
const unary = (opType: string): OpRule => (c) => c.b.node(opType, [c.arg(0)]);
const binary = (opType: string): OpRule => (c) => c.b.node(opType, [c.arg(0), c.arg(1)]);
const compare = (opType: string): OpRule => (c) => {
  const bool = c.b.node(opType, [c.arg(0), c.arg(1)]);
  const out = c.b.node("Cast", [bool], { to: int(ElemType.INT32) });
  c.b.booleans.set(out, bool);
  return out;
};
const sameDim = (a: BatchNumber, b: BatchNumber): boolean => JSON.stringify(a) === JSON.stringify(b);
const sameShape = (a: readonly BatchNumber[], b: readonly BatchNumber[]): boolean =>
  a.length === b.length && a.every((d, i) => JSON.stringify(d) === JSON.stringify(b[i]));

/** A batch number times a plain integer. */
const times = (n: BatchNumber, k: number): BatchNumber => (isBatchPoly(n) ? { B: n.B.map((c) => c * k) } : n * k);
/** A batch number plus a plain integer. */
const plus = (n: BatchNumber, k: number): BatchNumber => (isBatchPoly(n) ? { B: n.B.map((c, i) => (i === 0 ? c + k : c)) } : n + k);

/** A constant filling `shape`: a scalar initializer spread by `Expand` (its value may be a polynomial in B). */
function filled(c: OpContext, value: BatchNumber, shape: readonly BatchNumber[]): string {
  const e = elem(c);
  const scalar = isBatchPoly(value) ? c.b.node("Cast", [c.b.int64Scalar(value)], { to: int(e) }) : c.b.scalar(e, value);
  if (shape.length === 0) return scalar;
  if (!isBatchPoly(value) && shape.every((d) => !isBatchPoly(d))) {
    const t = { name: "", elemType: e, dims: [1], data: e === ElemType.FLOAT ? Float32Array.of(value) : Int32Array.of(value) };
    return c.b.node("ConstantOfShape", [c.b.int64s(shape)], { value: tensor(t) });
  }
  return c.b.node("Expand", [scalar, c.b.int64s(shape)]);
}

/** The largest placement matrix `spread` makes (elements): 256 KiB. */
const MAX_PLACEMENT = 1 << 16;
/** The longest axis `spread` places by a product from the left (multiply-adds per element written). */
const MAX_LEFT_PLACEMENT = 64;

/**
 * The value of `x` with its axis `axis` (size `d`) spread apart by `interior`
 * fill values between elements. Where the axis is short (ONNX Runtime's
 * `Pad` goes a short row at a time there), a product with a constant 0/1
 * matrix that places each element, plus the fill where it is not zero:
 * from the left, [total, d] · [d, q] for each leading index, where axes
 * follow (q > 1), else from the right, [d] · [d, total] (d multiply-adds per
 * element written either way). That product also places the axis's own `lo`
 * and `hi` padding (plain, not negative), so no `Pad` follows for this axis
 * (`padded` says whether it did). Otherwise the axis is split in two, the
 * new axis padded, joined and sliced, and `lo` and `hi` are left to the
 * caller. (Through a product, a NaN or ±∞ spreads to the other elements its
 * placement column or row reaches, as the file comment says.)
 */
function spread(
  c: OpContext,
  x: string,
  shape: readonly BatchNumber[],
  axis: number,
  interior: number,
  value: number,
  lo: BatchNumber,
  hi: BatchNumber,
): { x: string; shape: BatchNumber[]; padded: boolean } {
  const d = shape[axis]!;
  if (!isBatchPoly(d) && d <= 1) return { x, shape: [...shape], padded: false };
  const b = c.b;
  const end = plus(times(d, interior + 1), -interior);
  const post = shape.slice(axis + 1);
  const q = post.every((n) => !isBatchPoly(n)) ? (post as number[]).reduce((p, n) => p * n, 1) : null;
  const fits = (rows: BatchNumber): boolean => !isBatchPoly(d) && !isBatchPoly(rows) && q !== null && c.node.dtype === "f32" && d * q * rows * q <= MAX_PLACEMENT;
  // The padding too where it is plain and the matrix stays small; else the spread alone.
  const foldable = !isBatchPoly(lo) && !isBatchPoly(hi) && !isBatchPoly(end) && lo >= 0 && hi >= 0 && fits(lo + end + hi);
  const [before, after] = foldable ? [lo as number, hi as number] : [0, 0];
  const total = isBatchPoly(end) ? end : before + end + after;
  const plainPad = !isBatchPoly(lo) && !isBatchPoly(hi) && !isBatchPoly(end) && lo >= 0 && hi >= 0;
  if (q !== null && q > 1 && !isBatchPoly(d) && d <= MAX_LEFT_PLACEMENT && !isBatchPoly(end) && c.node.dtype === "f32") {
    // Row before + j·(interior + 1) of the [rows, d] placement picks element j of the axis.
    const [first, last] = plainPad ? [lo as number, hi as number] : [0, 0];
    const rows = first + (end as number) + last;
    const out = [...shape.slice(0, axis), rows, ...post];
    const place = new Float32Array(rows * d);
    for (let j = 0; j < d; j++) place[(first + j * (interior + 1)) * d + j] = 1;
    let y = b.node("MatMul", [b.constant(ElemType.FLOAT, [rows, d], place), b.node("Reshape", [x, b.int64s([-1, d, q])])]);
    const placed = (row: number): boolean => row >= first && row < first + (end as number) && (row - first) % (interior + 1) === 0;
    if (value !== 0) y = b.node("Add", [y, b.constant(ElemType.FLOAT, [rows, 1], Array.from({ length: rows }, (_, r) => (placed(r) ? 0 : value)))]);
    return { x: b.node("Reshape", [y, b.int64s(out)]), shape: out, padded: first === lo && last === hi };
  }
  if (q !== null && !isBatchPoly(d) && !isBatchPoly(total) && !isBatchPoly(end) && fits(total)) {
    // Element (j, k) of the [d, q] block after the leading axes goes to (before + j·(interior + 1), k) of [total, q].
    const out = [...shape.slice(0, axis), total, ...post];
    const [rows, cols] = [d * q, total * q];
    const place = new Float32Array(rows * cols);
    for (let j = 0; j < d; j++) for (let k = 0; k < q; k++) place[(j * q + k) * cols + (before + j * (interior + 1)) * q + k] = 1;
    const placed = (row: number): boolean => row >= before && row < before + (end as number) && (row - before) % (interior + 1) === 0;
    let y = b.node("MatMul", [b.node("Reshape", [x, b.int64s([-1, rows])]), b.constant(ElemType.FLOAT, [rows, cols], place)]);
    if (value !== 0) y = b.node("Add", [y, b.constant(ElemType.FLOAT, [cols], Array.from({ length: cols }, (_, k) => (placed(Math.floor(k / q)) ? 0 : value)))]);
    return { x: b.node("Reshape", [y, b.int64s(out)]), shape: out, padded: before === lo && after === hi };
  }
  const out = [...shape.slice(0, axis), end, ...post];
  const split = [...shape.slice(0, axis), d, 1, ...post];
  const pads = [...split.map(() => 0), ...split.map((_, i) => (i === axis + 1 ? interior : 0))];
  const padded = b.node("Pad", [b.node("Reshape", [x, b.int64s(split)]), b.int64s(pads), b.scalar(elem(c), value)]);
  const flat = b.node("Reshape", [padded, b.int64s([...shape.slice(0, axis), times(d, interior + 1), ...post])]);
  return { x: b.node("Slice", [flat, b.int64s([0]), b.int64s([end]), b.int64s([axis]), b.int64s([1])]), shape: out, padded: false };
}

/**
 * Operand `k` of a 2-D f32 matmul as a `Gemm` operand: a transpose of a
 * matrix is read untransposed with `transA`/`transB` set, so ONNX Runtime
 * runs no separate copy (MLAS reads either layout); null where the product
 * is not a plain f32 matrix product.
 */
function gemmOperand(c: OpContext, i: number): { name: string; trans: 0 | 1 } {
  const x = c.nodeAt(i);
  if (x.op === "permute" && x.shape.length === 2) return { name: c.fullAt(c.inputOf(i, 0)), trans: 1 };
  return { name: c.fullAt(i), trans: 0 };
}

/** Whether `m`, of operands `a` and `b`, is a product of two f32 matrices. */
const matrixProduct = (m: SourceNode, a: SourceNode, b: SourceNode): boolean => m.op === "matmul" && m.dtype === "f32" && m.shape.length === 2 && a.shape.length === 2 && b.shape.length === 2;

/**
 * `a·b + c` as one `Gemm` (transposed operands read as they are, the bias
 * broadcast by Gemm itself), where one operand of the add is a 2-D f32
 * matmul nothing else reads and the other broadcasts to it as Gemm's `C`
 * must (rank 2 or less, each dim 1 or the product's); null otherwise.
 */
function gemmWithBias(c: OpContext): string | null {
  if (c.node.dtype !== "f32" || c.node.shape.length !== 2) return null;
  for (const k of [0, 1]) {
    const i = c.node.inputs[k]!;
    if (!matrixProduct(c.nodeAt(i), c.nodeAt(c.inputOf(i, 0)), c.nodeAt(c.inputOf(i, 1))) || c.usersOf(i) !== 1) continue;
    const o = 1 - k;
    const other = c.argNode(o);
    const bias = c.compact(o) ? (other.op === "expand" ? c.nodeAt(c.inputOf(c.node.inputs[o]!, 0)).shape : []) : other.shape;
    const out = c.node.shape;
    if (bias.length > 2 || !bias.every((d, m) => d === 1 || sameDim(d, out[out.length - bias.length + m]!))) continue;
    const [a, b] = [gemmOperand(c, c.inputOf(i, 0)), gemmOperand(c, c.inputOf(i, 1))];
    return c.b.node("Gemm", [a.name, b.name, c.arg(o)], { transA: int(a.trans), transB: int(b.trans) });
  }
  return null;
}

/** The rule of every IR op. */
export const ONNX_RULES: { readonly [O in Op]: OpRule } = {
  input: (c) => c.external(),
  param: (c) => c.external(),
  const: (c) => filled(c, attr<BatchNumber>(c, "value"), c.node.shape),
  literal: (c) => c.b.constant(elem(c), c.node.shape.map((d) => plain(d, "a literal's shape")), attr<number[]>(c, "data")),
  iota: (c) => {
    const axis = attr<number>(c, "axis");
    const shape = c.node.shape;
    const e = elem(c);
    const size = shape[axis]!;
    const limit = isBatchPoly(size) ? c.b.node("Cast", [c.b.int64Scalar(size)], { to: int(e) }) : c.b.scalar(e, size);
    const range = c.b.node("Range", [c.b.scalar(e, 0), limit, c.b.scalar(e, 1)]);
    if (shape.length === 1) return range;
    const line = shape.map((d, i) => (i === axis ? d : 1));
    return c.b.node("Expand", [c.b.node("Reshape", [range, c.b.int64s(line)]), c.b.int64s(shape)]);
  },

  uniform: (c) => c.external(),
  normal: (c) => c.external(),

  neg: unary("Neg"),
  exp: unary("Exp"),
  log: unary("Log"),
  sqrt: unary("Sqrt"),
  recip: unary("Reciprocal"),
  tanh: unary("Tanh"),
  sigmoid: unary("Sigmoid"),
  erf: unary("Erf"),
  abs: unary("Abs"),
  sign: unary("Sign"),
  // ONNX Runtime's Relu kernels are float-only; max(x, 0) is the same on i32.
  relu: (c) => (c.node.dtype === "f32" ? c.b.node("Relu", [c.arg(0)]) : c.b.node("Max", [c.arg(0), c.b.scalar(ElemType.INT32, 0)])),
  sin: unary("Sin"),
  cos: unary("Cos"),
  detach: (c) => c.arg(0),

  add: (c) => gemmWithBias(c) ?? c.b.node("Add", [c.arg(0), c.arg(1)]),
  sub: binary("Sub"),
  mul: binary("Mul"),
  div: (c) => {
    if (c.node.dtype === "f32") return c.b.node("Div", [c.arg(0), c.arg(1)]);
    const [x, y] = [c.arg(0), c.arg(1)];
    const zero = c.b.node("Equal", [y, c.b.scalar(ElemType.INT32, 0)]);
    const safe = c.b.node("Where", [zero, c.b.scalar(ElemType.INT32, 1), y]);
    return c.b.node("Where", [zero, x, c.b.node("Div", [x, safe])]);
  },
  maximum: binary("Max"),
  minimum: binary("Min"),
  pow: binary("Pow"),
  cmplt: compare("Less"),
  cmpeq: compare("Equal"),

  // A comparison's boolean is read directly (its i32 cast is left to whoever else reads it).
  where: (c) => c.b.node("Where", [c.b.booleans.get(c.arg(0)) ?? c.b.node("Cast", [c.arg(0)], { to: int(ElemType.BOOL) }), c.arg(1), c.arg(2)]),

  sum: (c) => {
    const axes = attr<number[]>(c, "axes");
    return axes.length === 0 ? c.arg(0) : c.b.node("ReduceSum", [c.arg(0), c.b.int64s(axes)], { keepdims: int(1) });
  },
  max: (c) => {
    const axes = attr<number[]>(c, "axes");
    return axes.length === 0 ? c.arg(0) : c.b.node("ReduceMax", [c.arg(0)], { axes: ints(axes), keepdims: int(1) });
  },

  // A matrix product reads a transposed operand untransposed (`Gemm`'s transA/transB), so no transpose is copied.
  matmul: (c) => {
    const [a, b] = [gemmOperand(c, c.node.inputs[0]!), gemmOperand(c, c.node.inputs[1]!)];
    if (!matrixProduct(c.node, c.argNode(0), c.argNode(1)) || (a.trans === 0 && b.trans === 0)) return c.b.node("MatMul", [c.arg(0), c.arg(1)]);
    return c.b.node("Gemm", [a.name, b.name], { transA: int(a.trans), transB: int(b.trans) });
  },

  reshape: (c) =>
    sameShape(c.argNode(0).shape, c.node.shape) ? c.arg(0) : c.b.node("Reshape", [c.arg(0), c.b.int64s(attr<BatchNumber[]>(c, "shape"))], { allowzero: int(1) }),
  permute: (c) => {
    const perm = attr<number[]>(c, "perm");
    return perm.every((p, i) => p === i) ? c.arg(0) : c.b.node("Transpose", [c.arg(0)], { perm: ints(perm) });
  },
  expand: (c) => (sameShape(c.argNode(0).shape, c.node.shape) ? c.arg(0) : c.b.node("Expand", [c.arg(0), c.b.int64s(attr<BatchNumber[]>(c, "shape"))])),
  slice: (c) => {
    const [starts, ends, steps] = [attr<BatchNumber[]>(c, "starts"), attr<BatchNumber[]>(c, "ends"), attr<number[]>(c, "steps")];
    const dims = c.argNode(0).shape;
    const axes = dims.map((_, i) => i).filter((i) => !(starts[i] === 0 && steps[i] === 1 && JSON.stringify(ends[i]) === JSON.stringify(dims[i])));
    if (axes.length === 0) return c.arg(0);
    const pick = <T>(xs: readonly T[]): T[] => axes.map((i) => xs[i]!);
    return c.b.node("Slice", [c.arg(0), c.b.int64s(pick(starts)), c.b.int64s(pick(ends)), c.b.int64s(axes), c.b.int64s(pick(steps))]);
  },
  pad: (c) => {
    const [lo, hi] = [attr<BatchNumber[]>(c, "lo"), attr<BatchNumber[]>(c, "hi")];
    const interior = attr<BatchNumber[]>(c, "interior").map((n) => plain(n, "interior padding"));
    const value = attr<number>(c, "value");
    let x = { x: c.arg(0), shape: [...c.argNode(0).shape], padded: false };
    const [before, after] = [[...lo], [...hi]];
    interior.forEach((k, axis) => {
      if (k === 0) return;
      x = spread(c, x.x, x.shape, axis, k, value, lo[axis]!, hi[axis]!);
      // The placement did this axis's padding too.
      if (x.padded) [before[axis], after[axis]] = [0, 0];
    });
    if ([...before, ...after].every((n) => n === 0)) return x.x;
    return c.b.node("Pad", [x.x, c.b.int64s([...before, ...after]), c.b.scalar(elem(c), value)], { mode: str("constant") });
  },
  concat: (c) => c.b.node("Concat", c.node.inputs.map((_, k) => c.arg(k)), { axis: int(attr<number>(c, "axis")) }),

  // Row-indexed (translate.ts, `rowIndexed`): one index per row, so whole rows move.
  gather: (c) =>
    c.compact(1)
      ? c.b.node("Gather", [c.arg(0), c.b.node("Reshape", [c.arg(1), c.b.int64s([-1])])], { axis: int(0) })
      : c.b.node("GatherElements", [c.arg(0), c.arg(1)], { axis: int(attr<number>(c, "axis")) }),
  scatter_add: (c) =>
    c.compact(1)
      ? c.b.node("ScatterND", [c.arg(0), c.b.node("Cast", [c.b.node("Reshape", [c.arg(1), c.b.int64s([-1, 1])])], { to: int(ElemType.INT64) }), c.arg(2)], { reduction: str("add") })
      : c.b.node("ScatterElements", [c.arg(0), c.arg(1), c.arg(2)], { axis: int(attr<number>(c, "axis")), reduction: str("add") }),

  argsort: (c) => {
    const axis = attr<number>(c, "axis");
    const k = c.b.int64s([c.node.shape[axis]!]);
    const [, indices] = c.b.nodeN("TopK", [c.arg(0), k], 2, { axis: int(axis), largest: int(attr<boolean>(c, "descending") ? 1 : 0), sorted: int(1) });
    return c.b.node("Cast", [indices!], { to: int(ElemType.INT32) });
  },

  cast: (c) => {
    const from = c.argNode(0).dtype;
    const to = c.node.dtype;
    if (from === to) return c.arg(0);
    if (to === "f32") return c.b.node("Cast", [c.arg(0)], { to: int(ElemType.FLOAT) });
    // Saturate at the i32 range (2147483520 is the largest float32 below 2^31) and send NaN to 0.
    const x = c.arg(0);
    const clipped = c.b.node("Clip", [x, c.b.scalar(ElemType.FLOAT, -2147483648), c.b.scalar(ElemType.FLOAT, 2147483520)]);
    const finite = c.b.node("Where", [c.b.node("IsNaN", [x]), c.b.scalar(ElemType.FLOAT, 0), clipped]);
    return c.b.node("Cast", [finite], { to: int(ElemType.INT32) });
  },
};

/** The rule of `op`; an `OnnxExportError` for an op this table does not know (an IR op added since). */
export function onnxRule(op: string): OpRule {
  const rule = (ONNX_RULES as Readonly<Record<string, OpRule | undefined>>)[op];
  if (rule === undefined || !Object.prototype.hasOwnProperty.call(ONNX_RULES, op)) {
    throw new OnnxExportError(`the IR op '${op}' has no ONNX translation yet (add it to runtime/backends/onnx/ops.ts)`);
  }
  return rule;
}
