import { describe, expect, it } from "vitest";
import { createProgress, type ProgressStream } from "../../cli/report/progress.js";

/** A stream that records what is written, a terminal or not. */
function fakeStream(isTTY: boolean): ProgressStream & { text: () => string; lines: () => string[] } {
  const chunks: string[] = [];
  return {
    isTTY,
    columns: 120,
    write(chunk: string) {
      chunks.push(chunk);
      return true;
    },
    text: () => chunks.join(""),
    lines: () => chunks.join("").split("\n").filter((l) => l !== ""),
  };
}

/** A clock the test moves by hand, in milliseconds. */
function fakeClock(): { now: () => number; set: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, set: (ms) => (t = 1000 + ms) };
}

describe("createProgress, plain mode", () => {
  it("writes the documented line", () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const progress = createProgress({ total: 1250, phase: "pretrain", stream, clock: clock.now });
    clock.set((120 / 23.1) * 1000);
    progress.update(120, { loss: 0.02314 });
    progress.stop();
    expect(stream.text()).toBe("pretrain  step 120/1250  loss 0.02314  23.1 steps/s  eta 49s\n");
  });

  it("writes at most one line per interval, and the last update at stop", () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const progress = createProgress({ total: 1250, phase: "pretrain", stream, clock: clock.now });
    // 25 steps per second, reported every 10 steps.
    for (let step = 10; step <= 120; step += 10) {
      clock.set(step * 40);
      progress.update(step, { loss: 25 / step });
    }
    progress.stop();
    expect(stream.lines()).toEqual([
      "pretrain  step 50/1250  loss 0.5000  25.0 steps/s  eta 48s",
      "pretrain  step 100/1250  loss 0.2500  25.0 steps/s  eta 46s",
      "pretrain  step 120/1250  loss 0.2083  25.0 steps/s  eta 45s",
    ]);
  });

  it("always writes the final step, and nothing more at stop", () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const progress = createProgress({ total: 20, phase: "adapt", stream, clock: clock.now });
    clock.set(500);
    progress.update(10, { loss: 1 });
    clock.set(1000);
    progress.update(20, { loss: 0.5 });
    progress.stop();
    progress.stop();
    progress.update(21, { loss: 0.1 });
    expect(stream.lines()).toEqual(["adapt  step 20/20  loss 0.5000  20.0 steps/s  eta 0s"]);
  });

  it("shows other metrics and examples per second", () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const progress = createProgress({ total: 100, phase: "adapt", stream, clock: clock.now });
    clock.set(2000);
    progress.update(10, { loss: 1, acc: 0.5, examples: 640 });
    expect(stream.lines()).toEqual(["adapt  step 10/100  loss 1.000  acc 0.5000  5.00 steps/s  320 examples/s  eta 18s"]);
  });

  it("takes the interval and counts rates from the start step", () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const progress = createProgress({ total: 1250, phase: "pretrain", stream, clock: clock.now, intervalSeconds: 0.5, startStep: 1000 });
    clock.set(400);
    progress.update(1002, { loss: 0.1 });
    clock.set(2000);
    progress.update(1010, { loss: 0.1 });
    expect(stream.lines()).toEqual(["pretrain  step 1010/1250  loss 0.1000  5.00 steps/s  eta 48s"]);
  });

  it("writes log lines in order with the progress lines", () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const progress = createProgress({ total: 4, phase: "probe", stream, clock: clock.now, intervalSeconds: 0 });
    progress.log("compiling probe");
    clock.set(1000);
    progress.update(1, { loss: 2 });
    progress.log("checkpoint written");
    progress.stop();
    expect(stream.lines()).toEqual([
      "compiling probe",
      "probe  step 1/4  loss 2.000  1.00 steps/s  eta 3s",
      "checkpoint written",
    ]);
  });

  it("has no rate and no ETA before any time has passed", () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const progress = createProgress({ total: 4, phase: "probe", stream, clock: clock.now, intervalSeconds: 0 });
    progress.update(1, { loss: Number.NaN });
    expect(stream.lines()).toEqual(["probe  step 1/4  loss nan  -- steps/s  eta --"]);
  });

  it("is plain on a terminal when asked", () => {
    const stream = fakeStream(true);
    const clock = fakeClock();
    const progress = createProgress({ total: 10, phase: "pretrain", stream, clock: clock.now, plain: true });
    clock.set(1000);
    progress.update(10, { loss: 0.25 });
    progress.stop();
    expect(stream.text()).toBe("pretrain  step 10/10  loss 0.2500  10.0 steps/s  eta 0s\n");
  });
});

describe("createProgress, terminal mode", () => {
  it("draws a bar with the phase, step and loss, and keeps log lines above it", () => {
    const stream = fakeStream(true);
    const clock = fakeClock();
    const progress = createProgress({ total: 1250, phase: "pretrain", stream, clock: clock.now });
    clock.set((120 / 23.1) * 1000);
    progress.update(120, { loss: 0.02314 });
    progress.log("checkpoint written");
    progress.stop();
    // Strip the cursor-movement escapes to see the text a user reads.
    const text = stream.text().replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
    expect(text).toContain("checkpoint written\n");
    const finalBar = text.slice(text.lastIndexOf("checkpoint written\n") + "checkpoint written\n".length);
    expect(finalBar).toMatch(/^pretrain \S+ 120\/1250  loss 0\.02314  23\.1 steps\/s  eta 49s\n$/);
  });
});
