/** Whether /usr/bin/python3 (or REPR_TORCH_PYTHON) has torch and numpy: null when it has, else the reason the PyTorch checks skip. */
import { spawnSync } from "node:child_process";

export const PYTHON = process.env["REPR_TORCH_PYTHON"] ?? "/usr/bin/python3";

export function torchMissing(): string | null {
  const r = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" });
  if (r.error) return `${PYTHON} cannot run: ${r.error.message}`;
  return r.status === 0 ? null : `${PYTHON} cannot import torch and numpy (apt-get install python3-torch)`;
}
