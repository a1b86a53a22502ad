/**
 * What `auto` picks in Node where ONNX Runtime is installed (`onnxSuits`,
 * runtime/api/backends.ts): ONNX Runtime for models whose training steps are
 * matrix products (measured faster there), the CPU backend for a step made of
 * embedding-table scatters with no matrix product (skip-gram, where ONNX
 * Runtime copies each table whole and was measured slower) and for one made
 * mostly of convolutions (colorization, measured slower on ONNX Runtime).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { Source } from "../../language/source.js";
import { onnxSuits } from "../../runtime/api/backends.js";
import { Model } from "../../runtime/api/model.js";
import type { ModelPlan } from "../../runtime/api/plan.js";
import { onnxMissing } from "./available.js";

function planOf(file: string, model: string): ModelPlan {
  const { program } = checkProgram(new Source(file, readFileSync(file, "utf8")), nodeFileHost);
  return buildModelPlan(program!, model);
}

describe("auto between ONNX Runtime and the CPU backend", () => {
  const skipgram = planOf("examples/skipgram.repr", "SkipGram");
  const autoencoder = planOf("examples/mnist-autoencoder.repr", "Autoencoder");

  it("judges steps by their matrix products against the elements their scatters write", () => {
    expect(onnxSuits(skipgram.training)).toBe(false);
    expect(onnxSuits(autoencoder.training)).toBe(true);
    // Embedding scatters beside far more matrix work (the masked autoencoder's positions, tiny-gpt's characters).
    expect(onnxSuits(planOf("examples/masked-autoencoder.repr", "MAE").training)).toBe(true);
    expect(onnxSuits(planOf("examples/tiny-gpt.repr", "TinyGPT").training)).toBe(true);
    // A model that only evaluates.
    expect(onnxSuits([])).toBe(true);
  });

  it("judges steps by the share of their matrix products that read an image's windows (convolutions)", () => {
    // Mostly 3×3 convolutions (79% of the flops): the CPU backend's implicit GEMMs, measured faster.
    expect(onnxSuits(planOf("examples/colorization.repr", "Colorize").training)).toBe(false);
    // Strided convolutions beside dense projection heads (47% and 50%): ONNX Runtime, measured as fast or faster.
    expect(onnxSuits(planOf("examples/contrastive.repr", "Contrastive").training)).toBe(true);
    expect(onnxSuits(planOf("examples/byol.repr", "BYOL").training)).toBe(true);
  });

  it("takes ONNX Runtime for the autoencoder and the CPU backend for skip-gram and colorization", async (ctx) => {
    const missing = await onnxMissing();
    if (missing !== null) {
      console.log(`skipped: ${missing}`);
      ctx.skip();
    }
    const [ae, sg, colour] = await Promise.all([autoencoder, skipgram, planOf("examples/colorization.repr", "Colorize")].map((p) => Model.create(p, { backend: "auto" })));
    try {
      expect(ae!.backend).toBe("onnx");
      expect(sg!.backend).toBe("cpu");
      expect(colour!.backend).toBe("cpu");
    } finally {
      for (const m of [ae, sg, colour]) m!.dispose();
    }
  });
});
