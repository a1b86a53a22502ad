/**
 * An ONNX model as plain data: the subset of `onnx.proto` that repr writes
 * (one graph of nodes, initializers, typed inputs and outputs, opset 17),
 * with JavaScript numbers and typed arrays instead of protobuf types.
 * `translate.ts` makes it from a graph, `proto.ts` encodes it to bytes.
 *
 * Invariant: nothing here depends on a package, so the runtime's browser
 * entry may reach this file; only the encoder needs `protobufjs`.
 */
import type { DType } from "../../ir/ops.js";

/** The ONNX opset repr writes (ai.onnx). */
export const OPSET = 17;

/** The ONNX IR version of opset 17 (ONNX 1.12). */
export const IR_VERSION = 8;

/** ONNX element types repr uses (TensorProto.DataType). */
export const ElemType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;

/** An ONNX element type number. */
export type ElemTypeCode = (typeof ElemType)[keyof typeof ElemType];

/** The ONNX element type of an IR dtype. */
export function elemTypeOf(dtype: DType): ElemTypeCode {
  return dtype === "f32" ? ElemType.FLOAT : ElemType.INT32;
}

/** One dimension of a declared shape: a number, or a named symbol (`B`, `2*B`). */
export type OnnxDim = number | string;

/** A graph input or output: its name, element type and shape. */
export interface OnnxValueInfo {
  readonly name: string;
  readonly elemType: ElemTypeCode;
  readonly dims: readonly OnnxDim[];
  readonly doc?: string;
}

/** A constant tensor (an initializer or an attribute's value). */
export interface OnnxTensor {
  readonly name: string;
  readonly elemType: ElemTypeCode;
  readonly dims: readonly number[];
  /** Row-major elements: Float32Array for FLOAT, Int32Array for INT32, BigInt64Array for INT64, Uint8Array for BOOL. */
  readonly data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
}

/** A node attribute's value. */
export type OnnxAttrValue =
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "ints"; readonly value: readonly number[] }
  | { readonly kind: "tensor"; readonly value: OnnxTensor };

/** One operator application. */
export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly attrs: Readonly<Record<string, OnnxAttrValue>>;
}

/** The graph of a model. */
export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

/** A whole model: the graph, its opset and its metadata (key–value strings). */
export interface OnnxModel {
  readonly graph: OnnxGraph;
  readonly doc: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Attribute constructors, so node tables read `{ axis: int(1) }`. */
export const int = (value: number): OnnxAttrValue => ({ kind: "int", value });
export const float = (value: number): OnnxAttrValue => ({ kind: "float", value });
export const ints = (value: readonly number[]): OnnxAttrValue => ({ kind: "ints", value });
export const str = (value: string): OnnxAttrValue => ({ kind: "string", value });
export const tensor = (value: OnnxTensor): OnnxAttrValue => ({ kind: "tensor", value });
