/**
 * A source graph (source.ts) as an ONNX model (model.ts): the one
 * translation both the `onnx` backend (kernel graphs, fixed sizes) and
 * `repr compile --target onnx` (batch graphs, B symbolic) use.
 *
 * It decides, before anything is written:
 * - **Graph inputs:** every `input` leaf under its own name; every `param`
 *   too, or an initializer holding its value when weights are given; every
 *   random draw (`uniform`, `normal`) as an input named `draw/KIND/STREAM`,
 *   which the runtime fills from the counter-based generator (spec/random.md)
 *   and `draws` describes. A draw's seed and step must be graph inputs or
 *   constants.
 * - **Broadcasts left to ONNX:** an elementwise operand that is an `expand`
 *   (or a `const`) is read un-expanded (as a scalar) wherever ONNX's
 *   broadcasting gives the node the same shape, so a bias or a constant is
 *   never materialized at full size. This rewrite keeps every number: it only
 *   skips copies.
 * - **Dead code:** only what the outputs need is written (a skipped expand
 *   is not written at all).
 * - **Transposes** are composed or moved onto matmul operands first
 *   (simplify.ts).
 * Then each node's rule (ops.ts) writes its nodes, and every output is the
 * node computing it, renamed (an `Identity` where two outputs share a value
 * or an output is an input).
 *
 * Invariant: the model's inputs, in order, are the source's inputs and
 * params (those not given as weights) and then the draws; its outputs are
 * the source's, in order, with the source's names.
 */
import { isBatchPoly, type BatchNumber } from "../../ir/batch-graph.js";
import { OnnxBuilder, type BatchSource } from "./builder.js";
import { elemTypeOf, type OnnxDim, type OnnxModel, type OnnxValueInfo } from "./model.js";
import { OnnxExportError, onnxRule, type OpContext } from "./ops.js";
import { simplifySource } from "./simplify.js";
import { sameNumber, type SourceGraph, type SourceNode } from "./source.js";

/** Where a draw's seed or step comes from: a graph input's value, or a constant. */
export type DrawOperand = { readonly input: string } | { readonly value: number };

/** A random draw the graph reads as an input: the runtime fills it with the generator's numbers. */
export interface Draw {
  /** The graph input it is fed as. */
  readonly input: string;
  readonly kind: "uniform" | "normal";
  /** The generator's stream (a u32). */
  readonly stream: number;
  readonly seed: DrawOperand;
  readonly step: DrawOperand;
  /** Its shape (dims may be polynomials in B). */
  readonly shape: readonly BatchNumber[];
}

