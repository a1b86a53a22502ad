/**
 * Whether this machine can run the ONNX checks: the npm packages
 * `onnxruntime-node` and `protobufjs` (optional peers, devDependencies
 * here), and Debian's `python3-onnx` for the checker. Each returns null
 * when available, else the reason a test prints when it skips.
 */
import { spawnSync } from "node:child_process";
import { loadOrt } from "../../runtime/backends/onnx/index.js";
import { loadProtobuf } from "../../runtime/backends/onnx/proto.js";

/** Why the onnx backend cannot run here, or null. */
export async function onnxMissing(): Promise<string | null> {
  try {
    await Promise.all([loadOrt(), loadProtobuf()]);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The Python that has Debian's onnx (and torch): /usr/bin/python3 unless REPR_TORCH_PYTHON says otherwise. */
export const PYTHON = process.env["REPR_TORCH_PYTHON"] ?? "/usr/bin/python3";

/** Why the ONNX checker cannot run here, or null. */
export function checkerMissing(): string | null {
  const r = spawnSync(PYTHON, ["-c", "import onnx, onnx.checker"], { encoding: "utf8" });
  if (r.error) return `${PYTHON} cannot run: ${r.error.message}`;
  return r.status === 0 ? null : `${PYTHON} cannot import onnx (apt-get install python3-onnx)`;
}
