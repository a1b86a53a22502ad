/**
 * The outputs `repr train` and the test step's metrics read from a lowered
 * model (compiler/lower/model.ts): `features`, `picture/<loss>/…` and
 * `target/<name>`, evaluated on the reference backend and checked
 * against numbers computed here from the model's own parts.
 */
import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Source } from "../../language/source.js";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import type { CheckedProgram } from "../../compiler/check/program.js";
import { initialize, LowerError, lowerModel, type LoweredModel, type LowerOptions } from "../../compiler/lower/index.js";
import { run } from "../../runtime/backends/reference/evaluate.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { checked, expectClose, fill, naiveLinear, noise, type T } from "../lower/harness.js";

const EXAMPLES = join(import.meta.dirname, "..", "..", "examples");

function example(file: string): CheckedProgram {
  const path = join(EXAMPLES, file);
  const { program, diagnostics } = checkProgram(new Source(path, readFileSync(path, "utf8")), nodeFileHost);
  expect(diagnostics.filter((d) => d.severity === "error"), renderDiagnostics(diagnostics)).toEqual([]);
  return program;
}

const ALL: Partial<LowerOptions> = { features: true, pictures: true };

/** A metric target on the model input `name` (compiler/check/metric-targets.ts). */
const inputTarget = (program: CheckedProgram, name: string) => ({ [name]: { node: program.models[0]!.inputs.find((i) => i.name === name)!.node } });

/** Feeds: initialized params (seed 1), images in [0, 1), i32 inputs by `ints`, seed and step. */
function feeds(lowered: LoweredModel, seed = 5, ints: (k: number) => number = (k) => k % 10): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [name, data] of initialize(lowered.params, 1)) out[name] = { shape: lowered.params.find((p) => p.name === name)!.shape, data: [...data] };
  for (const i of lowered.inputs) {
    if (i.kind === "seed") out[i.name] = { shape: [], data: [seed] };
    else if (i.kind === "step") out[i.name] = { shape: [], data: [3] };
    else out[i.name] = fill(i.shape, (k) => (i.dtype === "i32" ? ints(k) : (noise(k, 17) + 1) / 2));
  }
  return out;
}

/** Runs a lowered graph on the reference backend; outputs as plain tensors. */
function evaluate(lowered: LoweredModel, f: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(run(lowered.graph, f)).map(([k, v]) => [k, { shape: [...v.shape], data: [...v.data] }]));
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("the autoencoder (examples/mnist-autoencoder.repr)", () => {
  const program = example("mnist-autoencoder.repr");
  const lowered = lowerModel(program, "Autoencoder", { batch: 2, mode: "eval", ...ALL, targets: inputTarget(program, "image") });
  const f = feeds(lowered);
  const out = evaluate(lowered, f);

  test("has the asked-for outputs with their shapes, and no `on` (the loss has none)", () => {
    const shapes = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.shape]));
    expect(shapes["features"]).toEqual([2, 64]);
    expect(shapes["picture/reconstruction/pred"]).toEqual([2, 1, 28, 28]);
    expect(shapes["picture/reconstruction/target"]).toEqual([2, 1, 28, 28]);
    expect(shapes["target/image"]).toEqual([2, 1, 28, 28]);
    expect(out["picture/reconstruction/on"]).toBeUndefined();
    expect(lowered.outputs.features).toBe(lowered.graph.outputs.find((o) => o.name === "features")!.node);
  });

  test("the pictures are the objective's two sides: the reconstruction and the image", () => {
    expect(out["picture/reconstruction/target"]!.data).toEqual(f["image"]!.data);
    // The reconstruction is the model's output, g(code) (eval mode: no randomness).
    expect(out["picture/reconstruction/pred"]!.data).toEqual(out["prediction"]!.data);
    // And sigmoid outputs.
    expect(out["picture/reconstruction/pred"]!.data.every((v) => v > 0 && v < 1)).toBe(true);
  });

  test("target/image is the image; the loss is mean((pred − target)²) of the pictures", () => {
    expect(out["target/image"]!.data).toEqual(f["image"]!.data);
    const value = out["loss/reconstruction"]!.data[0]!;
    const pred = out["picture/reconstruction/pred"]!.data;
    const target = out["picture/reconstruction/target"]!.data;
    expectClose([value], [mean(pred.map((p, i) => (p - target[i]!) ** 2))], 1e-12);
    expect(value).toBeGreaterThan(0);
  });

  test("features is f(image) flattened: relu(dense(relu(dense(flatten(image)))))", () => {
    const x: T = { shape: [2, 784], data: f["image"]!.data };
    const relu = (t: T): T => ({ shape: t.shape, data: t.data.map((v) => Math.max(v, 0)) });
    const h = relu(naiveLinear(x, f["f.1.weight"]!, f["f.1.bias"]!));
    const expected = relu(naiveLinear(h, f["f.3.weight"]!, f["f.3.bias"]!));
    expectClose(out["features"]!.data, expected.data, 1e-10);
    expect(expected.data.some((v) => v > 0)).toBe(true);
  });

  test("the outputs are the same through a planned, compiled kernel graph", () => {
    const exe = compileReference(planKernelGraph(lowered.graph));
    const params = new Set(lowered.params.map((p) => p.name));
    const pick = (isParam: boolean): Record<string, T> => Object.fromEntries(Object.entries(f).filter(([name]) => params.has(name) === isParam));
    const compiled = exe.run(pick(false), pick(true));
    for (const name of ["features", "picture/reconstruction/pred", "target/image"]) {
      expect([...compiled[name]!.data], name).toEqual(out[name]!.data);
    }
  });

  test("without the options the extra outputs are absent", () => {
    const plain = lowerModel(program, "Autoencoder", { batch: 2, mode: "eval" });
    const names = plain.graph.outputs.map((o) => o.name);
    expect(names).toEqual(["loss", "loss/reconstruction", "prediction"]);
    expect(plain.outputs.features).toBeUndefined();
    const each = (o: Partial<LowerOptions>): string[] => lowerModel(program, "Autoencoder", { batch: 2, mode: "eval", ...o }).graph.outputs.map((x) => x.name).filter((n) => !names.includes(n));
    expect(each({ features: true })).toEqual(["features"]);
    expect(each({ pictures: true })).toEqual(["picture/reconstruction/pred", "picture/reconstruction/target"]);
    expect(each({ targets: inputTarget(program, "image") })).toEqual(["target/image"]);
  });
});

