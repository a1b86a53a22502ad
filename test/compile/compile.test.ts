/**
 * `repr compile` end to end (issue 5, item 4): every model of every example
 * compiles to a module that type-checks under `strict` with zero errors; the
 * modules run; and a compiled model loaded with weights from `repr train`
 * gives what `repr test` reports for the same weights and inputs — the
 * autoencoder's test mse, the transfer pipeline's test accuracy.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { mnistDigits } from "../../runtime/node.js";
import { selectSplit } from "../../runtime/data/index.js";
import { hasStackTrace, repoRoot, runCli } from "../cli/run-cli.js";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { typeCheck } from "../emit/harness.js";
import { examplePrograms } from "../gradients/helpers.js";
import { tempDir } from "../train/helpers.js";

/** Generated modules go here, so that their relative runtime import resolves (gitignored). */
const out = join(repoRoot, "test", "compile", "out");
/** From test/compile/out/ (and test/emit/virtual/, where typeCheck puts modules) to the runtime. */
const RUNTIME = "../../../runtime/index.js";

/** Compiles a model with the CLI and returns the module's text and path. */
function compile(file: string, name: string, extra: readonly string[] = []): { text: string; path: string } {
  const path = join(out, `${name}.ts`);
  const r = runCli(["compile", file, "-o", path, "--runtime", RUNTIME, ...extra]);
  expect(r.stderr).not.toSatisfy(hasStackTrace);
  expect(r.status, r.stderr).toBe(0);
  return { text: readFileSync(path, "utf8"), path };
}

type Generated = Record<string, unknown> & { create(options?: object): Promise<Record<string, (...args: unknown[]) => unknown>> };

async function load(path: string): Promise<Generated> {
  const module = (await import(path)) as Record<string, unknown>;
  return Object.values(module).find((v) => typeof v === "function") as unknown as Generated;
}

beforeAll(() => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
});

describe("every example model compiles to a module that type-checks under strict", () => {
  const models = examplePrograms().flatMap(({ file, program }) => program.models.map((m) => ({ file, model: m.name, plan: buildModelPlan(program, m.name) })));

  it("with zero errors, and every function runs", async () => {
    const modules = models.map(({ file, model, plan }) => ({ model, plan, ...compile(join("examples", file), `${file.replace(".repr", "")}-${model}`, ["--model", model, "--batch", "4"]) }));
    expect(typeCheck(modules.map((m) => m.text))).toEqual([]);
    for (const { path, model, plan } of modules) {
      const Cls = await load(path);
      const instance = await Cls.create({ seed: 3 });
      // Each function on 5 examples of valid inputs: a call runs them as chunks of 4 and 1, so two sizes of its graph run.
      expect(plan.functions.length, model).toBeGreaterThan(0);
      for (const f of plan.functions) {
        const args = f.inputs.map((input) => {
          const n = 5 * input.shape.reduce((p, d) => p * d, 1);
          const bound = input.classes ?? input.vocab ?? 2;
          return input.dtype === "i32" ? Int32Array.from({ length: n }, (_, i) => i % bound) : Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5 + 0.5);
        });
        const result = (await instance[f.name]!.call(instance, ...args, 5)) as Float32Array | Int32Array;
        expect(result.length, `${model}.${f.name}`).toBe(5 * f.output.shape.reduce((p, d) => p * d, 1));
        expect(Array.from(result).every(Number.isFinite), `${model}.${f.name}`).toBe(true);
      }
      (instance["dispose"] as () => void).call(instance);
    }
  }, 300_000);
});

describe("a compiled model gives what repr test reports for the same weights", () => {
  const dir = tempDir("compile");

  it("the autoencoder's test reconstruction error", async () => {
    const run = join(dir, "ae");
    expect(runCli(["train", "examples/mnist-autoencoder.repr", "--steps", "30", "--limit", "256", "--out", run, "--plain"]).status).toBe(0);
    const test = runCli(["test", "examples/mnist-autoencoder.repr", "--weights", join(run, "1-pretrain.safetensors"), "--limit", "256", "--json"]);
    expect(test.status, test.stderr).toBe(0);
    const cliMse = (JSON.parse(test.stdout) as { steps: { metrics: { mse: number } }[] }).steps[0]!.metrics.mse;

    const { path } = compile("examples/mnist-autoencoder.repr", "ae-weights");
    const Cls = await load(path);
    const model = await Cls.create({ weights: readFileSync(join(run, "1-pretrain.safetensors")) });
    const images = (await mnistDigits()).test.images.subarray(0, 256 * 784);
    const output = (await model["forward"]!.call(model, images, 256)) as Float32Array;
    let sum = 0;
    for (let i = 0; i < images.length; i++) sum += (output[i]! - images[i]!) ** 2;
    expect(sum / images.length).toBeCloseTo(cliMse, 6);
  }, 120_000);

  it("the transfer pipeline's test accuracy after adapt", async () => {
    const run = join(dir, "transfer");
    expect(runCli(["train", "examples/transfer.repr", "--steps", "20", "--out", run, "--plain"]).status).toBe(0);
    const test = runCli(["test", "examples/transfer.repr", "--weights", join(run, "4-adapt.safetensors"), "--json"]);
    expect(test.status, test.stderr).toBe(0);
    const cliAccuracy = (JSON.parse(test.stdout) as { steps: { metrics: { accuracy: number } }[] }).steps[0]!.metrics.accuracy;

    const { path } = compile("examples/transfer.repr", "transfer-weights", ["--pipeline", "Transfer"]);
    const Cls = await load(path);
    const model = await Cls.create({ weights: readFileSync(join(run, "4-adapt.safetensors")) });
    const digits = await mnistDigits();
    const columns = new Map([["image", { dtype: "f32" as const, shape: [1, 28, 28], data: digits.test.images }], ["label", { dtype: "i32" as const, shape: [], data: digits.test.labels }]]);
    const split = selectSplit({ origin: "mnist", length: digits.test.labels.length, columns }, "label", { labels: [5, 6, 7, 8, 9] });
    const n = split.length;
    const scores = (await model["forward"]!.call(model, split.columns.get("image")!.data, n)) as Float32Array;
    const labels = split.columns.get("label")!.data;
    let hits = 0;
    for (let r = 0; r < n; r++) {
      let best = 0;
      for (let c = 1; c < 5; c++) if (scores[r * 5 + c]! > scores[r * 5 + best]!) best = c;
      if (best === labels[r]) hits++;
    }
    expect(hits / n).toBe(cliAccuracy);
  }, 120_000);
});

describe("a compiled model samples", () => {
  it("tiny-gpt's sample method draws the tokens Model.sample draws", async () => {
    const { path } = compile("examples/tiny-gpt.repr", "tiny-gpt-sample");
    const Cls = await load(path);
    const instance = await Cls.create({ seed: 3, backend: "cpu" });
    const drawn = (await instance["sample"]!.call(instance, { tokens: 6, seed: 2, topK: 5, prompt: [40, 72] })) as Int32Array;
    const program = examplePrograms().find((p) => p.file === "tiny-gpt.repr")!.program;
    const { Model } = await import("../../runtime/index.js");
    const model = await Model.create(buildModelPlan(program, "TinyGPT"), { seed: 3, backend: "cpu" });
    expect(drawn).toBeInstanceOf(Int32Array);
    expect([...drawn]).toEqual([...(await model.sample({ tokens: 6, seed: 2, topK: 5, prompt: [40, 72] }))]);
    model.dispose();
    (instance["dispose"] as () => void).call(instance);
  }, 120_000);
});
