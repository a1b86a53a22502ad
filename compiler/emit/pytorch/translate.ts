/**
 * A graph as the body of a Python function over PyTorch tensors: one line
 * per IR node, `v7 = torch.matmul(v3, v5)`, from one table of rules (one
 * per IR op; an op without one is an error naming it, as for ONNX). Only
 * the nodes the chosen outputs need are written.
 *
 * The body's names, which the function around it provides:
 * - `F` the float dtype (the module's: float32, or float64 after `.double()`),
 *   `I` the integer dtype (int64: IR i32 values, as PyTorch indexes with them),
 *   `T` the module's tensors by repr name, `B` the batch size (when a number
 *   depends on it), `R` the runtime helpers (repr_runtime.py: the
 *   counter-based generator, truncating division, saturating casts,
 *   interior padding), `offset` the index of the batch's first example in the
 *   global batch (0 outside distributed training);
 * - each graph input, by the expression `inputs` gives.
 * Random draws call `R.uniform` / `R.normal`: repr's Philox draws, element i
 * at (seed, stream, step, i). A draw whose first axis is the batch is offset
 * by `offset` examples, so that each rank of a distributed run draws the
 * rows a single process would draw for the same examples.
 */
import { isBatchPoly, type BatchNumber } from "../../../runtime/ir/batch-graph.js";
import type { Op } from "../../../runtime/ir/ops.js";
import type { SourceGraph, SourceNode } from "../../../runtime/backends/onnx/source.js";
import { pyFloat, pyInt } from "./python.js";

/** A graph or plan the PyTorch target cannot write (an op without a rule, a tensor name no state_dict key can be). */
export class PytorchExportError extends Error {
  override readonly name = "PytorchExportError";
}

/** A rule: the Python expression of one node from its operands' expressions. */
type Rule = (n: SourceNode, a: (k: number) => string, ctx: RuleContext) => string;

interface RuleContext {
  /** The node's operands. */
  readonly args: readonly SourceNode[];
  /** A graph leaf's expression (an input or a tensor). */
  leaf(n: SourceNode): string;
}

/** A batch number as a Python int expression. */
export function pyDim(n: BatchNumber): string {
  if (!isBatchPoly(n)) return pyInt(n);
  const [c0 = 0, c1 = 0, c2 = 0] = n.B;
  const terms = [c2 !== 0 ? `${c2}*B*B` : "", c1 !== 0 ? (c1 === 1 ? "B" : `${c1}*B`) : "", c0 !== 0 ? pyInt(c0) : ""].filter(Boolean);
  return `(${terms.join(" + ") || "0"})`;
}

const shapeOf = (dims: readonly BatchNumber[]): string => `(${dims.map(pyDim).join(", ")}${dims.length === 1 ? "," : ""})`;
const dtypeOf = (n: SourceNode): string => (n.dtype === "f32" ? "F" : "I");
const attr = <T>(n: SourceNode, key: string): T => n.attrs[key] as T;
const numberOf = (n: SourceNode, v: BatchNumber): string => (isBatchPoly(v) ? pyDim(v) : n.dtype === "f32" ? pyFloat(v) : pyInt(v));
const fn = (name: string): Rule => (_n, a) => `${name}(${a(0)})`;
const op2 = (symbol: string): Rule => (_n, a) => `(${a(0)} ${symbol} ${a(1)})`;

