/**
 * Runs the experiments of experiments/RESULTS.md and writes that page.
 *
 *     npm run experiments -- [NAME ...] [--seeds 3] [--tiny] [--backend cpu]
 *                            [--pretrain-epochs N] [--steps N] [--runs REGEX]
 *                            [--out DIR] [--force] [--report-only]
 *
 * Each row of the page is one `repr train` run per seed, and the page shows
 * that exact command beside its number. A run whose result is already stored
 * (experiments/results/seedS/KEY.json) is not repeated unless `--force`, so a
 * long sweep can be stopped and continued; a pretraining run is made once per
 * seed and every probe of that seed starts from its checkpoint
 * (`--init RUN/1-pretrain.safetensors --start-at 2`).
 *
 * `--backend` is `auto` by default, the fastest backend in Node here: it picks
 * ONNX Runtime (onnxruntime-node) where it is installed, about twice as fast
 * as `cpu` on these programs (measured on the contrastive pretraining, same
 * losses). Each run's `metrics.json` names the backend it ran on, and the page
 * shows it in the row.
 *
 * `--pretrain-epochs N` cuts every unlabelled pretraining to N epochs and
 * `--steps N` cuts tiny-gpt to N updates; the rows made that way say so.
 * `--runs REGEX` makes only the runs whose key (dataset/file/pipeline)
 * matches, and the pretraining they start from.
 * A run that was stopped (Ctrl-C or SIGTERM to its `repr train`, or a crash
 * after a checkpoint) leaves `resume.safetensors` in its folder; the next
 * sweep continues it with `--resume` instead of starting again (unless
 * `--force`), and its time adds up over the sessions (`runner-seconds.json`).
 * `--tiny` runs each experiment on one seed at a trial size (`--steps 3
 * --batch 16 --limit 200`), with every image experiment on the embedded MNIST
 * digits, into runs/experiments-tiny or `--out DIR` (never into experiments/): the test suite
 * runs it so that no experiment can rot.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, relative } from "node:path";
import { EXPERIMENTS, runsOf, type Experiment, type RunSpec } from "./lib/registry.js";
import { FASHION_DIR, MissingData, photosOf, writeFortunes, writePhotoPatches } from "./lib/data.js";
import { writeReport, type RunResult } from "./lib/report.js";
import { runExtra } from "./lib/extras.js";

export const repoRoot = join(import.meta.dirname, "..");

export interface Options {
  readonly names: readonly string[];
  readonly seeds: number;
  readonly tiny: boolean;
  readonly backend: string;
  readonly pretrainEpochs: number | null;
  readonly steps: number | null;
  readonly force: boolean;
  readonly reportOnly: boolean;
  /** Only the runs whose key matches (and the pretraining they start from). */
  readonly only: RegExp | null;
  /** Where runs go and where results are stored; RESULTS.md and plots go to `page`. */
  readonly runsDir: string;
  readonly resultsDir: string;
  readonly pageDir: string;
  /** The repr CLI: the built one (dist/cli/main.js) unless it is older than the sources. */
  readonly cli: readonly string[];
}

function usage(message: string): never {
  process.stderr.write(`experiments: ${message}\nusage: npm run experiments -- [NAME ...] [--seeds N] [--tiny] [--backend B] [--pretrain-epochs N] [--steps N] [--runs REGEX] [--out DIR] [--force] [--report-only]\nexperiments: ${EXPERIMENTS.map((e) => e.name).join(", ")}\n`);
  process.exit(2);
}

function newestSource(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) t = Math.max(t, newestSource(p));
    else if (entry.name.endsWith(".ts") || entry.name.endsWith(".repr")) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** `node dist/cli/main.js` when the build is at least as new as the sources, else the sources through tsx. */
export function reprCli(): string[] {
  const built = join(repoRoot, "dist", "cli", "main.js");
  if (existsSync(built)) {
    const sources = Math.max(...["cli", "compiler", "runtime", "language"].map((d) => newestSource(join(repoRoot, d))));
    if (statSync(built).mtimeMs >= sources) return [built];
  }
  return ["--import", "tsx", join(repoRoot, "cli", "main.ts")];
}

