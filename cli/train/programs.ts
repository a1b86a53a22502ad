/**
 * The backends `repr train` and `repr test` can run on (`--backend`), checked
 * against what the runtime offers: `auto` takes WebGPU where a hardware GPU
 * adapter is available and the CPU otherwise, as `Model.create` does.
 */
import type { BackendChoice } from "../../runtime/api/backends.js";
import { UserError } from "../errors.js";

/** The backends `--backend` names. */
export const BACKENDS: readonly BackendChoice[] = ["auto", "webgpu", "cpu", "onnx", "reference"];

/** The backend `--backend` asks for. */
export function backendChoice(name: string): BackendChoice {
  if ((BACKENDS as readonly string[]).includes(name)) return name as BackendChoice;
  throw new UserError(`--backend must be ${BACKENDS.slice(0, -1).join(", ")} or ${BACKENDS.at(-1)!}, got '${name}'`);
}
