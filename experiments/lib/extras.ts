/**
 * What an experiment shows beyond its table, made from seed 1's runs: the plot
 * of accuracy against labels per class, reconstructions and a scatter plot of
 * 2-D codes, colourized photographs, word neighbours and retrieval, text
 * baselines, samples and an attention map. Each writes its pictures to
 * experiments/plots/ and a markdown fragment that RESULTS.md includes.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gunzipSync } from "node:zlib";
import { loadProgram } from "../../cli/train/target.js";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { Model } from "../../runtime/api/model.js";
import type { BackendChoice } from "../../runtime/api/backends.js";
import { decodeSafetensors } from "../../runtime/checkpoint/safetensors.js";
import { decodeIdx } from "../../runtime/data/idx.js";
import { decodeNpy } from "../../runtime/data/npy.js";
import { mnistSplits } from "../../runtime/data/mnist.js";
import { FASHION_DIR, fortunesText, PATCH, photosOf, rgbFromYcbcr, SHORT_SIDE, type Photo } from "./data.js";
import { accuracyPlot, attentionPicture, PALETTE, PALETTE_NAMES, scatterPlot, tileRows } from "./plot.js";
import { meanSd, resultsOf, valueOf } from "./report.js";
import type { Experiment, RunSpec } from "./registry.js";
import { characterBaselines, charId, retrieve, wordNeighbours } from "./text.js";
import type { Options } from "../run.js";

const QUERY_WORDS = ["man", "woman", "love", "money", "god", "computer", "war", "day", "night", "life", "water", "king", "good", "eat"];
const RETRIEVAL_QUERIES = ["money taxes", "computer program", "love marriage"];
/** The sentence whose attention is drawn: 64 characters, one window, with repeated words ("the man who tells") for a head to find. */
export const ATTENTION_SENTENCE = "The man who tells the truth tells it to the man who tells a lie.";

function write(o: Options, e: Experiment, lines: readonly string[]): void {
  mkdirSync(o.resultsDir, { recursive: true });
  writeFileSync(join(o.resultsDir, `extra-${e.name}.md`), lines.join("\n") + "\n");
}

const plotsDir = (o: Options): string => {
  const d = join(o.pageDir, "plots");
  mkdirSync(d, { recursive: true });
  return d;
};

/** A link from RESULTS.md (in o.pageDir) to a file. */
const link = (o: Options, path: string): string => relative(o.pageDir, path);

const repoRoot = join(import.meta.dirname, "..", "..");

const seedDir = (o: Options, spec: RunSpec): string => join(o.runsDir, "seed1", spec.key);

/** The model of a run's program, with the run's weights, on the CPU backend. */
async function openRun(o: Options, spec: RunSpec, modelName: string, checkpoint = "1-pretrain.safetensors"): Promise<Model | null> {
  const weightsPath = join(seedDir(o, spec), checkpoint);
  if (!existsSync(weightsPath)) return null;
  const loaded = loadProgram(spec.file);
  if (!loaded) throw new Error(`${spec.file} does not check`);
  const plan = buildModelPlan(loaded.program, modelName, { pipelines: [] });
  return Model.create(plan, { backend: "cpu" as BackendChoice, weights: readFileSync(weightsPath) });
}

/** The first `n` test images (as [n, 784] in [0, 1]) and labels of the run's dataset. */
async function testImages(o: Options, dataset: string, n: number): Promise<{ images: Float32Array; labels: Int32Array; count: number }> {
  if (dataset === "fashion" && !o.tiny) {
    const read = (f: string): ArrayLike<number> => decodeIdx(new Uint8Array(gunzipSync(readFileSync(join(FASHION_DIR, f)))), f).data;
    const px = read("t10k-images-idx3-ubyte.gz");
    const lb = read("t10k-labels-idx1-ubyte.gz");
    const count = Math.min(n, lb.length);
    const images = new Float32Array(count * 784);
    for (let i = 0; i < images.length; i++) images[i] = px[i]! / 255;
    return { images, labels: Int32Array.from({ length: count }, (_, i) => lb[i]!), count };
  }
  const { test } = await mnistSplits();
  const count = Math.min(n, test.labels.length);
  return { images: test.images.slice(0, count * 784), labels: test.labels.slice(0, count), count };
}