/** How to translate. */
export interface TranslateOptions {
  /** The graph's name inside the model. */
  readonly name: string;
  /** The model's doc string. */
  readonly doc?: string;
  /** Param values to write into the model as initializers; params not here stay graph inputs. */
  readonly weights?: ReadonlyMap<string, Float32Array | Int32Array>;
  /** Extra metadata (key–value strings). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A translated graph: the model and the draws it reads. */
export interface Translation {
  readonly model: OnnxModel;
  readonly draws: readonly Draw[];
}

/** ONNX ops that broadcast their operands NumPy-style (the IR's binary and ternary elementwise ops all map to such ops). */
const BROADCASTING = new Set(["add", "sub", "mul", "div", "maximum", "minimum", "pow", "cmplt", "cmpeq", "where"]);

/** A dim as an ONNX shape dim: the number, or a symbol named after its polynomial (`B`, `2*B+1`). */
export function onnxDim(n: BatchNumber): OnnxDim {
  if (!isBatchPoly(n)) return n;
  const [c0 = 0, c1 = 0, c2 = 0] = n.B;
  const terms: string[] = [];
  if (c2 !== 0) terms.push(c2 === 1 ? "B*B" : `${c2}*B*B`);
  if (c1 !== 0) terms.push(c1 === 1 ? "B" : `${c1}*B`);
  if (c0 !== 0) terms.push(String(c0));
  return terms.join("+").replace(/\+-/g, "-");
}

/** `text` with each lone surrogate replaced by U+FFFD, as UTF-8 encoders must. */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

/** The NumPy broadcast of shapes, or null when they do not broadcast. */
function broadcast(shapes: readonly (readonly BatchNumber[])[]): BatchNumber[] | null {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: BatchNumber[] = [];
  for (let i = 0; i < rank; i++) {
    let d: BatchNumber = 1;
    for (const s of shapes) {
      const e = s[s.length - rank + i] ?? 1;
      if (e === 1) continue;
      if (d === 1) d = e;
      else if (!sameNumber(d, e)) return null;
    }
    out.push(d);
  }
  return out;
}

/** The shape a node's compact form has: an expand's operand's, a const's scalar; null when it has none. */
function compactShape(nodes: readonly SourceNode[], n: SourceNode): readonly BatchNumber[] | null {
  if (n.op === "expand") return nodes[n.inputs[0]!]!.shape;
  if (n.op === "const") return [];
  return null;
}

/**
 * Whether the index operand of a `gather` or `scatter_add` on axis 0 is one
 * row index per example spread along the other axes (an `expand` of an
 * [N, 1, …, 1] tensor) over rows as long as the data's: an embedding's
 * lookup and its gradient, which ONNX's row ops (`Gather`, `ScatterND`) do a
 * row at a time rather than an element at a time.
 */
export function rowIndexed(nodes: readonly SourceNode[], n: SourceNode): boolean {
  if ((n.op !== "gather" && n.op !== "scatter_add") || n.attrs["axis"] !== 0) return false;
  const idx = nodes[n.inputs[1]!]!;
  if (idx.op !== "expand") return false;
  const rows = nodes[idx.inputs[0]!]!.shape;
  const data = nodes[n.inputs[0]!]!.shape;
  const values = n.op === "gather" ? n.shape : nodes[n.inputs[2]!]!.shape;
  return rows.slice(1).every((d) => d === 1) && values.length === data.length && values.slice(1).every((d, k) => sameNumber(d, data[k + 1]!));
}

/** Which operands of each elementwise node (and each row-indexed gather or scatter) are read in compact form. */
function compactOperands(nodes: readonly SourceNode[]): Map<number, boolean[]> {
  const choice = new Map<number, boolean[]>();
  nodes.forEach((n, i) => {
    if (rowIndexed(nodes, n)) choice.set(i, n.inputs.map((_, k) => k === 1));
    if (!BROADCASTING.has(n.op)) return;
    const shapes = n.inputs.map((j) => nodes[j]!.shape);
    const compact = n.inputs.map(() => false);
    n.inputs.forEach((j, k) => {
      const small = compactShape(nodes, nodes[j]!);
      if (small === null) return;
      const trial = shapes.map((s, m) => (m === k ? small : s));
      const b = broadcast(trial);
      if (b !== null && b.length === n.shape.length && b.every((d, m) => sameNumber(d, n.shape[m]!))) {
        shapes[k] = small;
        compact[k] = true;
      }
    });
    if (compact.some(Boolean)) choice.set(i, compact);
  });
  return choice;
}

/** Where the graph can read B: the first input dim that is c0 + c1·B; null when no number depends on B. */
function batchSource(source: SourceGraph): BatchSource | null {
  for (const n of source.nodes) {
    if (n.op !== "input") continue;
    const k = n.shape.findIndex((d) => isBatchPoly(d) && d.B.length === 2);
    if (k >= 0) {
      const d = n.shape[k] as { B: readonly number[] };
      return { input: n.attrs["name"] as string, axis: k, c0: d.B[0]!, c1: d.B[1]! };
    }
  }
  return null;
}

/** A draw's seed or step operand. */
function drawOperand(nodes: readonly SourceNode[], j: number, what: string): DrawOperand {
  const n = nodes[j]!;
  if (n.op === "input") return { input: n.attrs["name"] as string };
  if (n.op === "const" && typeof n.attrs["value"] === "number") return { value: n.attrs["value"] >>> 0 };
  throw new OnnxExportError(`a random draw's ${what} is computed in the graph (${n.op}); ONNX export needs it to be an input or a constant`);
}

/** Translates `source` into an ONNX model. */
export function translateGraph(given: SourceGraph, options: TranslateOptions): Translation {
  const source = simplifySource(given);
  const { nodes } = source;
  const weights = options.weights ?? new Map<string, Float32Array | Int32Array>();
  const leafName = (n: SourceNode): string => n.attrs["name"] as string;
  const reserved = [...nodes.filter((n) => n.op === "input" || n.op === "param").map(leafName), ...source.outputs.map((o) => o.name)];
  for (const name of reserved) {
    if (name.includes("\0")) throw new OnnxExportError(`the name ${JSON.stringify(name)} holds a NUL character, which ends a name in ONNX Runtime's C API`);
    if (wellFormed(name) !== name) throw new OnnxExportError(`the name ${JSON.stringify(name)} holds a lone surrogate, which UTF-8 (ONNX's strings) cannot hold`);
  }
  const hasPoly = nodes.some((n) => n.shape.some(isBatchPoly));
  const b = new OnnxBuilder(reserved, hasPoly ? batchSource(source) : null);

  // Decide: compact operands, then what the outputs need (full values, compact forms).
  const compact = compactOperands(nodes);
  const users = new Array<number>(nodes.length).fill(0);
  for (const n of nodes) for (const j of n.inputs) users[j]!++;
  for (const o of source.outputs) users[o.node]!++;
  const needFull = new Array<boolean>(nodes.length).fill(false);
  const needCompact = new Array<boolean>(nodes.length).fill(false);
  for (const o of source.outputs) needFull[o.node] = true;
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (needCompact[i] && n.op === "expand") needFull[n.inputs[0]!] = true;
    if (!needFull[i] || n.op === "uniform" || n.op === "normal") continue;
    const c = compact.get(i);
    n.inputs.forEach((j, k) => (c?.[k] ? (needCompact[j] = true) : (needFull[j] = true)));
  }

