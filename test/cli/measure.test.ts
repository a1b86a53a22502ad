// cli/bench/measure.ts, the timing loop every benchmark shares: its counts and its memory probe.
// Never its timings.
import { describe, expect, it } from "vitest";
import { measure } from "../../cli/bench/measure.js";

describe("measure", () => {
  it("warms up, then runs at least the rounds asked for, and reports a positive rate", async () => {
    let calls = 0;
    const m = await measure(() => calls++, { seconds: 0.01, warmup: 2, minRounds: 4, roundMs: 1 });
    expect(m.rounds).toBeGreaterThanOrEqual(4);
    expect(m.runs).toBeGreaterThanOrEqual(m.rounds);
    expect(calls).toBe(m.runs + 2);
    expect(Number.isFinite(m.perSecond) && m.perSecond > 0).toBe(true);
    expect(m.best).toBeGreaterThanOrEqual(m.perSecond);
  });

  it("awaits an async workload before the next run", async () => {
    let running = 0;
    let overlapped = false;
    await measure(
      async () => {
        overlapped ||= running > 0;
        running++;
        await new Promise((r) => setTimeout(r, 1));
        running--;
      },
      { seconds: 0.01, minRounds: 2, roundMs: 1 },
    );
    expect(overlapped).toBe(false);
  });

  it("counts memory a workload holds on to in its peak", async () => {
    const held: Uint8Array[] = [];
    const bytes = 64 * 1024 * 1024;
    const m = await measure(
      () => {
        // Touched, so that it is resident; allocated once.
        if (held.length === 0) held.push(new Uint8Array(bytes).fill(1));
      },
      { seconds: 0.01, warmup: 1, minRounds: 1, roundMs: 1 },
    );
    expect(m.peakBytes).toBeGreaterThan(bytes * 0.9);
    held.length = 0;
  });
});