function probePlot(o: Options, e: Experiment): void {
  const methods = [...new Set(e.rows.filter((r) => r.labels !== null).map((r) => r.method))];
  const xs = [...new Set(e.rows.map((r) => r.labels).filter((x): x is number => x !== null))].sort((a, b) => a - b);
  const series = methods.map((m, i) => ({
    colour: PALETTE[i]!,
    points: e.rows
      .filter((r) => r.method === m && r.labels !== null)
      .flatMap((r) => {
        const vs = resultsOf(o, r.run.key).map((x) => valueOf(x, r.measure)).filter((v): v is number => v !== null);
        if (vs.length === 0) return [];
        const { mean, sd } = meanSd(vs);
        return [{ x: r.labels!, y: mean, sd }];
      }),
  }));
  if (series.every((s) => s.points.length === 0)) return;
  const path = join(plotsDir(o), `${e.name}-accuracy.png`);
  writeFileSync(path, accuracyPlot(series, xs));
  write(o, e, [
    `![test accuracy against labels per class](${link(o, path)})`,
    "",
    `Test accuracy (vertical, 0 to 100%, a grid line every 10%, darker at 0, 50 and 100%) against labels per class (horizontal, log scale, at ${xs.join(", ")}), mean of the seeds run with ±1 sd bars. ${methods.map((m, i) => `${PALETTE_NAMES[i]}: ${m}`).join("; ")}. Points not run yet are missing.`,
  ]);
}

async function bottleneck(o: Options, e: Experiment): Promise<void> {
  const lines: string[] = [];
  const pics: string[] = [];
  for (const row of e.rows.filter((r) => r.labels === null)) {
    const dir = seedDir(o, row.run);
    if (!existsSync(dir)) continue;
    const png = readdirSync(dir).find((f) => /^2-test-.*\.png$/.test(f) && !f.includes("code"));
    if (!png) continue;
    const k = row.run.pipeline.replace("PretrainCode", "");
    const to = join(plotsDir(o), `bottleneck-code${k}-${png.replace(/^2-test-/, "")}`);
    copyFileSync(join(dir, png), to);
    pics.push(`code of ${k}: ![reconstructions, code of ${k}](${link(o, to)})`);
  }
  if (pics.length) lines.push("Reconstructions of test images by each autoencoder (seed 1; the test step's picture: the top row is the test images, the bottom row their reconstructions):", "", ...pics.map((p) => `- ${p}`), "");
  const two = e.rows.find((r) => r.run.pipeline === "PretrainCode2");
  const model = two ? await openRun(o, two.run, "Code2") : null;
  if (model && two) {
    try {
      const { images, labels, count } = await testImages(o, two.run.dataset, 2000);
      const codes = (await model.call("code", { image: images }, count)) as Float32Array;
      const path = join(plotsDir(o), "bottleneck-code2-scatter.png");
      writeFileSync(path, scatterPlot(codes, labels));
      lines.push(`![2-D codes coloured by label](${link(o, path)})`, "", `The 2-number codes of the first ${count} test images (seed 1), one dot each, coloured by class: ${PALETTE_NAMES.map((c, i) => `${i} ${c}`).join(", ")}. Axes are the two code numbers, scaled to fill the picture.`);
    } finally {
      model.dispose();
    }
  }
  if (lines.length) write(o, e, lines);
}

/** Photographs grouped by package, as RESULTS.md lists them. */
function photoList(photos: readonly Photo[]): string {
  const by = new Map<string, string[]>();
  for (const p of photos) by.set(p.pkg, [...(by.get(p.pkg) ?? []), p.name]);
  return [...by].map(([pkg, names]) => `${pkg} (${names.join(", ")})`).join(", ");
}