  // Graph inputs: inputs, params without weights, then draws.
  const inputs: OnnxValueInfo[] = [];
  const draws: Draw[] = [];
  const drawNames = new Set<string>(reserved);
  const drawOf = new Map<number, string>();
  for (const n of nodes) {
    if (n.op === "input" || (n.op === "param" && !weights.has(leafName(n)))) {
      inputs.push({ name: leafName(n), elemType: elemTypeOf(n.dtype), dims: n.shape.map(onnxDim) });
    }
  }
  nodes.forEach((n, i) => {
    if (n.op === "param" && weights.has(leafName(n))) {
      const w = weights.get(leafName(n))!;
      b.initializers.push({ name: leafName(n), elemType: elemTypeOf(n.dtype), dims: n.shape.map((d) => d as number), data: w });
    }
    if ((n.op === "uniform" || n.op === "normal") && needFull[i]) {
      const stream = n.attrs["stream"] as number;
      let name = `draw/${n.op}/${stream}`;
      for (let k = 2; drawNames.has(name); k++) name = `draw/${n.op}/${stream}/${k}`;
      drawNames.add(name);
      drawOf.set(i, name);
      draws.push({ input: name, kind: n.op, stream, seed: drawOperand(nodes, n.inputs[0]!, "seed"), step: drawOperand(nodes, n.inputs[1]!, "step"), shape: n.shape });
      inputs.push({ name, elemType: elemTypeOf("f32"), dims: n.shape.map(onnxDim) });
    }
  });

  // Write: every needed node by its rule, compact forms as asked.
  const full = new Array<string>(nodes.length);
  const small = new Array<string>(nodes.length);
  nodes.forEach((n, i) => {
    if (!needFull[i] && !needCompact[i]) return;
    const forms = compact.get(i);
    const ctx: OpContext = {
      b,
      node: n,
      arg: (k) => (forms?.[k] ? small : full)[n.inputs[k]!]!,
      compact: (k) => forms?.[k] === true,
      argNode: (k) => nodes[n.inputs[k]!]!,
      inputOf: (j, k) => nodes[j]!.inputs[k]!,
      nodeAt: (j) => nodes[j]!,
      fullAt: (j) => {
        if (full[j] === undefined) throw new Error(`internal: node ${j} (${nodes[j]!.op}) was read in full but not written`);
        return full[j]!;
      },
      usersOf: (j) => users[j]!,
      external: () => (n.op === "uniform" || n.op === "normal" ? drawOf.get(i)! : leafName(n)),
    };
    if (needFull[i]) full[i] = onnxRule(n.op)(ctx);
    if (needCompact[i]) {
      if (n.op === "expand") small[i] = full[n.inputs[0]!]!;
      // A const read as a scalar.
      else small[i] = onnxRule("const")({ ...ctx, node: { ...n, shape: [] } });
    }
  });

  // Each output is the node that computes it, renamed; an Identity only where that cannot be
  // (an output that is an input or a constant, or a value two outputs share).
  const producer = new Map<string, number>();
  b.nodes.forEach((n, k) => n.outputs.forEach((o) => producer.set(o, k)));
  const renamed = new Map<string, string>();
  const outputs: OnnxValueInfo[] = source.outputs.map((o) => {
    const n = nodes[o.node]!;
    const value = full[o.node]!;
    if (producer.has(value) && !renamed.has(value) && !b.initializers.some((t) => t.name === value)) renamed.set(value, o.name);
    else b.node("Identity", [renamed.get(value) ?? value], {}, o.name);
    return { name: o.name, elemType: elemTypeOf(n.dtype), dims: n.shape.map(onnxDim) };
  });
  const rename = (name: string): string => renamed.get(name) ?? name;
  // Nodes nothing reads (a comparison's i32 cast that only a `where` needed as a boolean) are left out.
  const read = new Set(outputs.map((o) => o.name));
  const kept: typeof b.nodes = [];
  for (let k = b.nodes.length - 1; k >= 0; k--) {
    const n = b.nodes[k]!;
    const node = { ...n, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename) };
    if (!node.outputs.some((o) => read.has(o))) continue;
    for (const i of node.inputs) read.add(i);
    kept.push(node);
  }
  const graphNodes = kept.reverse();
  const initializers = b.initializers.filter((t) => read.has(t.name));

  const metadata: Record<string, string> = { ...(options.metadata ?? {}) };
  if (draws.length > 0) metadata["repr.draws"] = JSON.stringify(draws);
  return {
    model: {
      graph: { name: options.name, nodes: graphNodes, initializers, inputs, outputs },
      doc: options.doc ?? "",
      metadata,
    },
    draws,
  };
}
