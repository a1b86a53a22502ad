/**
 * The onnx backend (runtime/backends/onnx/) against the CPU backend: every
 * function, training step and test step of every example, at two batch
 * sizes, gives the same outputs within float32 tolerance (loss, new
 * weights and optimizer state, predictions, pictures). Random draws come
 * from the shared generator on both sides, so masks and noise are the same.
 * Skipped, with the reason in the test's name, where onnxruntime-node or
 * protobufjs is not installed.
 */
import { describe, expect, it } from "vitest";
import { cpuBackend } from "../../runtime/backends/cpu/index.js";
import { createOnnxBackend, type OnnxBackend } from "../../runtime/backends/onnx/index.js";
import { exampleGraphs, graphAt, relativeError } from "./harness.js";
import { onnxMissing } from "./available.js";

/** Relative to each tensor's scale (at least 1): float32 roundoff, amplified a little by Adam's first steps. */
const TOLERANCE = 2e-4;

const missing = await onnxMissing();
if (missing) console.warn(`test/onnx: onnx backend checks skipped: ${missing}`);

describe.skipIf(missing !== null)(`the onnx backend equals the cpu backend on every example graph${missing ? ` (skipped: ${missing})` : ""}`, () => {
  let onnx: OnnxBackend;
  const graphs = missing ? [] : exampleGraphs();

  it("covers every example's functions, training steps and test steps", async () => {
    onnx = await createOnnxBackend();
    const kinds = new Set(graphs.map((g) => g.kind));
    expect(kinds).toEqual(new Set(["function", "training", "test"]));
    expect(new Set(graphs.map((g) => g.file)).size).toBeGreaterThanOrEqual(7);
  });

  for (const g of graphs) {
    it(g.label, async () => {
      onnx ??= await createOnnxBackend();
      for (const batch of [1, 3]) {
        const { kernel, feeds, params } = graphAt(g, batch);
        const want = cpuBackend.compile(kernel).run(feeds, params);
        const exe = onnx.compile(kernel);
        try {
          const got = await exe.runAsync(feeds, params);
          const errors = Object.entries(want).map(([name, v]) => [name, relativeError(got[name]!.data, v.data)] as const);
          expect(errors.length).toBe(kernel.outputs.length);
          expect(errors.filter(([, e]) => !(e <= TOLERANCE)), `batch ${batch}`).toEqual([]);
        } finally {
          exe.dispose();
        }
      }
    }, 60_000);
  }
});