describe("the masked autoencoder (examples/masked-autoencoder.repr)", () => {
  const program = example("masked-autoencoder.repr");
  const lowered = lowerModel(program, "MAE", { batch: 2, mode: "eval", ...ALL, values: ["encoded"] });
  const f = feeds(lowered);
  const out = evaluate(lowered, f);
  const on = out["picture/reconstruction/on"]!;

  test("`on` is per pixel, 0 or 1, constant on each 4×4 patch, and hides 37 of 49 patches per image", () => {
    expect(on.shape).toEqual([2, 1, 28, 28]);
    expect(on.data.every((v) => v === 0 || v === 1)).toBe(true);
    for (let n = 0; n < 2; n++) {
      const pixel = (y: number, x: number): number => on.data[n * 784 + y * 28 + x]!;
      let hidden = 0;
      for (let py = 0; py < 7; py++) {
        for (let px = 0; px < 7; px++) {
          const first = pixel(4 * py, 4 * px);
          for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) expect(pixel(4 * py + dy, 4 * px + dx)).toBe(first);
          hidden += first;
        }
      }
      expect(hidden, `image ${n}`).toBe(37);
      expect(on.data.slice(n * 784, (n + 1) * 784).reduce((a, b) => a + b, 0)).toBe(37 * 16);
    }
  });

  test("the two images hide different patches, and another seed draws another mask", () => {
    expect(on.data.slice(0, 784)).not.toEqual(on.data.slice(784));
    const other = evaluate(lowered, feeds(lowered, 6));
    expect(other["picture/reconstruction/on"]!.data).not.toEqual(on.data);
  });

  test("the target is the image; pred is the decoder's reconstruction", () => {
    expect(out["picture/reconstruction/target"]!.data).toEqual(f["image"]!.data);
    expect(out["picture/reconstruction/pred"]!.shape).toEqual([2, 1, 28, 28]);
    expect(out["picture/reconstruction/pred"]!.data.every(Number.isFinite)).toBe(true);
  });

  test("the loss is the mse over the hidden pixels of the pictures", () => {
    const value = out["loss/reconstruction"]!.data[0]!;
    const pred = out["picture/reconstruction/pred"]!.data;
    const target = out["picture/reconstruction/target"]!.data;
    let sum = 0;
    let count = 0;
    pred.forEach((p, i) => {
      if (on.data[i] === 1) {
        sum += (p - target[i]!) ** 2;
        count++;
      }
    });
    expect(count).toBe(2 * 37 * 16);
    expectClose([value], [sum / count], 1e-12);
    // Not the mean over all pixels: the visible ones do not count.
    const all = mean(pred.map((p, i) => (p - target[i]!) ** 2));
    expect(Math.abs(all - value)).toBeGreaterThan(1e-6);
  });

  test("features is all 49 patches through f, flattened; the probe reads their mean", () => {
    expect(out["features"]!.shape).toEqual([2, 49 * 64]);
    // `encoded` is f's output averaged over the patches: the mean of the features' 49 rows of 64.
    const features = out["features"]!.data;
    const encoded = out["value/encoded"]!.data;
    expect(encoded.length).toBe(2 * 64);
    for (let b = 0; b < 2; b++) {
      for (let d = 0; d < 64; d++) {
        let sum = 0;
        for (let p = 0; p < 49; p++) sum += features[b * 49 * 64 + p * 64 + d]!;
        expect(encoded[b * 64 + d]!).toBeCloseTo(sum / 49, 12);
      }
    }
    // No mask: other seeds do not change it.
    expect(evaluate(lowered, feeds(lowered, 6))["features"]!.data).toEqual(out["features"]!.data);
  });

  test("only the mse loss has pictures; the probe's cross-entropy has none", () => {
    const names = lowered.graph.outputs.map((o) => o.name);
    expect(names.filter((n) => n.startsWith("picture/"))).toEqual(["picture/reconstruction/pred", "picture/reconstruction/target", "picture/reconstruction/on"]);
  });
});