export function parseOptions(argv: readonly string[]): Options {
  const names: string[] = [];
  let seeds = 3, tiny = false, backend = "auto", pretrainEpochs: number | null = null, steps: number | null = null, force = false, reportOnly = false, only: RegExp | null = null, out: string | null = null;
  const whole = (flag: string, v: string | undefined): number => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < 1) usage(`${flag} takes a whole number from 1 up, got '${v ?? ""}'`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--seeds") seeds = whole(a, argv[++i]);
    else if (a === "--tiny") tiny = true;
    else if (a === "--backend") backend = argv[++i] ?? usage("--backend takes a backend");
    else if (a === "--pretrain-epochs") pretrainEpochs = whole(a, argv[++i]);
    else if (a === "--steps") steps = whole(a, argv[++i]);
    else if (a === "--force") force = true;
    else if (a === "--report-only") reportOnly = true;
    else if (a === "--out") out = argv[++i] ?? usage("--out takes a folder");
    else if (a === "--runs") only = new RegExp(argv[++i] ?? usage("--runs takes a regular expression"));
    else if (a.startsWith("-")) usage(`unknown option ${a}`);
    else if (!EXPERIMENTS.some((e) => e.name === a)) usage(`no experiment '${a}'`);
    else names.push(a);
  }
  if (tiny) seeds = 1;
  const runsDir = out ?? join(repoRoot, "runs", tiny ? "experiments-tiny" : "experiments");
  return {
    names, seeds, tiny, backend, pretrainEpochs, steps, force, reportOnly, only, runsDir,
    resultsDir: tiny ? join(runsDir, "results") : join(repoRoot, "experiments", "results"),
    pageDir: tiny ? runsDir : join(repoRoot, "experiments"),
    cli: reprCli(),
  };
}

/** The `--data` arguments of a dataset (the files are made on first use). */
export function dataArgs(spec: RunSpec, o: Options): string[] {
  const name = spec.file.endsWith("colour.repr") ? "pictures" : spec.file.endsWith("words.repr") || spec.file.endsWith("gpt.repr") ? "corpus" : "images";
  mkdirSync(o.runsDir, { recursive: true });
  switch (spec.dataset) {
    case "fashion":
      if (o.tiny) return []; // trial runs read the embedded digits
      if (!existsSync(FASHION_DIR)) throw new MissingData(`${FASHION_DIR} is missing: apt-get install dataset-fashion-mnist`);
      return ["--data", `${name}=${FASHION_DIR}`];
    case "mnist":
      return [];
    case "photos":
      return ["--data", `${name}=${relative(repoRoot, writePhotoPatches(join(o.runsDir, "photo-patches.npy"), photosOf(o.tiny)))}`];
    case "fortunes":
      return ["--data", `${name}=${relative(repoRoot, writeFortunes(join(o.runsDir, "fortunes.txt")))}`];
  }
}

export const runDir = (o: Options, seed: number, spec: RunSpec): string => join(o.runsDir, `seed${seed}`, spec.key);
export const resultPath = (o: Options, seed: number, spec: RunSpec): string => join(o.resultsDir, `seed${seed}`, `${spec.key}.json`);
/** What `repr train` leaves in a run's folder when it stops before the end. */
const resumeFileOf = (o: Options, seed: number, spec: RunSpec): string => join(runDir(o, seed, spec), "resume.safetensors");
/** The seconds a stopped run had already taken, kept by the runner beside its resume file. */
const elapsedFileOf = (o: Options, seed: number, spec: RunSpec): string => join(runDir(o, seed, spec), "runner-seconds.json");

/** Whether the next sweep continues this run where it stopped, rather than starting it again. */
export function resumes(spec: RunSpec, seed: number, o: Options): boolean {
  return !o.force && existsSync(resumeFileOf(o, seed, spec));
}

function elapsedBefore(spec: RunSpec, seed: number, o: Options): number {
  const path = elapsedFileOf(o, seed, spec);
  if (!resumes(spec, seed, o) || !existsSync(path)) return 0;
  const seconds = (JSON.parse(readFileSync(path, "utf8")) as { seconds?: unknown }).seconds;
  return typeof seconds === "number" && Number.isFinite(seconds) ? seconds : 0;
}

/** The cut this run is made with, if any, in words, and its arguments. */
function cutOf(spec: RunSpec, o: Options): { args: string[]; note: string | null } {
  if (o.tiny) return { args: ["--steps", "3", "--batch", "16", "--limit", "200"], note: "trial size: 3 updates of 16 examples on the first 200 of each split" };
  if (spec.file.endsWith("gpt.repr") && o.steps !== null) return { args: ["--steps", String(o.steps)], note: `cut to ${o.steps} updates` };
  if (spec.pretrain && o.pretrainEpochs !== null && !spec.file.endsWith("gpt.repr")) return { args: ["--epochs", String(o.pretrainEpochs)], note: `pretraining cut to ${o.pretrainEpochs} epochs` };
  return { args: [], note: null };
}