async function colour(o: Options, e: Experiment): Promise<void> {
  const spec = e.rows[0]!.run;
  const npyPath = join(o.runsDir, "photo-patches.npy");
  if (!existsSync(npyPath)) return;
  const arr = decodeNpy(new Uint8Array(readFileSync(npyPath)), npyPath);
  const n = arr.shape[0]!;
  const cut = Math.floor((n * 4) / 5);
  const plane = PATCH * PATCH;
  const data = arr.data;
  // Predicting grey: Cb = Cr = 0.5 everywhere.
  let grey = 0;
  for (let i = cut; i < n; i++) for (let c = 1; c < 3; c++) for (let p = 0; p < plane; p++) grey += (data[(i * 3 + c) * plane + p]! / 255 - 0.5) ** 2;
  grey /= (n - cut) * 2 * plane;
  const lines = [
    `Photographs${o.tiny ? " (the trial's few)" : ""}, by package: ${photoList(photosOf(o.tiny).train)} train; ${photoList(photosOf(o.tiny).test)} test. Each is shrunk by a whole factor (a box filter) until its shorter side is under ${2 * SHORT_SIDE} pixels; ${n / (photosOf(o.tiny).train.length + photosOf(o.tiny).test.length)} patches of ${PATCH}x${PATCH} at random positions in each, ${cut} train and ${n - cut} test.`,
    "",
    `Predicting grey (Cb = Cr = 0.5) on the test patches: colour mse **${grey.toFixed(4)}**; the model's is in the table above.`,
  ];
  const model = await openRun(o, spec, "Colorize");
  if (model) {
    try {
      const show = 8;
      const picks = Array.from({ length: show }, (_, j) => cut + Math.floor(((n - cut) * j) / show));
      const input = new Float32Array(show * 3 * plane);
      // The model reads only channel 0; the colour channels it is given are grey, so nothing of the truth reaches it.
      picks.forEach((i, j) => {
        for (let p = 0; p < plane; p++) {
          input[j * 3 * plane + p] = data[i * 3 * plane + p]! / 255;
          input[j * 3 * plane + plane + p] = 0.5;
          input[j * 3 * plane + 2 * plane + p] = 0.5;
        }
      });
      const pred = (await model.call("forward", { image: input }, show)) as Float32Array;
      const tile = (y: (p: number) => number, cb: (p: number) => number, cr: (p: number) => number): Uint8Array => {
        const t = new Uint8Array(plane * 3);
        for (let p = 0; p < plane; p++) t.set(rgbFromYcbcr(y(p), cb(p), cr(p)), p * 3);
        return t;
      };
      const rows = [
        picks.map((i) => tile((p) => data[i * 3 * plane + p]! / 255, () => 128 / 255, () => 128 / 255)),
        picks.map((i, j) => tile((p) => data[i * 3 * plane + p]! / 255, (p) => pred[j * 2 * plane + p]!, (p) => pred[j * 2 * plane + plane + p]!)),
        picks.map((i) => tile((p) => data[i * 3 * plane + p]! / 255, (p) => data[i * 3 * plane + plane + p]! / 255, (p) => data[i * 3 * plane + 2 * plane + p]! / 255)),
      ];
      const path = join(plotsDir(o), "colour-test-patches.png");
      writeFileSync(path, tileRows(rows, PATCH, 3));
      lines.push("", `![grey, prediction, truth](${link(o, path)})`, "", "Eight test patches (seed 1) in real colour: top the grey input, middle the model's colours on that lightness, bottom the truth.");
    } finally {
      model.dispose();
    }
  }
  write(o, e, lines);
}

function words(o: Options, e: Experiment): void {
  const spec = e.rows[0]!.run;
  const dir = seedDir(o, spec);
  const weights = join(dir, "1-pretrain.safetensors");
  if (!existsSync(weights) || !existsSync(join(dir, "vocabulary.json"))) return;
  const tensors = decodeSafetensors(new Uint8Array(readFileSync(weights)), weights).tensors;
  const [name, table] = [...tensors].find(([n, t]) => n.startsWith("f.") && t.shape.length === 2)!;
  const width = table.shape[1]!;
  const tokens = (JSON.parse(readFileSync(join(dir, "vocabulary.json"), "utf8")) as { tokens: string[] }).tokens;
  const data = Float32Array.from(table.data as ArrayLike<number>);
  const lines = [`Nearest neighbours by cosine similarity of the word vectors (\`${name}\`, ${tokens.length} words × ${width}; seed 1; \`experiments/lib/text.ts\`):`, "", "| word | nearest five (cosine) |", "|---|---|"];
  for (const { word, neighbours } of wordNeighbours(data, width, tokens, QUERY_WORDS, 5)) lines.push(`| ${word} | ${neighbours.map((x) => `${x.word} (${x.score.toFixed(2)})`).join(", ")} |`);
  const text = fortunesText();
  const held = text.slice(Math.floor((text.length * 4) / 5));
  const docs = held.split(/\n%\n/).map((d) => d.trim()).filter((d) => d.length > 20 && d.length < 300);
  lines.push("", `Retrieval: each of the ${docs.length} held-out fortunes (from the last 20% of the text, 20 to 300 characters) is the mean of its words' unit vectors; the nearest to each query by cosine:`, "");
  for (const q of RETRIEVAL_QUERIES) {
    lines.push(`- *${q}*:`);
    for (const r of retrieve(data, width, tokens, docs, q, 2)) lines.push(`  - (${r.score.toFixed(2)}) ${r.text.replace(/\s+/g, " ").replace(/\|/g, "\\|")}`);
  }
  write(o, e, lines);
}

