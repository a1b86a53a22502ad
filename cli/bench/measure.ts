/**
 * The one timing loop of repr's benchmarks: `repr bench` and the scripts in
 * bench/ all time a workload with `measure`, so a rate means the same thing
 * everywhere. A workload is warmed up, then run in rounds of at least
 * `roundMs` milliseconds each until `seconds` have passed (and at least
 * `minRounds` rounds); the rate is the median round's runs per second, which
 * a busy, shared machine disturbs less than a mean. While it runs, the
 * resident set is sampled after every run and the process's peak resident set
 * read before and after, so `peakBytes` is the most memory the workload added
 * over what the process held when it began (peak RSS minus RSS after set-up).
 *
 * Invariant: nothing here decides what a workload is or how many FLOPs it
 * counts; callers do, and only multiply the rate.
 */
import { performance } from "node:perf_hooks";

/** How long and how finely to time. */
export interface MeasureOptions {
  /** Seconds of timed rounds, after the warm-up (default 2). */
  readonly seconds?: number;
  /** Untimed runs first: compilation, first-touch of buffers, JIT (default 2). */
  readonly warmup?: number;
  /** The least number of timed rounds, however long they take (default 3). */
  readonly minRounds?: number;
  /** Each round repeats the workload for at least this long (default 25). */
  readonly roundMs?: number;
}

/** What `measure` found. */
export interface Measurement {
  /** Runs per second: the median of the rounds. */
  readonly perSecond: number;
  /** The fastest round's runs per second. */
  readonly best: number;
  readonly rounds: number;
  readonly runs: number;
  /** Peak resident bytes during the workload (warm-up included) less the resident bytes when it began; at least 0. */
  readonly peakBytes: number;
}

/** The resident set now, in bytes. */
export function residentBytes(): number {
  return process.memoryUsage.rss();
}

/** The process's peak resident set so far, in bytes (getrusage's maxrss). */
export function peakResidentBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * Times `run` (sync or async) as the module comment says. The resident set
 * when `measure` is called is the baseline, so call it after the set-up the
 * peak should not count (reading files, making data) and before compiling.
 */
export async function measure(run: () => unknown, options: MeasureOptions = {}): Promise<Measurement> {
  const seconds = options.seconds ?? 2;
  const minRounds = options.minRounds ?? 3;
  const roundMs = options.roundMs ?? 25;
  const base = residentBytes();
  const peakBefore = peakResidentBytes();
  let sampled = base;
  const once = async (): Promise<void> => {
    await run();
    sampled = Math.max(sampled, residentBytes());
  };
  for (let i = 0; i < (options.warmup ?? 2); i++) await once();
  const rates: number[] = [];
  let runs = 0;
  const start = performance.now();
  while (rates.length < minRounds || performance.now() - start < seconds * 1000) {
    let n = 0;
    const t0 = performance.now();
    do {
      await once();
      n++;
    } while (performance.now() - t0 < roundMs);
    rates.push((n * 1000) / (performance.now() - t0));
    runs += n;
  }
  // A peak the process reached during this workload shows in maxrss; an earlier, higher one hides it, and then the samples speak.
  const peakAfter = peakResidentBytes();
  const peak = peakAfter > peakBefore ? Math.max(peakAfter, sampled) : sampled;
  return { perSecond: median(rates), best: Math.max(...rates), rounds: rates.length, runs, peakBytes: Math.max(0, peak - base) };
}
