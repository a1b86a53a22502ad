/**
 * A compiled module decides sizes at run time (issue 11, item 4): its
 * `trainStep`, `fit` and `evaluate` take any number of examples, whatever
 * the compiled step's batch; method names do not depend on compile flags
 * (`--pipeline` adds a pipeline method, it does not rename `fit`); a
 * pipeline runs through its generated static method and hands back the
 * generated class; and `saveModel`/`loadModel` take generated classes.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, mnistDigits, saveModel } from "../../runtime/node.js";
import { hasStackTrace, repoRoot, runCli } from "../cli/run-cli.js";
import { TRANSFER } from "../engine/helpers.js";
import { tempDir } from "../train/helpers.js";
import { writeFileSync } from "node:fs";

/** Generated modules go here, so that their relative runtime import resolves (gitignored). */
const out = join(repoRoot, "test", "compile", "out-sizes");
const RUNTIME = "../../../runtime/index.js";
const dir = tempDir("compile-sizes");

type Instance = Record<string, (...args: unknown[]) => Promise<unknown>> & { readonly tensorNames: readonly string[]; readonly model: unknown; dispose(): void };
type Generated = {
  create(options?: object): Promise<Instance>;
  runTransfer(options: object): Promise<{ kind: string; model: Instance; history: { steps: { kind: string; metrics?: Record<string, number> }[] } }>;
  readonly plan: { readonly model: string };
};

async function compile(flags: readonly string[]): Promise<{ Cls: Generated; path: string }> {
  const file = join(dir, "transfer.repr");
  writeFileSync(file, TRANSFER);
  const path = join(out, `transfer-${flags.join("-").replace(/[^a-z0-9]/gi, "") || "plain"}.ts`);
  const r = runCli(["compile", file, "-o", path, "--runtime", RUNTIME, ...flags]);
  expect(r.stderr).not.toSatisfy(hasStackTrace);
  expect(r.status, r.stderr).toBe(0);
  const module = (await import(path)) as Record<string, unknown>;
  return { Cls: module["Net"] as unknown as Generated, path };
}

beforeAll(() => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("a compiled module", () => {
  it("trains, fits and evaluates with any number of examples, whatever the step's batch", async () => {
    const { Cls } = await compile(["--train-batch", "32"]);
    const net = await Cls.create({ backend: "cpu", seed: 1 });
    const d = await mnistDigits();
    const batch = (n: number) => ({ image: d.train.images.slice(0, n * 784), label: Int32Array.from(d.train.labels.subarray(0, n), (l) => l % 5) });
    // 64 and 7 examples on a step compiled with batch 32: each is one update on that many.
    for (const n of [64, 7, 1]) expect(Number.isFinite(await net["trainStep"]!(batch(n)))).toBe(true);
    // evaluate on 20 (less than a batch) and on 45 (a batch and a part): every example counts.
    const twenty = (await net["evaluate"]!(batch(20))) as number;
    const perExample = await Promise.all(Array.from({ length: 20 }, (_, i) => net["evaluate"]!({ image: d.train.images.slice(i * 784, (i + 1) * 784), label: Int32Array.of(d.train.labels[i]! % 5) }) as Promise<number>));
    expect(twenty).toBeCloseTo(perExample.reduce((a, b) => a + b, 0) / 20, 5);
    expect(Number.isFinite(await net["evaluate"]!(batch(45), { batch: 16 }))).toBe(true);
    // fit with a batch size of its own: ⌈50 / 16⌉ = 4 updates a pass.
    const fit = (await net["fit"]!(batch(50), { batch: 16, epochs: 2 })) as { updates: number };
    expect(fit.updates).toBe(8);
    net.dispose();
  }, 120_000);

  it("keeps its method names under --pipeline, and runs the pipeline through a generated static method", async () => {
    const plain = await compile([]);
    const piped = await compile(["--pipeline", "Transfer"]);
    for (const { Cls } of [plain, piped]) {
      const net = await Cls.create({ backend: "cpu" });
      for (const name of ["trainStep", "fit", "evaluate", "forward", "encode"]) expect(typeof net[name], name).toBe("function");
      expect(typeof Cls.runTransfer).toBe("function");
      net.dispose();
    }
    const d = await mnistDigits();
    const cut = (s: { images: Float32Array; labels: Int32Array }) => ({ image: s.images.subarray(0, 500 * 784), label: s.labels.subarray(0, 500) });
    const result = await piped.Cls.runTransfer({ backend: "cpu", data: { digits: { train: cut(d.train), test: cut(d.test) } } });
    expect(result.kind).toBe("done");
    expect(result.history.steps.map((s) => s.kind)).toEqual(["pretrain", "freeze", "replace", "adapt", "test"]);
    // The model after the pipeline is an instance of the generated class, with the new 3-class head.
    const forward = (await result.model["forward"]!(d.test.images.slice(0, 2 * 784))) as Float32Array;
    expect(forward).toHaveLength(6);
    const weights = join(dir, "after.safetensors");
    await saveModel(result.model as unknown as { model: never }, weights);
    result.model.dispose();
    // With --pipeline the class is the model after the pipeline: loadModel takes the class and these weights,
    // new 3-class head and all. The class of the model as declared (a 5-class head) refuses them.
    const loaded = (await loadModel(piped.Cls as never, weights)) as unknown as Instance;
    expect((await loaded["forward"]!(d.test.images.slice(0, 784))) as Float32Array).toHaveLength(3);
    loaded.dispose();
    await expect(loadModel(plain.Cls as never, weights)).rejects.toThrow(/W\.weight/);
  }, 180_000);
});
