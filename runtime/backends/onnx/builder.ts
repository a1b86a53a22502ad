/**
 * The ONNX graph under construction: nodes in order, initializers, and names
 * that never collide with the graph's own input, param and output names
 * (internal values are `$7`, `$7.1`; a repr name never starts with `$`, and
 * names that do are still avoided).
 *
 * It also turns repr's numbers into ONNX tensors. A number polynomial in the
 * batch size B (a `BatchNumber`) becomes a small computation on B, which the
 * graph reads off the shape of one of its inputs, so that one file serves
 * every batch size; plain numbers become initializers.
 */
import { isBatchPoly, type BatchNumber } from "../../ir/batch-graph.js";
import { ElemType, int, ints, type ElemTypeCode, type OnnxAttrValue, type OnnxNode, type OnnxTensor } from "./model.js";

/** Where a graph can read B: the name of an input and an axis whose size is c0 + c1·B. */
export interface BatchSource {
  readonly input: string;
  readonly axis: number;
  readonly c0: number;
  readonly c1: number;
}

/** Builds one ONNX graph's nodes and initializers. */
export class OnnxBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly taken: Set<string>;
  private counter = 0;
  private readonly constants = new Map<string, string>();
  private readonly polys = new Map<string, string>();
  private batchValue: string | null = null;
  /** For an i32 0/1 value cast from a boolean: that boolean, so `where` reads it without casting back. */
  readonly booleans = new Map<string, string>();

  constructor(
    /** Names the graph's inputs and outputs use, which internal names avoid. */
    reserved: Iterable<string>,
    /** Where B comes from, or null when every number is plain. */
    private readonly batch: BatchSource | null,
  ) {
    this.taken = new Set(reserved);
  }

  /** A fresh internal value name. */
  fresh(hint = ""): string {
    let name: string;
    do name = `$${this.counter++}${hint ? `.${hint}` : ""}`;
    while (this.taken.has(name));
    this.taken.add(name);
    return name;
  }

  /** Adds a node of one output and returns that output's name (fresh unless given). */
  node(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, OnnxAttrValue>> = {}, output?: string): string {
    const out = output ?? this.fresh();
    this.nodes.push({ opType, inputs, outputs: [out], name: `${opType}${this.nodes.length}`, attrs });
    return out;
  }

  /** Adds a node with several outputs (`TopK`); returns their names. */
  nodeN(opType: string, inputs: readonly string[], outputs: number, attrs: Readonly<Record<string, OnnxAttrValue>> = {}): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh());
    this.nodes.push({ opType, inputs, outputs: outs, name: `${opType}${this.nodes.length}`, attrs });
    return outs;
  }

  /** An initializer holding `data` (shared with any equal one made before). */
  constant(elemType: ElemTypeCode, dims: readonly number[], data: readonly number[] | Float32Array | Int32Array): string {
    const key = `${elemType}|${dims.join(",")}|${Array.from(data, (x) => (Object.is(x, -0) ? "-0" : String(x))).join(",")}`;
    const known = data.length <= 64 ? this.constants.get(key) : undefined;
    if (known !== undefined) return known;
    const name = this.fresh("c");
    this.initializers.push({ name, elemType, dims: [...dims], data: typedData(elemType, data) });
    if (data.length <= 64) this.constants.set(key, name);
    return name;
  }

  /** A scalar constant of `elemType` (rank 0). */
  scalar(elemType: ElemTypeCode, value: number): string {
    return this.constant(elemType, [], [value]);
  }

  /** An int64 1-D tensor of `numbers`, computed from B where one is a polynomial. */
  int64s(numbers: readonly BatchNumber[]): string {
    if (numbers.every((n) => !isBatchPoly(n))) return this.constant(ElemType.INT64, [numbers.length], numbers as number[]);
    // Runs of plain numbers stay one initializer; each polynomial is its own [1] tensor.
    const parts: string[] = [];
    let run: number[] = [];
    const flush = (): void => {
      if (run.length > 0) parts.push(this.constant(ElemType.INT64, [run.length], run));
      run = [];
    };
    for (const n of numbers) {
      if (isBatchPoly(n)) {
        flush();
        parts.push(this.poly(n.B));
      } else run.push(n);
    }
    flush();
    return parts.length === 1 ? parts[0]! : this.node("Concat", parts, { axis: int(0) });
  }

  /** An int64 scalar (rank 0) holding `n`. */
  int64Scalar(n: BatchNumber): string {
    if (!isBatchPoly(n)) return this.scalar(ElemType.INT64, n);
    return this.node("Reshape", [this.poly(n.B), this.constant(ElemType.INT64, [0], [])]);
  }

  /** c0 + c1·B + c2·B² as an int64 [1] tensor. */
  private poly(c: readonly number[]): string {
    const key = c.join(",");
    const known = this.polys.get(key);
    if (known !== undefined) return known;
    const b = this.batchSize();
    const k = (x: number): string => this.constant(ElemType.INT64, [1], [x]);
    const [c0 = 0, c1 = 0, c2 = 0] = c;
    let acc: string | null = null;
    const add = (term: string): void => {
      acc = acc === null ? term : this.node("Add", [acc, term]);
    };
    if (c2 !== 0) add(this.node("Mul", [this.node("Mul", [b, b]), k(c2)]));
    if (c1 !== 0) add(c1 === 1 ? b : this.node("Mul", [b, k(c1)]));
    if (c0 !== 0 || acc === null) add(k(c0));
    this.polys.set(key, acc!);
    return acc!;
  }

  /** B as an int64 [1] tensor, read off the batch source's input shape. */
  private batchSize(): string {
    if (this.batchValue !== null) return this.batchValue;
    if (this.batch === null) throw new Error("internal: a number depends on the batch size, but no input of the graph gives B");
    const { input, axis, c0, c1 } = this.batch;
    let b = this.node("Shape", [input], { start: int(axis), end: int(axis + 1) });
    if (c0 !== 0) b = this.node("Sub", [b, this.constant(ElemType.INT64, [1], [c0])]);
    if (c1 !== 1) b = this.node("Div", [b, this.constant(ElemType.INT64, [1], [c1])]);
    this.batchValue = b;
    return b;
  }
}

/** Typed elements of an initializer. */
function typedData(elemType: ElemTypeCode, data: readonly number[] | Float32Array | Int32Array): OnnxTensor["data"] {
  switch (elemType) {
    case ElemType.FLOAT:
      return Float32Array.from(data);
    case ElemType.INT32:
      return Int32Array.from(data);
    case ElemType.INT64:
      return BigInt64Array.from(Array.from(data, (x) => BigInt(x)));
    case ElemType.BOOL:
      return Uint8Array.from(data, (x) => (x !== 0 ? 1 : 0));
  }
}

/** Attribute helpers re-exported for op rules. */
export { int, ints };
