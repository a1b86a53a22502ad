/**
 * The debounce of diagnostics: a burst of edits is checked once, after the
 * last, and a document closed meanwhile is not checked at all.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { Debouncer } from "../../lsp/debounce.js";
import { MAX_DEBOUNCE_MS } from "../../lsp/server.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("Debouncer", () => {
  it("runs a burst once, the delay after its last schedule", () => {
    vi.useFakeTimers();
    const d = new Debouncer(MAX_DEBOUNCE_MS);
    const runs: string[] = [];
    for (const v of ["v2", "v3", "v4"]) {
      d.schedule("a.repr", () => runs.push(v));
      vi.advanceTimersByTime(MAX_DEBOUNCE_MS - 1);
    }
    expect(runs).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(runs).toEqual(["v4"]);
  });

  it("keeps documents apart, and drops what is cancelled", () => {
    vi.useFakeTimers();
    const d = new Debouncer(10);
    const runs: string[] = [];
    d.schedule("a", () => runs.push("a"));
    d.schedule("b", () => runs.push("b"));
    d.cancel("a");
    vi.advanceTimersByTime(10);
    expect(runs).toEqual(["b"]);
  });

  it("waits at most 50 ms", () => {
    expect(MAX_DEBOUNCE_MS).toBeLessThanOrEqual(50);
  });
});