/** The `repr train` arguments of one run. */
export function trainArgs(spec: RunSpec, seed: number, o: Options): { args: string[]; note: string | null } {
  const cut = cutOf(spec, o);
  const args = ["train", spec.file, "--pipeline", spec.pipeline, ...dataArgs(spec, o), "--seed", String(seed), "--backend", o.backend];
  let note = cut.note;
  if (spec.from) {
    args.push("--init", relative(repoRoot, join(runDir(o, seed, spec.from), "1-pretrain.safetensors")), "--start-at", "2");
    const fromCut = cutOf(spec.from, o).note;
    if (fromCut && !o.tiny) note = `from a pretraining ${fromCut.replace(/^pretraining /, "")}`;
  }
  args.push(...(spec.from ? (o.tiny ? cut.args : []) : cut.args), "--out", relative(repoRoot, runDir(o, seed, spec)), "--plain");
  return { args, note };
}

/** The command a row shows: the run from its start (a resumed run is the same run). */
function commandOf(args: readonly string[]): string {
  return `npx repr ${args.map((a) => (/^[\w./=:,@+-]+$/.test(a) ? a : `'${a}'`)).join(" ")}`;
}

const machine = `${cpus()[0]?.model.trim() ?? "unknown CPU"}, ${cpus().length} cores, Node ${process.version}`;

function runOne(spec: RunSpec, seed: number, o: Options): RunResult {
  const { args, note } = trainArgs(spec, seed, o);
  const command = commandOf(args);
  const resume = resumes(spec, seed, o);
  const before = elapsedBefore(spec, seed, o);
  if (!resume) for (const stale of [resumeFileOf(o, seed, spec), elapsedFileOf(o, seed, spec)]) rmSync(stale, { force: true });
  process.stderr.write(`experiments: ${command}${resume ? ` --resume (${before.toFixed(0)} s done before)` : ""}\n`);
  const started = Date.now();
  const r = spawnSync(process.execPath, [...o.cli, ...args, ...(resume ? ["--resume"] : [])], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  const seconds = before + (Date.now() - started) / 1000;
  if (r.status !== 0) {
    if (existsSync(resumeFileOf(o, seed, spec))) {
      writeFileSync(elapsedFileOf(o, seed, spec), JSON.stringify({ seconds }) + "\n");
      throw new Error(`${command} stopped after ${seconds.toFixed(0)} s (exit ${r.status}); the next sweep continues it with --resume`);
    }
    throw new Error(`${command} failed (exit ${r.status}):\n${r.stderr.slice(-3000)}`);
  }
  rmSync(elapsedFileOf(o, seed, spec), { force: true });
  const metrics = JSON.parse(readFileSync(join(runDir(o, seed, spec), "metrics.json"), "utf8")) as RunResult["metrics"];
  const result: RunResult = { key: spec.key, seed, command, seconds, backend: metrics.backend, machine, date: new Date().toISOString(), cut: note, metrics, out: relative(repoRoot, runDir(o, seed, spec)) };
  const path = resultPath(o, seed, spec);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(result, null, 1) + "\n");
  return result;
}

export async function main(argv: readonly string[]): Promise<void> {
  const o = parseOptions(argv);
  const chosen: Experiment[] = o.names.length ? EXPERIMENTS.filter((e) => o.names.includes(e.name)) : [...EXPERIMENTS];
  const selected = o.tiny && o.names.length === 0 ? chosen.filter((e) => e.name !== "fashion-probes") : chosen;
  if (!o.reportOnly) {
    for (const e of selected) {
      const all = runsOf(e);
      // Trial runs: one run of each program's pipelines per experiment is enough to keep them from rotting.
      const kept = o.tiny ? all.filter((r) => tinyKeep(e, r)) : all;
      const todo = o.only ? kept.filter((r) => o.only!.test(r.key) || kept.some((k) => k.from === r && o.only!.test(k.key))) : kept;
      for (let seed = 1; seed <= o.seeds; seed++) {
        for (const spec of todo) {
          if (!o.force && existsSync(resultPath(o, seed, spec))) continue;
          try {
            runOne(spec, seed, o);
          } catch (err) {
            if (err instanceof MissingData) {
              process.stderr.write(`experiments: ${e.name}: ${err.message}; skipped\n`);
              break;
            }
            throw err;
          }
        }
      }
      await runExtra(e, o);
    }
  }
  writeReport(o);
}

/** In a trial, the runs of an experiment kept: the smallest label count, and the first and last setting of a sweep. */
function tinyKeep(e: Experiment, r: RunSpec): boolean {
  if (e.name === "mask-ratio") return /MAE90/.test(r.pipeline);
  if (e.name === "bottleneck") return /Code2(_|$)/.test(r.pipeline);
  if (e.name === "transfer") return !/100$|Reverse/.test(r.pipeline);
  return !/(100|1000)$/.test(r.pipeline);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`experiments: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

