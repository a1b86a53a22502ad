/**
 * Pause points for tests. A test that must deliver a signal at an exact
 * boundary of a run (after a given update, between two steps) cannot win a
 * race against a fast machine by waiting; instead it sets
 * `REPR_TEST_PAUSE` to a comma-separated list of points, and the run, on
 * reaching one, prints `test pause: POINT` on stderr and waits there until
 * SIGINT or SIGTERM arrives (or it is killed). The run's own signal handler
 * has already run by the time the pause ends, so the run then stops exactly
 * as it would have if the signal had arrived at that boundary.
 *
 * Points, 1-based as the progress lines show them:
 * - `update:S:N`: after update N of pipeline step S has been applied;
 * - `step:S`: after step S has finished (its checkpoint, report and resume
 *   point written), before step S + 1 starts.
 *
 * Without the variable, `testPause` returns undefined and costs one lookup.
 */

const points: ReadonlySet<string> = new Set(
  (process.env["REPR_TEST_PAUSE"] ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== ""),
);

/** Waits at `point` when a test asked for it; undefined (nothing to await) otherwise. */
export function testPause(point: string): Promise<void> | undefined {
  if (points.size === 0 || !points.has(point)) return undefined;
  process.stderr.write(`test pause: ${point}\n`);
  return new Promise((resolve) => {
    // Signal listeners do not keep the event loop alive; this timer does.
    const alive = setInterval(() => undefined, 1 << 30);
    const resume = () => {
      clearInterval(alive);
      process.off("SIGINT", resume);
      process.off("SIGTERM", resume);
      resolve();
    };
    process.on("SIGINT", resume);
    process.on("SIGTERM", resume);
  });
}
