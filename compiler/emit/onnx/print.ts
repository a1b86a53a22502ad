/**
 * The dumb half of the ONNX emitter: each described model (describe.ts) as
 * the bytes of an ONNX file, through protobufjs (runtime/backends/onnx/proto.ts).
 */
import { encodeOnnxModel, type ProtobufLight } from "../../../runtime/backends/onnx/index.js";
import type { OnnxFile } from "./describe.js";

/** Each file's bytes, by file name, in order. */
export function printOnnx(protobuf: ProtobufLight, files: readonly OnnxFile[], producerVersion: string): [string, Uint8Array][] {
  return files.map((f) => [f.file, encodeOnnxModel(protobuf, f.model, producerVersion)]);
}