/** The rule of every IR op. */
export const TORCH_RULES: { readonly [O in Op]: Rule } = {
  input: (n, _a, c) => c.leaf(n),
  param: (n, _a, c) => c.leaf(n),
  const: (n) => `torch.full(${shapeOf(n.shape)}, ${numberOf(n, attr<BatchNumber>(n, "value"))}, dtype=${dtypeOf(n)})`,
  literal: (n) => `torch.tensor([${attr<number[]>(n, "data").map((x) => (n.dtype === "f32" ? pyFloat(x) : pyInt(x))).join(", ")}], dtype=${dtypeOf(n)}).reshape(${shapeOf(n.shape)})`,
  iota: (n) => {
    const axis = attr<number>(n, "axis");
    const line = n.shape.map((d, i) => (i === axis ? d : 1));
    return `torch.arange(${pyDim(n.shape[axis]!)}, dtype=${dtypeOf(n)}).reshape(${shapeOf(line)}).expand(${shapeOf(n.shape)})`;
  },
  uniform: (n, a) => draw("uniform", n, a),
  normal: (n, a) => draw("normal", n, a),

  neg: (_n, a) => `(-${a(0)})`,
  exp: fn("torch.exp"),
  log: fn("torch.log"),
  sqrt: fn("torch.sqrt"),
  recip: fn("torch.reciprocal"),
  tanh: fn("torch.tanh"),
  sigmoid: fn("torch.sigmoid"),
  erf: fn("torch.erf"),
  abs: fn("torch.abs"),
  sign: fn("torch.sign"),
  relu: fn("torch.relu"),
  sin: fn("torch.sin"),
  cos: fn("torch.cos"),
  detach: (_n, a) => `${a(0)}.detach()`,

  add: op2("+"),
  sub: op2("-"),
  mul: op2("*"),
  div: (n, a) => (n.dtype === "f32" ? `(${a(0)} / ${a(1)})` : `R.idiv(${a(0)}, ${a(1)})`),
  maximum: (_n, a) => `torch.maximum(${a(0)}, ${a(1)})`,
  minimum: (_n, a) => `torch.minimum(${a(0)}, ${a(1)})`,
  pow: (_n, a) => `torch.pow(${a(0)}, ${a(1)})`,
  cmplt: (_n, a) => `(${a(0)} < ${a(1)}).to(I)`,
  cmpeq: (_n, a) => `(${a(0)} == ${a(1)}).to(I)`,

  where: (_n, a) => `torch.where(${a(0)} != 0, ${a(1)}, ${a(2)})`,

  sum: (n, a) => {
    const axes = attr<number[]>(n, "axes");
    return axes.length === 0 ? a(0) : `${a(0)}.sum(dim=(${axes.join(", ")},), keepdim=True)`;
  },
  max: (n, a) => {
    const axes = attr<number[]>(n, "axes");
    return axes.length === 0 ? a(0) : `torch.amax(${a(0)}, dim=(${axes.join(", ")},), keepdim=True)`;
  },

  matmul: (_n, a) => `torch.matmul(${a(0)}, ${a(1)})`,

  reshape: (n, a) => `${a(0)}.reshape(${shapeOf(attr<BatchNumber[]>(n, "shape"))})`,
  permute: (n, a) => `${a(0)}.permute(${attr<number[]>(n, "perm").join(", ")}${attr<number[]>(n, "perm").length === 1 ? "," : ""})`,
  expand: (n, a) => `${a(0)}.expand(${shapeOf(attr<BatchNumber[]>(n, "shape"))})`,
  slice: (n, a) => {
    const [starts, ends, steps] = [attr<BatchNumber[]>(n, "starts"), attr<BatchNumber[]>(n, "ends"), attr<number[]>(n, "steps")];
    return `${a(0)}[${starts.map((s, i) => `${pyDim(s)}:${pyDim(ends[i]!)}:${pyInt(steps[i]!)}`).join(", ")}${starts.length === 0 ? "()" : ""}]`;
  },
  pad: (n, a) => {
    const list = (key: string): string => `[${attr<BatchNumber[]>(n, key).map(pyDim).join(", ")}]`;
    return `R.pad(${a(0)}, ${list("lo")}, ${list("hi")}, ${list("interior")}, ${numberOf(n, attr<number>(n, "value"))})`;
  },
  concat: (n, a) => `torch.cat([${n.inputs.map((_, k) => a(k)).join(", ")}], dim=${attr<number>(n, "axis")})`,

  gather: (n, a) => `torch.gather(${a(0)}, ${attr<number>(n, "axis")}, ${a(1)})`,
  scatter_add: (n, a) => `${a(0)}.scatter_add(${attr<number>(n, "axis")}, ${a(1)}, ${a(2)})`,

  argsort: (n, a) => `torch.sort(${a(0)}, dim=${attr<number>(n, "axis")}, descending=${attr<boolean>(n, "descending") ? "True" : "False"}, stable=True).indices`,

  cast: (n, a, c) => (c.args[0]!.dtype === n.dtype ? a(0) : n.dtype === "f32" ? `${a(0)}.to(F)` : `R.to_int(${a(0)})`),
};

/** A draw: repr's generator at (seed, stream, step), offset by the examples before this batch when its first axis is the batch. */
function draw(kind: "uniform" | "normal", n: SourceNode, a: (k: number) => string): string {
  const first = n.shape[0];
  const perExample = n.shape.slice(1);
  const batchLeading = first !== undefined && isBatchPoly(first) && first.B.length === 2 && first.B[0] === 0 && first.B[1] === 1 && !perExample.some(isBatchPoly);
  const offset = batchLeading ? `offset * ${perExample.length === 0 ? "1" : perExample.map(pyDim).join(" * ")}` : "0";
  return `R.${kind}(${a(0)}, ${pyInt(attr<number>(n, "stream"))}, ${a(1)}, ${shapeOf(n.shape)}, ${offset}, F)`;
}

/** A translated body: its lines and each chosen output's expression. */
export interface TorchBody {
  readonly lines: readonly string[];
  readonly outputs: ReadonlyMap<string, string>;
  /** Whether a line reads `B`. */
  readonly usesBatch: boolean;
}

/** The body computing `outputs` (names of the source's outputs) of `source`. */
export function translateTorch(source: SourceGraph, outputs: readonly string[], leaf: (n: SourceNode) => string): TorchBody {
  const { nodes } = source;
  const chosen = outputs.map((name) => {
    const o = source.outputs.find((x) => x.name === name);
    if (!o) throw new Error(`internal: the graph has no output '${name}'`);
    return o;
  });
  const need = new Array<boolean>(nodes.length).fill(false);
  for (const o of chosen) need[o.node] = true;
  for (let i = nodes.length - 1; i >= 0; i--) if (need[i]) for (const j of nodes[i]!.inputs) need[j] = true;
  const expr = new Array<string>(nodes.length);
  const lines: string[] = [];
  nodes.forEach((n, i) => {
    if (!need[i]) return;
    const rule = (TORCH_RULES as Readonly<Record<string, Rule | undefined>>)[n.op];
    if (rule === undefined || !Object.prototype.hasOwnProperty.call(TORCH_RULES, n.op)) {
      throw new PytorchExportError(`the IR op '${n.op}' has no PyTorch translation yet (add it to compiler/emit/pytorch/translate.ts)`);
    }
    const e = rule(n, (k) => expr[n.inputs[k]!]!, { args: n.inputs.map((j) => nodes[j]!), leaf });
    if (n.op === "input" || n.op === "param") expr[i] = e;
    else {
      lines.push(`v${i} = ${e}`);
      expr[i] = `v${i}`;
    }
  });
  return { lines, outputs: new Map(chosen.map((o) => [o.name, expr[o.node]!])), usesBatch: lines.some((l) => /\bB\b/.test(l)) };
}
