/**
 * Cross-check against PyTorch (issue 3, item 9; test/torch/README.md): runs
 * crosscheck.ts's two models — the MNIST autoencoder example and one std
 * transformer_block — through one adam step on the reference and cpu backends
 * and in an independent float64 PyTorch implementation, and expects loss,
 * gradients and updated weights to agree (reference within 1e-9 relative,
 * cpu within 1e-4). Skipped, with the reason in its name, when
 * /usr/bin/python3 cannot import torch.
 */
import { describe, expect, it } from "vitest";
import { crossCheck, table, torchMissing, TOLERANCE } from "./crosscheck.js";

const missing = torchMissing();
if (missing) console.warn(`test/torch: PyTorch cross-check skipped: ${missing}`);

describe("cross-check against PyTorch", () => {
  it.skipIf(missing !== null)(
    `one adam step of the MNIST autoencoder and a transformer block agrees with torch${missing ? ` (skipped: ${missing})` : ""}`,
    async () => {
      const { rows } = await crossCheck();
      const report = table(rows);
      expect(rows.filter((r) => !r.ok).map((r) => `${r.model} ${r.tensor} ${r.backend}`), report).toEqual([]);
      // Both models, both backends, loss + a gradient and an update per parameter.
      expect(new Set(rows.map((r) => r.model))).toEqual(new Set(["Autoencoder", "Block"]));
      expect(rows.filter((r) => r.tensor === "loss" && r.backend === "reference").every((r) => r.rel <= TOLERANCE.reference)).toBe(true);
      expect(rows.filter((r) => r.note !== undefined).map((r) => r.tensor)).toEqual(
        ["grad:f.1.k.bias", "new:f.1.k.bias", "grad:f.1.k.bias", "new:f.1.k.bias"],
      );
    },
    120_000,
  );
});
