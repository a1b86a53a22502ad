/**
 * experiments/RESULTS.md from the stored results: one table per experiment,
 * a row per compared setting, mean ± sd over the seeds that were run, and the
 * exact command of each number beside it. A row without stored results says
 * "not run yet" and gives the command that runs it.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { DATASET_NAMES, EXPERIMENTS, type Measure, type RowSpec } from "./registry.js";
import type { Options } from "../run.js";

export interface RunResult {
  readonly key: string;
  readonly seed: number;
  readonly command: string;
  readonly seconds: number;
  readonly backend: string;
  readonly machine: string;
  readonly date: string;
  readonly cut: string | null;
  readonly out: string;
  readonly metrics: {
    readonly backend: string;
    readonly steps: readonly { step: number; kind: string; data?: string; updates?: number; examples?: number; seconds?: number; losses?: Record<string, number>; metrics?: Record<string, number> }[];
  };
}

/** The stored results of a run, one per seed found (seeds 1 up to the first missing one are not required). */
export function resultsOf(o: Options, key: string, maxSeeds = 10): RunResult[] {
  const out: RunResult[] = [];
  for (let s = 1; s <= maxSeeds; s++) {
    const p = join(o.resultsDir, `seed${s}`, `${key}.json`);
    if (existsSync(p)) out.push(JSON.parse(readFileSync(p, "utf8")) as RunResult);
  }
  return out;
}

/** The number a row reads from one run: its last test step's metric or loss, scaled. */
export function valueOf(r: RunResult, m: Measure): number | null {
  const tests = r.metrics.steps.filter((s) => s.kind === "test");
  const t = tests.at(-1);
  if (!t) return null;
  const v = m.kind === "metric" ? t.metrics?.[m.name] : t.losses?.[m.name];
  return v === undefined ? null : v * m.scale;
}

export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

function fmt(v: number, m: Measure): string {
  if (m.unit.startsWith("%")) return v.toFixed(1);
  if (m.unit === "mse") return v.toFixed(4);
  return v.toFixed(3);
}

function updates(r: RunResult): string {
  const train = r.metrics.steps.filter((s) => s.kind === "pretrain" || s.kind === "adapt");
  return train.map((s) => `${s.kind} ${s.updates ?? 0} updates`).join(", ");
}

/** The backend of a row's runs, or, where its seeds ran on different ones, each with its seeds. */
export function backendsOf(results: readonly RunResult[]): string {
  const by = new Map<string, number[]>();
  for (const r of results) by.set(r.backend, [...(by.get(r.backend) ?? []), r.seed]);
  if (by.size <= 1) return results[0]?.backend ?? "";
  return [...by].map(([b, seeds]) => `${b} (seed${seeds.length > 1 ? "s" : ""} ${seeds.join(", ")})`).join(", ");
}

/** The row's cell texts: its result, the run settings, time and command (or how to run it). */
export function rowCells(o: Options, e: { name: string }, row: RowSpec): { result: string; settings: string; time: string; command: string; values: number[] } {
  const results = resultsOf(o, row.run.key);
  const values = results.map((r) => valueOf(r, row.measure)).filter((v): v is number => v !== null);
  const rerun = `npm run experiments -- ${e.name}`;
  if (values.length === 0) {
    return { result: "not run yet", settings: "", time: "", command: `\`${rerun} --seeds 3\` (its runs: \`npx repr train ${row.run.file} --pipeline ${row.run.pipeline} ... --seed S\`)`, values };
  }
  const { mean, sd } = meanSd(values);
  const first = results[0]!;
  const cuts = [...new Set(results.map((r) => r.cut).filter((c): c is string => c !== null))];
  const secs = meanSd(results.map((r) => r.seconds));
  return {
    result: `**${fmt(mean, row.measure)}** ± ${fmt(sd, row.measure)} (${values.length} seed${values.length > 1 ? "s" : ""}: ${values.map((v) => fmt(v, row.measure)).join(", ")})`,
    settings: `${updates(first)}${cuts.length ? `; **${cuts.join("; ")}**` : "; the file's full settings"}; ${backendsOf(results)}`,
    time: results.length > 1 && new Set(results.map((r) => r.backend)).size > 1 ? results.map((r) => `${r.seconds.toFixed(0)} s`).join(", ") : `${secs.mean.toFixed(0)} s`,
    command: `\`${first.command}\`${results.length > 1 ? ` (seeds ${results.map((r) => r.seed).join(", ")}: the same with \`--seed S\`)` : ""}`,
    values,
  };
}

export function writeReport(o: Options): void {
  const lines: string[] = [];
  const all = EXPERIMENTS.flatMap((e) => e.rows.flatMap((r) => resultsOf(o, r.run.key)));
  const machines = [...new Set(all.map((r) => r.machine))];
  const dates = all.map((r) => r.date.slice(0, 10)).sort();
  lines.push(
    "# Results: the seed's claims, measured",
    "",
    "Every number below comes from `repr train` runs whose exact command stands beside it; `npm run experiments -- NAME` makes every run of one experiment (over `--seeds 3` by default), stores each run's result under `experiments/results/`, and rewrites this page. A row that was not run says so and gives the command. Where a run was cut to fit this machine's time, its row says how, in bold.",
    "",
    `- Machine: ${machines.length ? machines.join("; ") : "none yet"} (a 2-core machine shared with other jobs; times are wall-clock per run and include the CLI's start).`,
    `- Dates: ${dates.length ? `${dates[0]} to ${dates.at(-1)}` : "none yet"}.`,
    `- Backend: the one \`metrics.json\` names for each run (settings column). No GPU was available to these runs. The runner passes \`--backend auto\` by default, which picks ONNX Runtime (onnxruntime-node, \`onnx\`) here, about twice as fast as \`cpu\` on these programs; the first runs were made with \`--backend cpu\`, when the ONNX backend still stopped on these programs, and a row whose seeds ran on different backends names each, with each seed's time.`,
    `- Seeds: each row gives the seeds it was run with; a row run on one seed shows ± 0 and is not yet the three-seed result the runner makes by default.`,
    "",
  );
  for (const e of EXPERIMENTS) {
    lines.push(`## ${e.title}`, "", e.about, "", `Data: ${DATASET_NAMES[e.dataset]}. Program${new Set(e.rows.map((r) => r.run.file)).size > 1 ? "s" : ""}: ${[...new Set(e.rows.map((r) => r.run.file))].map((f) => `[${f.replace("experiments/", "")}](${f.replace("experiments/", "")})`).join(", ")}. Rerun: \`npm run experiments -- ${e.name}\`.`, "");
    lines.push("| compared | labels per class | result | settings | time per run | command (seed 1) |", "|---|---|---|---|---|---|");
    for (const row of e.rows) {
      const c = rowCells(o, e, row);
      lines.push(`| ${row.method} | ${row.labels ?? ""} | ${c.result}${c.values.length ? ` ${row.measure.unit}` : ""} | ${c.settings} | ${c.time} | ${c.command} |`);
    }
    lines.push("");
    const extra = join(o.resultsDir, `extra-${e.name}.md`);
    if (existsSync(extra)) lines.push(readFileSync(extra, "utf8").trimEnd(), "");
    const notes = join(o.pageDir, "notes", `${e.name}.md`);
    if (existsSync(notes)) lines.push(readFileSync(notes, "utf8").trimEnd(), "");
  }
  writeFileSync(join(o.pageDir, "RESULTS.md"), lines.join("\n"));
  process.stderr.write(`experiments: wrote ${relative(process.cwd(), join(o.pageDir, "RESULTS.md"))}\n`);
}