describe("small models", () => {
  const SUM = `
model Sum {
  input x: f32[4]
  input y: f32[4]
  encoder f = dense(4)
  decoder g = dense(4)
  decoder h = dense(4) -> sigmoid
  loss l = mse(g(f(x)), x) + 0.5 * mse(f(y), y)
  loss b = bce(h(x), y)
  output f(x)
}`;

  test("a loss with two mse objectives: pictures show the first", () => {
    const program = checked(SUM);
    const lowered = lowerModel(program, "Sum", { batch: 3, mode: "eval", ...ALL });
    const f = feeds(lowered);
    const out = evaluate(lowered, f);
    const x = f["x"]!;
    const y = f["y"]!;
    const fx = naiveLinear(x, f["f.weight"]!, f["f.bias"]!);
    const gfx = naiveLinear(fx, f["g.weight"]!, f["g.bias"]!);
    const fy = naiveLinear(y, f["f.weight"]!, f["f.bias"]!);
    const mse = (p: T, t: T): number => mean(p.data.map((v, i) => (v - t.data[i]!) ** 2));
    const [m1, m2] = [mse(gfx, x), mse(fy, y)];
    expectClose(out["loss/l"]!.data, [m1 + 0.5 * m2], 1e-12);
    expectClose(out["picture/l/pred"]!.data, gfx.data, 1e-12);
    expect(out["picture/l/target"]!.data).toEqual(x.data);
    // bce: pictures too.
    const hx = naiveLinear(x, f["h.0.weight"]!, f["h.0.bias"]!);
    expectClose(out["picture/b/pred"]!.data, hx.data.map((v) => 1 / (1 + Math.exp(-v))), 1e-12);
    expect(out["picture/b/target"]!.data).toEqual(y.data);
    // features: the encoder's output on the prediction's path.
    expectClose(out["features"]!.data, fx.data, 1e-12);
    expect(out["features"]!.shape).toEqual([3, 4]);
  });

  test("features comes from the encoder on the prediction's path, else the first applied encoder", () => {
    const src = (output: string): string => `
model Two {
  input x: f32[4]
  encoder e = dense(2)
  encoder f = dense(2)
  head W = dense(4)
  loss l = mse(W(e(x)), x) + mse(W(f(x)), x)
  ${output}
}`;
    for (const [output, part] of [["output W(f(x))", "f"], ["", "e"]] as const) {
      const lowered = lowerModel(checked(src(output)), "Two", { batch: 2, mode: "eval", features: true });
      const f = feeds(lowered);
      const out = evaluate(lowered, f);
      expect(out["features"]!.shape, output).toEqual([2, 2]);
      expectClose(out["features"]!.data, naiveLinear(f["x"]!, f[`${part}.weight`]!, f[`${part}.bias`]!).data, 1e-12);
    }
  });

  test("features is flattened to [B, n]", () => {
    const program = checked(`
model Grid {
  input image: f32[1, 4, 4]
  encoder f = conv2d(filters: 2) -> relu
  decoder g = conv2d(filters: 1)
  loss l = mse(g(f(image)), image)
}`);
    const lowered = lowerModel(program, "Grid", { batch: 2, mode: "eval", features: true, values: [] });
    expect(lowered.graph.outputs.find((o) => o.name === "features")!.node.shape).toEqual([2, 2 * 4 * 4]);
  });

  test("features of a model with no encoder is a lowering error", () => {
    const program = checked(`
model NoEncoder {
  input x: f32[4]
  decoder g = dense(4)
  loss l = mse(g(x), x)
}`);
    expect(() => lowerModel(program, "NoEncoder", { batch: 2, mode: "eval", features: true })).toThrow(LowerError);
    expect(() => lowerModel(program, "NoEncoder", { batch: 2, mode: "eval", pictures: true })).not.toThrow();
  });
});

describe("metric targets", () => {
  test("a mask's target, masks off: the next tokens of a next-token model", () => {
    const program = checked(`
model Next {
  input text: tokens(length: 5, vocab: 7)
  mask m = next_token(text)
  encoder f = embedding(vocab: 7, dim: 4)
  head W = classifier(classes: 7)
  loss l = cross_entropy(W(f(m.input)), m.target)
}`);
    const mask = program.models[0]!.graph.nodes.find((n) => n.op === "mask")!;
    const lowered = lowerModel(program, "Next", { batch: 3, mode: "eval", targets: { "m.target": { mask: mask.id } } });
    const f = feeds(lowered, 5, (k) => (k * 5) % 7);
    const out = evaluate(lowered, f);
    expect(out["target/m.target"]!.shape).toEqual([3, 4]);
    const text = f["text"]!.data;
    expect(out["target/m.target"]!.data).toEqual([0, 1, 2].flatMap((b) => text.slice(b * 5 + 1, b * 5 + 5)));
    expect(out["prediction"]!.shape).toEqual([3, 4, 7]);
  });
});
