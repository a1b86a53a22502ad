/**
 * `repr sample` end to end (spec/sampling.md): `repr train` on a text corpus
 * saves the vocabulary beside the checkpoint, and `repr sample` continues a
 * prompt in text with it — the same text for the same seed, what the
 * runtime's `Model.sample` gives for those weights; a variational model's
 * prior is decoded into a PNG grid; and what cannot be sampled or makes no
 * sense is a coded error, never a stack trace.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { Model, idsToText, textToIds, vocabularyFromJson } from "../../runtime/index.js";
import { programOf } from "../api/plans.js";
import { hasStackTrace, runCli } from "../cli/run-cli.js";
import { pngSize, tempDir } from "./helpers.js";

const dir = tempDir("sample");

const LANGUAGE = `model LM {
  input text: tokens(length: 8, vocab: 6, special: [cls])
  mask m = next_token(text)
  encoder f = embedding(vocab: 6, dim: 16) -> positional -> attention(heads: 2, causal: true) -> dense(16) -> relu
  head W = classifier(classes: 6)
  loss next = cross_entropy(W(f(m.input)), m.target)
}

data corpus {
  text: tokens(length: 8, vocab: 6, special: [cls])
}

pipeline Train {
  pretrain LM on corpus.train { steps: 150, batch: 16, optimizer: adam(lr: 1e-2) }
}
`;

const VAE = `model VAE {
  input image: f32[1, 28, 28]
  encoder f = flatten -> dense(32) -> relu
  bottleneck z = variational(dim: 4, beta: 1)
  decoder g = dense(784) -> sigmoid -> reshape(shape: [1, 28, 28])
  loss r = bce(g(z(f(image))), image)
  output g(z(f(image)))
}

data digits {
  image: f32[1, 28, 28]
  label: label(classes: 10)
}

pipeline Train {
  pretrain VAE on digits.train { steps: 5 }
}
`;

describe("repr sample", () => {
  const lm = join(dir, "lm.repr");
  const run = join(dir, "lm-run");
  const weights = join(run, "1-pretrain.safetensors");

  beforeAll(() => {
    writeFileSync(lm, LANGUAGE);
    // "abc" over and over, with a "d" now and then (in place of a "b" more often than a "c"): 4 characters, one "other" id, the cls.
    writeFileSync(join(dir, "abc.txt"), Array.from({ length: 400 }, (_, i) => (i % 23 === 22 ? "d" : "abc"[i % 3])).join(""));
    const trained = runCli(["train", lm, "--data", `corpus=${join(dir, "abc.txt")}`, "--out", run, "--plain", "--backend", "cpu"]);
    expect(trained.status, trained.stderr).toBe(0);
  }, 180_000);

  it("train saves the text's vocabulary beside the checkpoint", () => {
    const vocabulary = vocabularyFromJson(readFileSync(join(run, "vocabulary.json"), "utf8"), "vocabulary.json");
    expect(vocabulary).toEqual({ format: 1, data: "corpus", kind: "chars", tokens: ["a", "c", "b", "d", "\uFFFD", "<cls>"] });
  });

  it("continues a prompt in text, the same for the same seed, as Model.sample does", async () => {
    const args = ["sample", lm, "--weights", weights, "--prompt", "ab", "--tokens", "12", "--temperature", "0.5", "--seed", "4", "--backend", "cpu"];
    const first = runCli(args);
    expect(first.status, first.stderr).toBe(0);
    const text = first.stdout.trim();
    expect(text).toMatch(/^ab[abcd]{12}$/);
    // It learned the text: mostly "abc" again.
    expect(text.slice(0, 8)).toBe("abcabcab");
    expect(runCli(args).stdout).toBe(first.stdout);
    // The runtime, as an app uses it, gives the same tokens.
    const vocabulary = vocabularyFromJson(readFileSync(join(run, "vocabulary.json"), "utf8"), "v");
    const model = await Model.create(buildModelPlan(programOf(LANGUAGE), "LM"), { backend: "cpu", weights: readFileSync(weights) });
    const ids = await model.sample({ prompt: textToIds(vocabulary, "ab"), tokens: 12, temperature: 0.5, seed: 4 });
    expect(`ab${idsToText(vocabulary, ids)}`).toBe(text);
    model.dispose();
  }, 60_000);

  it("several samples, as JSON with ids and texts", () => {
    const r = runCli(["sample", lm, "--weights", weights, "--count", "3", "--tokens", "5", "--json", "--backend", "cpu"]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { prompt: null; samples: number[][]; texts: string[] };
    expect(out.samples).toHaveLength(3);
    expect(out.samples.every((s) => s.length === 5 && s.every((id) => id >= 0 && id < 5))).toBe(true);
    expect(out.texts[0]).toBe(idsToText(vocabularyFromJson(readFileSync(join(run, "vocabulary.json"), "utf8"), "v"), out.samples[0]!));
  }, 60_000);

  it("a variational model's prior, decoded into a PNG grid", () => {
    const vae = join(dir, "vae.repr");
    writeFileSync(vae, VAE);
    const vaeRun = join(dir, "vae-run");
    expect(runCli(["train", vae, "--out", vaeRun, "--plain", "--backend", "cpu", "--limit", "200"]).status).toBe(0);
    const png = join(dir, "prior.png");
    const r = runCli(["sample", vae, "--weights", join(vaeRun, "1-pretrain.safetensors"), "--count", "6", "--out", png, "--backend", "cpu"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("wrote 6 samples");
    expect(existsSync(png)).toBe(true);
    expect(pngSize(png).width).toBeGreaterThan(6 * 28);
  }, 120_000);

  it("what cannot be sampled, and options that make no sense, are coded errors", () => {
    const classifier = join(dir, "classifier.repr");
    writeFileSync(classifier, "model C {\n  input x: f32[4]\n  input y: label(classes: 2)\n  head W = classifier(classes: 2)\n  loss l = cross_entropy(W(x), y)\n}\n");
    const cases: [string[], string][] = [
      [["sample", classifier, "--weights", weights], "RC850"],
      [["sample", lm, "--weights", weights, "--temperature", "-1"], "RC851"],
      [["sample", lm, "--weights", weights, "--top-k", "1.5"], "RC851"],
      [["sample", lm, "--weights", weights, "--prompt", "xyz", "--vocabulary", join(dir, "abc.txt")], "RC851"],
      [["sample", lm, "--weights", weights, "--prompt-ids", "9"], "RC851"],
      [["sample", lm, "--weights", join(dir, "missing.safetensors")], "RC805"],
    ];
    for (const [args, code] of cases) {
      const r = runCli(args);
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(1);
      expect(r.stderr, args.join(" ")).toContain(code);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
  }, 120_000);
});
