/** Emitting a compiled model as ONNX files: `describeOnnx` decides, `printOnnx` encodes. */
export { describeOnnx, safeFileName, type OnnxEmitOptions, type OnnxFile } from "./describe.js";
export { printOnnx } from "./print.js";
