/**
 * Encoding an `OnnxModel` (model.ts) as ONNX's protobuf bytes, with the
 * `protobufjs` package (an optional peer dependency, loaded by the caller).
 *
 * The schema below is the part of `onnx.proto` (ONNX 1.12) that repr
 * writes, with the same message names, field names and field numbers, as
 * protobufjs's JSON form. Tensors carry their elements in `raw_data`
 * (little-endian, as ONNX specifies), which every reader accepts.
 */
import { importOptional } from "../../optional-packages.js";
import { wellFormed } from "./translate.js";
import { IR_VERSION, OPSET, type OnnxAttrValue, type OnnxModel, type OnnxTensor, type OnnxValueInfo } from "./model.js";

const repeated = (type: string, id: number): { rule: "repeated"; type: string; id: number } => ({ rule: "repeated", type, id });
const one = (type: string, id: number): { type: string; id: number } => ({ type, id });

/** The messages of onnx.proto repr uses, with their field numbers. */
export const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: one("string", 1),
            f: one("float", 2),
            i: one("int64", 3),
            s: one("bytes", 4),
            t: one("TensorProto", 5),
            ints: repeated("int64", 8),
            doc_string: one("string", 13),
            type: one("int32", 20),
          },
        },
        ValueInfoProto: { fields: { name: one("string", 1), type: one("TypeProto", 2), doc_string: one("string", 3) } },
        NodeProto: {
          fields: {
            input: repeated("string", 1),
            output: repeated("string", 2),
            name: one("string", 3),
            op_type: one("string", 4),
            attribute: repeated("AttributeProto", 5),
            doc_string: one("string", 6),
            domain: one("string", 7),
          },
        },
        ModelProto: {
          fields: {
            ir_version: one("int64", 1),
            producer_name: one("string", 2),
            producer_version: one("string", 3),
            domain: one("string", 4),
            model_version: one("int64", 5),
            doc_string: one("string", 6),
            graph: one("GraphProto", 7),
            opset_import: repeated("OperatorSetIdProto", 8),
            metadata_props: repeated("StringStringEntryProto", 14),
          },
        },
        StringStringEntryProto: { fields: { key: one("string", 1), value: one("string", 2) } },
        GraphProto: {
          fields: {
            node: repeated("NodeProto", 1),
            name: one("string", 2),
            initializer: repeated("TensorProto", 5),
            doc_string: one("string", 10),
            input: repeated("ValueInfoProto", 11),
            output: repeated("ValueInfoProto", 12),
          },
        },
        TensorProto: {
          fields: {
            dims: repeated("int64", 1),
            data_type: one("int32", 2),
            name: one("string", 8),
            raw_data: one("bytes", 9),
          },
        },
        TensorShapeProto: {
          fields: { dim: repeated("Dimension", 1) },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ["dim_value", "dim_param"] } },
              fields: { dim_value: one("int64", 1), dim_param: one("string", 2) },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ["tensor_type"] } },
          fields: { tensor_type: one("Tensor", 1) },
          nested: { Tensor: { fields: { elem_type: one("int32", 1), shape: one("TensorShapeProto", 2) } } },
        },
        OperatorSetIdProto: { fields: { domain: one("string", 1), version: one("int64", 2) } },
      },
    },
  },
} as const;

/** What this file needs of `protobufjs/light`. */
export interface ProtobufLight {
  readonly Root: { fromJSON(json: unknown): { lookupType(name: string): { encode(message: object): { finish(): Uint8Array } } } };
}

/** AttributeProto.AttributeType numbers. */
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, ints: 7 } as const;

function tensorMessage(t: OnnxTensor): object {
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return { name: t.name, dims: [...t.dims], data_type: t.elemType, raw_data: bytes.slice() };
}

function attrMessage(name: string, a: OnnxAttrValue): object {
  const type = ATTR_TYPE[a.kind];
  switch (a.kind) {
    case "int":
      return { name, type, i: a.value };
    case "float":
      return { name, type, f: a.value };
    case "string":
      return { name, type, s: new TextEncoder().encode(a.value) };
    case "ints":
      return { name, type, ints: [...a.value] };
    case "tensor":
      return { name, type, t: tensorMessage(a.value) };
  }
}

function valueInfoMessage(v: OnnxValueInfo): object {
  const dim = v.dims.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d }));
  return { name: v.name, ...(v.doc ? { doc_string: v.doc } : {}), type: { tensor_type: { elem_type: v.elemType, shape: { dim } } } };
}

/** The protobuf message object of `model`, field by field as onnx.proto names them. */
export function modelMessage(model: OnnxModel, producerVersion: string): object {
  const g = model.graph;
  return {
    ir_version: IR_VERSION,
    producer_name: "repr",
    producer_version: producerVersion,
    // Protobuf strings are UTF-8: text from a .repr file (docs, metadata) has its lone surrogates replaced.
    doc_string: wellFormed(model.doc),
    opset_import: [{ domain: "", version: OPSET }],
    metadata_props: Object.entries(model.metadata).map(([key, value]) => ({ key: wellFormed(key), value: wellFormed(value) })),
    graph: {
      name: wellFormed(g.name),
      node: g.nodes.map((n) => ({
        name: n.name,
        op_type: n.opType,
        domain: "",
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.entries(n.attrs).map(([k, a]) => attrMessage(k, a)),
      })),
      initializer: g.initializers.map(tensorMessage),
      input: g.inputs.map(valueInfoMessage),
      output: g.outputs.map(valueInfoMessage),
    },
  };
}

/** The bytes of `model` as an ONNX file. */
export function encodeOnnxModel(protobuf: ProtobufLight, model: OnnxModel, producerVersion = "0"): Uint8Array {
  const type = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType("onnx.ModelProto");
  return type.encode(modelMessage(model, producerVersion)).finish();
}

/** Loads `protobufjs/light`, the encoder (an optional peer dependency: a `MissingPackageError` names it when absent). */
export async function loadProtobuf(): Promise<ProtobufLight> {
  // A computed specifier, so that browser bundlers leave the Node-only package alone.
  const name = "protobufjs/light.js";
  const mod = await importOptional("protobufjs", async () => (await import(name)) as ProtobufLight & { default?: ProtobufLight });
  return mod.default ?? mod;
}
