import os from "node:os";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { LowerError } from "../../compiler/lower/index.js";
import { ReprError } from "../../runtime/api/errors.js";
import { formatBytes } from "../../runtime/kernel/graph.js";
import { benchModel, type BenchResult } from "../bench/model-bench.js";
import { ExitCode, UserError } from "../errors.js";
import { memoryLimit } from "../memory-option.js";
import { backendChoice } from "../train/programs.js";
import { loadProgram } from "../train/target.js";

/** The options of `repr bench`, as commander gives them (strings, checked here). */
export interface RawBenchOptions {
  readonly model?: string;
  readonly backend?: string;
  readonly batch?: string;
  readonly seconds?: string;
  readonly only?: string;
  readonly json?: boolean;
  readonly maxMemory?: string;
  readonly allowImportOutside?: boolean;
}

/** A whole number ≥ 1 for `option`, or undefined when absent. */
function count(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw new UserError(`${option} must be a whole number of at least 1, got '${text}'`);
  return n;
}

/** Seconds of timing per workload: a positive number of at most an hour. */
function seconds(text: string | undefined): number {
  if (text === undefined) return 2;
  const s = Number(text);
  if (text.trim() === "" || !Number.isFinite(s) || s <= 0 || s > 3600) throw new UserError(`--seconds must be a number of seconds above 0 and at most 3600, got '${text}'`);
  return s;
}

const rate = (r: BenchResult): string =>
  r.kind === "training step" ? `${r.runsPerSecond.toFixed(r.runsPerSecond < 10 ? 2 : 1)} steps/s (${Math.round(r.examplesPerSecond)} examples/s)` : `${Math.round(r.examplesPerSecond)} examples/s`;

/** The text report: one line per workload. */
function table(file: string, backend: string, results: readonly BenchResult[]): string {
  const rows = results.map((r) => [`${r.model} ${r.kind} ${r.name}`, `batch ${r.batch}`, rate(r), `peak ${formatBytes(r.peakBytes)}`, `arena ${formatBytes(r.arenaBytes)}`]);
  const widths = rows.reduce((w, row) => row.map((c, i) => Math.max(w[i] ?? 0, c.length)), [] as number[]);
  const lines = rows.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
  return [`${file} on ${backend} (median of rounds; peak: resident bytes over those before the workload)`, ...lines].join("\n") + "\n";
}

/**
 * `repr bench FILE`: times each training step (the model's own and every
 * pipeline stage that trains it) and each function of the file's models (or
 * `--model`'s) on the backend training would use, and prints steps/s or
 * examples/s, the peak resident bytes each added and the bytes its planned
 * arena allocates; `--json` prints the same as JSON.
 */
export async function benchCommand(file: string, raw: RawBenchOptions): Promise<number> {
  // Options first: a bad one is reported before any work.
  const backend = backendChoice(raw.backend ?? "auto");
  const batch = count("--batch", raw.batch);
  const time = seconds(raw.seconds);
  const only = raw.only?.split(",").map((s) => s.trim());
  if (only !== undefined && only.some((s) => s === "")) throw new UserError(`--only must be names separated by commas, got '${raw.only}'`);
  const loaded = loadProgram(file, { allowImportOutside: raw.allowImportOutside ?? false, maxMemory: memoryLimit(raw.maxMemory) });
  if (!loaded) return ExitCode.userError;
  const { program } = loaded;
  const models = raw.model === undefined ? program.models.map((m) => m.name) : [raw.model];
  if (raw.model !== undefined && !program.models.some((m) => m.name === raw.model)) {
    throw new UserError(`--model: ${file} has no model '${raw.model}' (models: ${program.models.map((m) => m.name).join(", ") || "none"})`);
  }
  if (models.length === 0) throw new UserError(`${file} declares no model to bench`);
  const results: BenchResult[] = [];
  let ranOn = backend as string;
  for (const name of models) {
    let plan;
    try {
      plan = buildModelPlan(program, name);
    } catch (err) {
      if (err instanceof LowerError && !err.message.startsWith("internal")) throw new UserError(`${file}: ${err.message}`);
      throw err;
    }
    try {
      const run = await benchModel(plan, { backend, seconds: time, ...(batch !== undefined ? { batch } : {}), ...(only !== undefined ? { only } : {}) }, (r) => {
        if (!raw.json) process.stderr.write(`${r.model} ${r.kind} ${r.name}: ${rate(r)}\n`);
      });
      ranOn = run.backend;
      results.push(...run.results);
    } catch (err) {
      // A backend that cannot run here, or inputs the model refuses: the user's to fix, not a bug.
      if (err instanceof ReprError) throw new UserError(`${file}: model '${name}': ${err.message}`);
      throw err;
    }
  }
  if (only !== undefined) {
    const missing = only.filter((n) => !results.some((r) => r.name === n));
    if (missing.length > 0) throw new UserError(`--only: no training step or function named ${missing.map((n) => `'${n}'`).join(", ")} in ${file}`);
  }
  if (raw.json) {
    const workloads = results.map((r) => ({
      model: r.model,
      kind: r.kind,
      name: r.name,
      batch: r.batch,
      ...(r.kind === "training step" ? { steps_per_s: +r.runsPerSecond.toPrecision(4) } : { calls_per_s: +r.runsPerSecond.toPrecision(4) }),
      examples_per_s: +r.examplesPerSecond.toPrecision(4),
      peak_bytes: r.peakBytes,
      arena_bytes: r.arenaBytes,
      rounds: r.rounds,
    }));
    const machine = { node: process.version, cpu: os.cpus()[0]?.model ?? null, cores: os.availableParallelism(), load: os.loadavg().map((l) => +l.toFixed(2)) };
    process.stdout.write(JSON.stringify({ file, backend: ranOn, seconds: time, date: new Date().toISOString(), ...machine, workloads }, null, 2) + "\n");
  } else process.stdout.write(table(file, ranOn, results));
  return ExitCode.ok;
}
