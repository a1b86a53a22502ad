/**
 * The experiments of experiments/RESULTS.md (issue 14) cannot rot: their
 * programs check and are in canonical format, every experiment runs at a trial
 * size through `npm run experiments -- --tiny` (the same runner, the same
 * commands, a few updates on a few examples), and the page it writes has a
 * number and a command in every row that ran, its plots, the word neighbours,
 * the text baselines and the samples. The helpers that make the data and the
 * analyses are checked against hand-computed values.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { beforeAll, describe, expect, it } from "vitest";
import { Source } from "../../language/source.js";
import { format } from "../../language/format.js";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import { EXPERIMENTS, runsOf } from "../../experiments/lib/registry.js";
import { characterBaselines, charId, retrieve, wordNeighbours, words } from "../../experiments/lib/text.js";
import { PATCHES_PER_PHOTO, PHOTOS, rgbFromYcbcr, TINY_PHOTOS, ycbcr } from "../../experiments/lib/data.js";
import { backendsOf, meanSd, type RunResult } from "../../experiments/lib/report.js";
import { attentionPicture } from "../../experiments/lib/plot.js";
import { ATTENTION_SENTENCE } from "../../experiments/lib/extras.js";
import { parseOptions, resultPath, resumes, runDir, trainArgs } from "../../experiments/run.js";
import { hasStackTrace, repoRoot } from "../cli/run-cli.js";
import { startCli, tempDir } from "../train/helpers.js";

const dir = join(repoRoot, "experiments");
const programs = readdirSync(dir).filter((f) => f.endsWith(".repr")).sort();

describe("experiment programs", () => {
  it.each(programs)("%s checks and is in canonical format", (file) => {
    const text = readFileSync(join(dir, file), "utf8");
    const { diagnostics } = checkProgram(new Source(join(dir, file), text), nodeFileHost);
    expect(diagnostics, renderDiagnostics(diagnostics)).toEqual([]);
    expect(format(new Source(file, text)).text).toBe(text);
  });

  it("every row's run names a pipeline of its file", () => {
    for (const e of EXPERIMENTS) {
      for (const r of runsOf(e)) {
        const text = readFileSync(join(repoRoot, r.file), "utf8");
        expect(text, `${e.name}: ${r.key}`).toContain(`pipeline ${r.pipeline} {`);
      }
    }
  });
});

describe("the runner's commands", () => {
  it("starts a probe from its seed's pretraining at step 2 and marks a cut run", () => {
    const o = { ...parseOptions(["--pretrain-epochs", "2", "--out", "/x/runs"]) };
    const e = EXPERIMENTS.find((x) => x.name === "mnist-probes")!;
    const probe = e.rows.find((r) => r.run.pipeline === "Probe10" && r.run.file.endsWith("probes-ae.repr"))!.run;
    const { args, note } = trainArgs(probe, 2, o);
    expect(args).toContain("--init");
    expect(args[args.indexOf("--init") + 1]).toMatch(/seed2\/mnist\/probes-ae\/Pretrain\/1-pretrain\.safetensors$/);
    expect(args.slice(args.indexOf("--start-at"), args.indexOf("--start-at") + 2)).toEqual(["--start-at", "2"]);
    // The probe itself keeps the file's settings; only the pretraining was cut.
    expect(args).not.toContain("--epochs");
    expect(note).toBe("from a pretraining cut to 2 epochs");
    const pre = trainArgs(probe.from!, 2, o);
    expect(pre.args.slice(pre.args.indexOf("--epochs"), pre.args.indexOf("--epochs") + 2)).toEqual(["--epochs", "2"]);
    expect(pre.args.slice(pre.args.indexOf("--seed"), pre.args.indexOf("--seed") + 2)).toEqual(["--seed", "2"]);
  });

  it("shares one pretraining between experiments", () => {
    const probes = runsOf(EXPERIMENTS.find((x) => x.name === "mnist-probes")!);
    const mask = runsOf(EXPERIMENTS.find((x) => x.name === "mask-ratio")!);
    const shared = mask.filter((r) => probes.includes(r)).map((r) => r.key);
    expect(shared).toEqual(["mnist/probes-mae/PretrainMAE", "mnist/probes-mae/Probe100"]);
  });

  it("refuses an unknown experiment or option", () => {
    for (const args of [["nope"], ["--seeds", "0"], ["--frobnicate"]]) {
      const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "experiments", "run.ts"), ...args], { cwd: repoRoot, encoding: "utf8" });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^experiments: /);
      expect(r.stderr).not.toSatisfy(hasStackTrace);
    }
  });
});

describe("a run stopped part-way", () => {
  const out = tempDir("experiments-resume");
  it("is continued with --resume by the next sweep, not started again", async () => {
    const o = parseOptions(["gpt", "--tiny", "--out", out]);
    const spec = EXPERIMENTS.find((e) => e.name === "gpt")!.rows[0]!.run;
    // Stop the run exactly after its second of three updates, as Ctrl-C would.
    const run = startCli(trainArgs(spec, 1, o).args, ["update:1:2"]);
    await run.paused("update:1:2");
    run.child.kill("SIGTERM");
    expect(await run.exited, run.stderr).not.toBe(0);
    expect(existsSync(join(runDir(o, 1, spec), "resume.safetensors"))).toBe(true);
    expect(resumes(spec, 1, o)).toBe(true);
    expect(resumes(spec, 1, { ...o, force: true })).toBe(false);

    const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "experiments", "run.ts"), "gpt", "--tiny", "--out", out], { cwd: repoRoot, encoding: "utf8", timeout: 170_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/gpt\.repr .*--plain --resume/);
    const result = JSON.parse(readFileSync(resultPath(o, 1, spec), "utf8")) as RunResult;
    expect(result.command).not.toContain("--resume");
    expect(result.metrics.steps[0]!.updates).toBe(3);
    expect(existsSync(join(runDir(o, 1, spec), "resume.safetensors"))).toBe(false);
  }, 180_000);
});

describe("analysis helpers", () => {
  it("counts add-one unigram and bigram baselines on the first 80% of the text", () => {
    // "abab|ab": train "abab" (4 of 6 characters), test "ab".
    const b = characterBaselines("ababab");
    expect(b.trainChars).toBe(4);
    expect(b.testChars).toBe(2);
    const a = charId("a".codePointAt(0)!), V = 96;
    expect(a).toBe(65);
    // unigram: a and b each 2 of 4: p = 3/100 for both test characters.
    expect(b.unigram).toBeCloseTo(-Math.log(3 / 100), 12);
    // bigram: test "a" follows "b" (b->a once of 1 from b), test "b" follows "a" (a->b twice of 2).
    expect(b.bigram).toBeCloseTo(-(Math.log(2 / (1 + V)) + Math.log(3 / (2 + V))) / 2, 12);
    expect(charId(10)).toBe(95);
    expect(charId(0xe9)).toBe(0);
  });

  it("finds nearest words by cosine, skipping the word itself and <other>", () => {
    const tokens = ["cat", "dog", "car", "<other>"];
    const table = Float32Array.from([1, 0, 0.9, 0.1, 0, 1, 1, 0.01]);
    const [cat] = wordNeighbours(table, 2, tokens, ["cat", "missing"], 2);
    expect(cat!.word).toBe("cat");
    expect(cat!.neighbours.map((n) => n.word)).toEqual(["dog", "car"]);
    expect(cat!.neighbours[0]!.score).toBeCloseTo(0.9 / Math.hypot(0.9, 0.1), 5);
    expect(words("Don't PANIC, 42 times!")).toEqual(["don't", "panic", "42", "times"]);
    const hits = retrieve(table, 2, tokens, ["a car", "a cat and a dog", "nothing known"], "cat", 1);
    expect(hits.map((h) => h.text)).toEqual(["a cat and a dog"]);
    // The mean of the unit vectors of cat (1, 0) and dog (0.994, 0.110), against cat.
    const dog = [0.9 / Math.hypot(0.9, 0.1), 0.1 / Math.hypot(0.9, 0.1)];
    expect(hits[0]!.score).toBeCloseTo((1 + dog[0]!) / Math.hypot(1 + dog[0]!, dog[1]!), 5);
  });

  it("converts RGB to YCbCr and back within a rounding step", () => {
    for (const rgb of [[0, 0, 0], [255, 255, 255], [200, 30, 90], [12, 240, 17]] as [number, number, number][]) {
      const [y, cb, cr] = ycbcr(...rgb);
      const back = rgbFromYcbcr(y / 255, cb / 255, cr / 255);
      for (let i = 0; i < 3; i++) expect(Math.abs(back[i]! - rgb[i]!)).toBeLessThanOrEqual(2);
    }
    expect(ycbcr(128, 128, 128)).toEqual([128, 128, 128]);
  });

  it("gives the test photographs exactly the last 20% of the patches, and no photograph to both sides", () => {
    for (const set of [PHOTOS, TINY_PHOTOS]) {
      const photos = set.train.length + set.test.length;
      expect(Math.floor((photos * PATCHES_PER_PHOTO * 4) / 5)).toBe(set.train.length * PATCHES_PER_PHOTO);
      const train = new Set(set.train.map((p) => p.path));
      for (const p of set.test) expect(train.has(p.path), p.path).toBe(false);
    }
    // Every package has photographs on both sides.
    for (const pkg of ["python3-skimage", "plasma-workspace-wallpapers", "mate-backgrounds"]) {
      expect(PHOTOS.train.some((p) => p.pkg === pkg) && PHOTOS.test.some((p) => p.pkg === pkg), pkg).toBe(true);
    }
  });

  it("draws attention row by row, each row scaled to its largest weight, with the text along the edges", () => {
    // Two heads over "ab": head 1 puts all of each row on the first key, head 2 splits row 2 as 1:3.
    const weights = Float32Array.from([1, 0, 1, 0, 1, 0, 0.25, 0.75]);
    const png = PNG.sync.read(attentionPicture(weights, 2, "ab"));
    const at = (x: number, y: number): number[] => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3)];
    const cell = (head: number, q: number, k: number): number[] => at(2 + head * (12 + 2 * 9 + 16) + 12 + k * 9 + 4, 2 + 12 + 12 + q * 9 + 4);
    const dark = [8, 48, 135];
    expect(cell(0, 0, 0)).toEqual(dark);
    expect(cell(0, 1, 0)).toEqual(dark);
    expect(cell(0, 1, 1)).toEqual([255, 255, 255]);
    expect(cell(1, 1, 1)).toEqual(dark); // 0.75 is row 2's largest
    expect(cell(1, 1, 0)).toEqual([Math.round(255 - 247 / 3), Math.round(255 - 207 / 3), Math.round(255 - 120 / 3)]);
    expect(() => attentionPicture(weights, 3, "ab")).toThrow(/8 weights are not 3 heads of 2x2/);
  });

  it("names each backend with its seeds where a row's seeds ran on different ones", () => {
    const run = (seed: number, backend: string): RunResult => ({ seed, backend }) as RunResult;
    expect(backendsOf([run(1, "onnx"), run(2, "onnx")])).toBe("onnx");
    expect(backendsOf([run(1, "cpu"), run(2, "onnx"), run(3, "onnx")])).toBe("cpu (seed 1), onnx (seeds 2, 3)");
  });

  it("reports the sample standard deviation", () => {
    expect(meanSd([1, 2, 3])).toEqual({ mean: 2, sd: 1 });
    expect(meanSd([5])).toEqual({ mean: 5, sd: 0 });
  });
});

const haveFortunes = existsSync("/usr/share/games/fortunes/fortunes");
const havePhotos = [...TINY_PHOTOS.train, ...TINY_PHOTOS.test].every((p) => existsSync(p.path));

describe("every experiment at a trial size", () => {
  const out = tempDir("experiments");
  let page = "";
  let status: number | null = null;
  let stderr = "";
  beforeAll(() => {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "experiments", "run.ts"), "--tiny", "--out", out], { cwd: repoRoot, encoding: "utf8", timeout: 170_000 });
    status = r.status;
    stderr = r.stderr;
    if (existsSync(join(out, "RESULTS.md"))) page = readFileSync(join(out, "RESULTS.md"), "utf8");
  }, 180_000);

  it("runs without error and writes the page", () => {
    expect(stderr).not.toSatisfy(hasStackTrace);
    expect(status, stderr).toBe(0);
    for (const e of EXPERIMENTS) expect(page).toContain(`## ${e.title}`);
  });

  it("fills each row that ran with a number and its command, and says which did not", () => {
    // The experiments' table rows: each has a result or says it was not run (the word-neighbour table has neither).
    const rows = page.split("\n").filter((l) => l.startsWith("| ") && (l.includes("not run yet") || l.includes("`npx repr train ")));
    expect(rows.length).toBe(EXPERIMENTS.reduce((n, e) => n + e.rows.length, 0));
    const ran = rows.filter((l) => !l.includes("not run yet"));
    // MNIST probes at 10 labels (5 methods); transfer (3); mask ratio 0.9 (2) and 0.75's pretraining,
    // shared with the MNIST probes (1); bottleneck code 2 (2); colour; words; gpt.
    expect(ran.length).toBe(5 + 3 + 3 + 2 + (havePhotos ? 1 : 0) + (haveFortunes ? 2 : 0));
    for (const row of ran) {
      expect(row).toMatch(/\*\*-?\d+(\.\d+)?\*\* ± \d/);
      expect(row).toMatch(/`npx repr train experiments\/[\w-]+\.repr --pipeline \w+ .*--seed 1 .*`/);
      expect(row).toContain("trial size");
    }
    for (const row of rows.filter((l) => l.includes("not run yet"))) expect(row).toContain("npm run experiments -- ");
  });

  it("draws the accuracy plot, the reconstructions and the 2-D codes", () => {
    for (const f of ["mnist-probes-accuracy.png", "bottleneck-code2-reconstruction.png", "bottleneck-code2-scatter.png"]) {
      const png = PNG.sync.read(readFileSync(join(out, "plots", f)));
      expect(png.width).toBeGreaterThan(100);
      expect(page).toContain(`(plots/${f})`);
    }
  });

  it.skipIf(!havePhotos)("colours test patches in real colour and reports predicting grey", () => {
    expect(page).toMatch(/Predicting grey \(Cb = Cr = 0\.5\) on the test patches: colour mse \*\*0\.\d{4}\*\*/);
    const png = PNG.sync.read(readFileSync(join(out, "plots", "colour-test-patches.png")));
    // Three rows of eight 96-pixel tiles; the top row (grey input) has R = G = B.
    expect(png.height).toBe(3 * 98 + 2);
    const o = (10 * png.width + 10) * 4;
    expect(png.data[o]).toBe(png.data[o + 1]);
  });

  it.skipIf(!haveFortunes)("prints word neighbours, retrieval, baselines, samples and an attention map", () => {
    expect(page).toMatch(/\| love \| \S+ \(-?\d\.\d\d\)/);
    expect(page).toContain("Retrieval:");
    const m = /unigram \*\*(\d\.\d+)\*\* nats\/char, bigram \*\*(\d\.\d+)\*\*/.exec(page);
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBeLessThan(Number(m![1]));
    expect(Number(m![1])).toBeLessThan(Math.log(96));
    expect(page).toMatch(/`npx repr sample experiments\/gpt\.repr --weights \S+ --prompt 'Q: ' --tokens 8 .*--seed 1 --backend auto`:\n\n```text\nQ: /);
    expect(page).toContain("(plots/gpt-attention-map.png)");
    // The chosen sentence's map: four heads, two to a row, 63 characters a side.
    expect(page).toContain("(plots/gpt-attention-sentence.png)");
    expect(page).toContain(`on the sentence *${ATTENTION_SENTENCE}*`);
    const map = PNG.sync.read(readFileSync(join(out, "plots", "gpt-attention-sentence.png")));
    expect([map.width, map.height]).toEqual([2 * (12 + 63 * 9) + 16 + 4, 2 * (12 + 12 + 63 * 9) + 16 + 4]);
  });
});
