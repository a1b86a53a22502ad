/**
 * Which backend a `Model` runs on. Each backend the build has is one entry of
 * `BACKENDS`: a name, whether it can run here, and how to make it. A future
 * WebGPU backend plugs in by giving its entry a `make`; `"auto"` then picks it
 * wherever `navigator.gpu` exists, and the CPU everywhere else.
 */
import type { Backend } from "../backends/backend.js";
import { cpuBackend } from "../backends/cpu/index.js";
import { referenceBackend } from "../backends/reference/executor.js";
import { ReprError } from "./errors.js";

/** The backends a model can ask for: `auto` picks the best one available. */
export type BackendChoice = "auto" | "cpu" | "reference" | "webgpu";

/** One backend the runtime knows of. */
interface BackendEntry {
  /** Whether it can run in this environment (a GPU backend needs `navigator.gpu`). */
  readonly available: () => boolean;
  /** Makes the backend; null when this build has none. */
  readonly make: (() => Backend) | null;
}

const hasWebGpu = (): boolean => {
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  return nav?.gpu !== undefined && nav.gpu !== null;
};

/** The backends of this build. */
const BACKENDS: Readonly<Record<Exclude<BackendChoice, "auto">, BackendEntry>> = {
  webgpu: { available: hasWebGpu, make: null },
  cpu: { available: () => true, make: () => cpuBackend },
  reference: { available: () => true, make: () => referenceBackend },
};

/** What `"auto"` tries, best first. */
const AUTO_ORDER = ["webgpu", "cpu"] as const;

/** The backend `choice` names; `"auto"`: WebGPU where this build has it and `navigator.gpu` exists, else the CPU. */
export function resolveBackend(choice: BackendChoice = "auto"): Backend {
  if (choice === "auto") {
    for (const name of AUTO_ORDER) {
      const entry = BACKENDS[name];
      if (entry.make !== null && entry.available()) return entry.make();
    }
    throw new Error("internal error: no backend is available");
  }
  if (!Object.prototype.hasOwnProperty.call(BACKENDS, choice)) {
    throw new ReprError(`there is no backend '${String(choice)}'; choose auto, cpu, reference or webgpu`);
  }
  const entry = BACKENDS[choice];
  if (entry.make === null) throw new ReprError(`the ${choice === "webgpu" ? "WebGPU" : choice} backend is not available in this build`);
  if (!entry.available()) throw new ReprError(`the ${choice} backend cannot run here`);
  return entry.make();
}
