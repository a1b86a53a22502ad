import cliProgress from "cli-progress";
import { formatDuration, formatRate, formatSignificant } from "./format.js";

export { formatDuration, formatRate } from "./format.js";

/** The part of a stream the progress display writes to; `process.stderr` is one. */
export interface ProgressStream {
  write(chunk: string): boolean;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** The step at which the phase ends. */
  readonly total: number;
  /** The phase's name (`pretrain`, `adapt`, …), shown first on every line. */
  readonly phase: string;
  /** Where to write (default `process.stderr`, so that stdout stays clean for results). */
  readonly stream?: NodeJS.WriteStream | ProgressStream;
  /** Plain log lines even on a terminal (for `--plain`, or when output is captured). */
  readonly plain?: boolean;
  /** In plain mode, the least time between two lines, in seconds (default 2). */
  readonly intervalSeconds?: number;
  /** Milliseconds since some fixed origin (default `performance.now`); tests pass a fake clock. */
  readonly clock?: () => number;
  /**
   * The step already reached when the display is created (default 0). Rates
   * count from here, so a run resumed from a checkpoint does not report the
   * steps it skipped as done in no time.
   */
  readonly startStep?: number;
}

/**
 * Training progress for one phase: a live bar on a terminal, throttled log
 * lines elsewhere. Always call {@link Progress.stop} (in a `finally`), since on a
 * terminal a timer keeps redrawing the bar until then.
 */
export interface Progress {
  /**
   * Reports that `step` steps of the phase are done, with the latest loss and any
   * other metrics, which are shown by name with four significant digits. The
   * value `examples`, if given, is not shown as a metric: it is the number of
   * examples processed since the display was created, and gives examples/s.
   */
  update(step: number, values: { loss: number; [k: string]: number }): void;
  /** Prints a line above the bar (or between the log lines) without breaking the bar. */
  log(line: string): void;
  /** Shows the final state and ends the display; later calls do nothing. */
  stop(): void;
}

/**
 * Creates the progress display of one phase. On a TTY (unless `plain`) it is a
 * cli-progress bar: phase, bar, step/total, loss, steps/s (and examples/s), ETA.
 * Otherwise it writes lines like
 * `pretrain  step 120/1250  loss 0.02314  23.1 steps/s  eta 49s`,
 * at most one per interval, and always one for the last update (at the final
 * step, or at `stop()`), so a log file shows where the phase ended.
 */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const clock = options.clock ?? (() => performance.now());
  const state: Clock = { start: clock(), startStep: options.startStep ?? 0, now: clock };
  const describe = (step: number, values: Values): string => stats(options.total, step, values, state);
  return options.plain || !stream.isTTY
    ? plainProgress(options, stream, describe, clock)
    : barProgress(options, stream, describe);
}

type Values = { loss: number; [k: string]: number };

interface Clock {
  readonly start: number;
  readonly startStep: number;
  readonly now: () => number;
}

function plainProgress(
  options: ProgressOptions,
  stream: ProgressStream,
  describe: (step: number, values: Values) => string,
  clock: () => number,
): Progress {
  const interval = (options.intervalSeconds ?? 2) * 1000;
  let lastPrint = clock();
  let pending: string | null = null;
  let stopped = false;
  return {
    update(step, values) {
      if (stopped) return;
      const line = `${options.phase}  step ${step}/${options.total}  ${describe(step, values)}`;
      const now = clock();
      if (step >= options.total || now - lastPrint >= interval) {
        stream.write(line + "\n");
        lastPrint = now;
        pending = null;
      } else {
        pending = line;
      }
    },
    log(line) {
      stream.write(line + "\n");
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (pending !== null) stream.write(pending + "\n");
      pending = null;
    },
  };
}

function barProgress(
  options: ProgressOptions,
  stream: ProgressStream,
  describe: (step: number, values: Values) => string,
): Progress {
  const bars = new cliProgress.MultiBar(
    {
      stream: stream as NodeJS.WritableStream,
      format: "{phase} {bar} {value}/{total}  {stats}",
      barsize: 24,
      // The cursor stays visible: if the process is killed mid-run, a hidden
      // cursor would outlive it in the user's terminal.
      hideCursor: false,
      clearOnComplete: false,
      autopadding: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const bar = bars.create(options.total, options.startStep ?? 0, { phase: options.phase, stats: "" });
  let stopped = false;
  return {
    update(step, values) {
      if (stopped) return;
      bar.update(step, { stats: describe(step, values) });
    },
    log(line) {
      if (stopped) {
        stream.write(line + "\n");
        return;
      }
      bars.log(line + "\n");
      // Redraw now rather than at the next tick, so log lines keep their order
      // relative to anything else the caller writes.
      bars.update();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bars.stop();
    },
  };
}

/** `loss 0.02314  acc 0.9120  23.1 steps/s  740 examples/s  eta 49s` for the given step. */
function stats(total: number, step: number, values: Values, clock: Clock): string {
  const parts = [`loss ${formatSignificant(values.loss)}`];
  for (const [key, value] of Object.entries(values)) {
    if (key !== "loss" && key !== "examples") parts.push(`${key} ${formatSignificant(value)}`);
  }
  const seconds = (clock.now() - clock.start) / 1000;
  const stepsPerSecond = seconds > 0 ? (step - clock.startStep) / seconds : NaN;
  parts.push(formatRate(stepsPerSecond, "steps"));
  if (values.examples !== undefined) parts.push(formatRate(seconds > 0 ? values.examples / seconds : NaN, "examples"));
  const remaining = Math.max(0, total - step);
  const eta = remaining === 0 ? 0 : stepsPerSecond > 0 ? remaining / stepsPerSecond : NaN;
  parts.push(`eta ${formatDuration(eta)}`);
  return parts.join("  ");
}
