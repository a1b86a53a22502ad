/**
 * The report of a run, written after every step so that a stopped run still
 * has one: `metrics.json` (the history: every step's data, size, time, loss
 * and metrics, and the loss at every update), `loss-curve.png`, the pictures
 * of the last test step, and the table printed at the end, which shows the
 * steps side by side.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../files.js";
import { imageGridPng } from "../report/image-grid.js";
import { lossCurvePng } from "../report/loss-curve.js";
import { formatTable } from "../report/table.js";
import type { RunHistory } from "../../runtime/train/history.js";
import type { PictureRow } from "./pictures.js";

/** What the report says about the run itself. */
export interface RunInfo {
  readonly file: string;
  readonly pipeline: string;
  readonly model: string;
  readonly backend: string;
  /** The GPU adapter that ran it, or null on the CPU. */
  readonly adapter: string | null;
  readonly out: string;
}

/** Writes metrics.json and loss-curve.png (and the pictures, and the named outputs' pictures, when given). */
export function writeReport(info: RunInfo, history: RunHistory, pictures: { rows: readonly PictureRow[]; file: string } | null, outputs: readonly { readonly rows: readonly PictureRow[]; readonly file: string }[] = []): void {
  const json = {
    file: info.file,
    pipeline: info.pipeline,
    model: info.model,
    backend: info.backend,
    adapter: info.adapter,
    // A test step's pictures are named by their loss; the report names the file they are in.
    steps: history.steps.map((s) => (s.kind === "test" && s.pictures !== undefined ? { ...s, pictures: `${s.step}-test-${s.pictures}.png` } : s)),
    losses: history.series.map((s) => ({ step: s.step, name: s.name, first_update: s.offset, values: s.losses })),
  };
  writeFileAtomic(join(info.out, "metrics.json"), JSON.stringify(json, (_, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v), 2) + "\n");
  const series = history.series.map((s) => ({ name: s.name, points: s.losses.map((loss, k) => ({ step: s.offset + k + 1, loss })) }));
  writeFileAtomic(join(info.out, "loss-curve.png"), lossCurvePng(series, { title: `${info.model}: training loss` }));
  if (pictures) writeFileAtomic(join(info.out, pictures.file), imageGridPng(pictures.rows));
  // Named outputs' pictures, such as attention maps (spec/models.md).
  for (const o of outputs) writeFileAtomic(join(info.out, o.file), imageGridPng(o.rows));
}

/** The steps side by side: one column per training or test step, one row per quantity. */
export function reportTable(history: RunHistory): string {
  const columns = [...history.steps].sort((a, b) => a.step - b.step).filter((s) => s.kind === "pretrain" || s.kind === "adapt" || s.kind === "test");
  if (columns.length === 0) return "";
  const header = ["", ...columns.map((s) => `${s.step} ${s.kind}`)];
  const rows: (string | number)[][] = [];
  // Numbers go in as numbers: the table right-aligns them with four significant digits.
  const row = (name: string, cell: (s: (typeof columns)[number]) => string | number) => rows.push([name, ...columns.map(cell)]);
  row("data", (s) => ("data" in s ? s.data : ""));
  row("examples", (s) => ("examples" in s ? s.examples : ""));
  row("updates", (s) => (s.kind === "pretrain" || s.kind === "adapt" ? s.updates : ""));
  row("seconds", (s) => ("seconds" in s ? s.seconds.toFixed(1) : ""));
  row("train loss (last pass)", (s) => (s.kind === "pretrain" || s.kind === "adapt" ? s.loss : ""));
  const lossNames = [...new Set(columns.flatMap((s) => (s.kind === "test" ? Object.keys(s.losses) : [])))];
  for (const name of lossNames) row(`test loss ${name}`, (s) => (s.kind === "test" && name in s.losses ? s.losses[name]! : ""));
  const metricNames = [...new Set(columns.flatMap((s) => (s.kind === "test" ? Object.keys(s.metrics) : [])))];
  for (const name of metricNames) row(name, (s) => (s.kind === "test" && name in s.metrics ? s.metrics[name]! : ""));
  // `repr test` has no training columns: leave out rows with nothing in them.
  return formatTable(header, rows.filter((r) => r.slice(1).some((cell) => cell !== "")));
}
