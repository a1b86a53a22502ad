/**
 * The debounce of diagnostics: work scheduled for a key runs once the key
 * has been quiet for the delay; scheduling it again restarts the wait, so a
 * burst of edits is checked once, after the last.
 */
export class Debouncer {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    /** Milliseconds of quiet before the work runs. */
    public delay: number,
  ) {}

  /** Runs `work` for `key` after the delay, replacing work scheduled for it before. */
  schedule(key: string, work: () => void): void {
    this.cancel(key);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        work();
      }, this.delay),
    );
  }

  /** Drops the work scheduled for `key`, if any. */
  cancel(key: string): void {
    const t = this.timers.get(key);
    if (t !== undefined) clearTimeout(t);
    this.timers.delete(key);
  }
}