async function gpt(o: Options, e: Experiment): Promise<void> {
  const spec = e.rows[0]!.run;
  const dir = seedDir(o, spec);
  const base = characterBaselines(fortunesText());
  const lines = [
    `Baselines on the same split (${base.trainChars.toLocaleString("en")} training characters, ${base.testChars.toLocaleString("en")} held out; add-one smoothing over the 96 characters): unigram **${base.unigram.toFixed(3)}** nats/char, bigram **${base.bigram.toFixed(3)}** nats/char; uniform guessing is ln 96 = 4.564. The model's number counts the 63 predictions of each 64-character held-out window; the baselines count every held-out character.`,
  ];
  const weights = join(dir, "1-pretrain.safetensors");
  if (existsSync(weights)) {
    lines.push("", "Samples (seed 1's weights):", "");
    for (const [prompt, seed] of [["Q: ", 1], ["A man ", 2], ["The ", 3]] as const) {
      const args = ["sample", spec.file, "--weights", relative(repoRoot, weights), "--prompt", prompt, "--tokens", o.tiny ? "8" : "200", "--temperature", "0.8", "--top-k", "10", "--seed", String(seed), "--backend", o.backend];
      const r = spawnSync(process.execPath, [...o.cli, ...args], { cwd: repoRoot, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`repr sample failed: ${r.stderr}`);
      lines.push(`\`npx repr ${args.map((a) => (/^[\w./=:,@+-]+$/.test(a) ? a : `'${a}'`)).join(" ")}\`:`, "", "```text", r.stdout.trimEnd(), "```", "");
    }
    const model = await openRun(o, spec, "TinyGPT");
    if (model) {
      try {
        // The model reads characters 0-62 of a 64-character window (next_token), so the map is of those 63.
        const ids = Int32Array.from(Array.from(ATTENTION_SENTENCE, (ch) => charId(ch.codePointAt(0)!)));
        const weights = (await model.call("attention_map", { text: ids }, 1)) as Float32Array;
        const shown = ATTENTION_SENTENCE.slice(0, 63);
        const heads = weights.length / (shown.length * shown.length);
        const to = join(plotsDir(o), "gpt-attention-sentence.png");
        writeFileSync(to, attentionPicture(weights, heads, shown));
        lines.push(
          `![attention of the first block on one sentence](${link(o, to)})`,
          "",
          `The first block's attention (\`output attention_map = f(m.input).2.0.1.weights\` of [gpt.repr](gpt.repr), seed 1's weights, \`experiments/lib/extras.ts\`) on the sentence *${ATTENTION_SENTENCE}*, one square per head: the character being predicted from (the query) runs down, the characters it attends to (the keys) across, each written along the edges (\`_\` a space). A darker cell is more weight; each row is scaled to its own largest weight. The model is causal, so only the lower triangle has weight.`,
          "",
        );
      } finally {
        model.dispose();
      }
    }
    const map = readdirSync(dir).find((f) => /test-attention_map\.png$/.test(f));
    if (map) {
      const to = join(plotsDir(o), "gpt-attention-map.png");
      copyFileSync(join(dir, map), to);
      lines.push(`![attention of the first block](${link(o, to)})`, "", "The first transformer block's attention (the test step's picture of `output attention_map = f(m.input).2.0.1.weights`, seed 1): one row per head, one column per held-out 64-character window; in each square the query position runs down and the key position across, brighter for more weight; causal, so only the lower triangle is lit.");
    }
  }
  write(o, e, lines);
}

export async function runExtra(e: Experiment, o: Options): Promise<void> {
  switch (e.extra) {
    case "probe-plot":
      return probePlot(o, e);
    case "bottleneck":
      return bottleneck(o, e);
    case "colour":
      return colour(o, e);
    case "words":
      return words(o, e);
    case "gpt":
      return gpt(o, e);
    case null:
      return;
  }
}
