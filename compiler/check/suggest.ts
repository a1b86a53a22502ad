/**
 * "Did you mean ...?": the closest names to a misspelt one, by edit distance.
 *
 * Suggestions must stay cheap on any program, so their cost is bounded three
 * ways: a name longer than `MAX_SUGGESTED_NAME` gets none; only candidates
 * whose length is within the edit threshold are compared (scopes hand them
 * out by length, see `Scope.near`), and each comparison stops once it cannot
 * come under the threshold; and one check run spends at most a fixed budget
 * of work on suggestions, after which errors come without them.
 */

/** Names longer than this get no suggestion (nobody misspells a 65-letter name by a few letters). */
export const MAX_SUGGESTED_NAME = 64;

/** The work one check run may spend on suggestions: candidates looked at plus characters compared. */
export const SUGGESTION_BUDGET = 4_000_000;

/** How many edits a name of this length may be from a suggestion: a third of its length, at least one. */
export function editThreshold(length: number): number {
  return Math.max(1, Math.floor(length / 3));
}

/**
 * Levenshtein distance with adjacent transpositions counting as one edit,
 * computed in a band of `limit` around the diagonal: any result above `limit`
 * is returned as `limit + 1`. `onCells` learns how many cells were computed.
 */
export function editDistance(a: string, b: string, limit = Math.max(a.length, b.length), onCells?: (n: number) => void): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const cols = b.length + 1;
  const over = limit + 1;
  let before = new Array<number>(cols).fill(over);
  let previous = Array.from({ length: cols }, (_, j) => (j <= limit ? j : over));
  let cells = 0;
  for (let i = 1; i <= a.length; i++) {
    const current = new Array<number>(cols).fill(over);
    if (i <= limit) current[0] = i;
    const from = Math.max(1, i - limit);
    const to = Math.min(b.length, i + limit);
    let rowBest = current[0]!;
    for (let j = from; j <= to; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, before[j - 2]! + 1);
      current[j] = Math.min(best, over);
      rowBest = Math.min(rowBest, current[j]!);
    }
    cells += to - from + 1;
    if (rowBest > limit) {
      onCells?.(cells);
      return over;
    }
    before = previous;
    previous = current;
  }
  onCells?.(cells);
  return Math.min(previous[b.length]!, over);
}

/** Finds suggestions within one check run's budget, and counts the work it does. */
export class Suggester {
  /** Edit distances computed so far. */
  comparisons = 0;
  /** Work done so far: candidates looked at plus characters compared. */
  work = 0;

  constructor(readonly budget: number = SUGGESTION_BUDGET) {}

  /** True once the budget is spent: later problems get no suggestions. */
  get exhausted(): boolean {
    return this.work >= this.budget;
  }

  /**
   * Candidates close enough to `name` to be what was meant, best first: at
   * most a third of the name's length in edits (at least one), or equal
   * ignoring case. Candidates far longer or shorter than `name` are skipped
   * without being compared.
   */
  suggest(name: string, candidates: Iterable<string>, limit = 3): string[] {
    if (name.length === 0 || name.length > MAX_SUGGESTED_NAME) return [];
    const threshold = editThreshold(name.length);
    const lower = name.toLowerCase();
    const scored: { candidate: string; distance: number }[] = [];
    const seen = new Set<string>();
    for (const candidate of candidates) {
      if (this.exhausted) break;
      this.work++;
      if (candidate === name || seen.has(candidate) || candidate.length > MAX_SUGGESTED_NAME) continue;
      seen.add(candidate);
      const other = candidate.toLowerCase();
      // A name that extends a candidate (`integer` for `int`) or is cut short of one counts as close.
      const prefix = Math.min(lower.length, other.length) >= 3 && (lower.startsWith(other) || other.startsWith(lower));
      let distance: number;
      if (other === lower) distance = 0;
      else if (prefix) distance = threshold;
      else {
        this.comparisons++;
        distance = editDistance(name, candidate, threshold, (cells) => (this.work += cells));
      }
      if (distance <= threshold) scored.push({ candidate, distance });
    }
    scored.sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate));
    return scored.slice(0, limit).map((s) => s.candidate);
  }

  /** The note for a diagnostic: `did you mean 'dense'?`, or none. */
  didYouMean(name: string, candidates: Iterable<string>): string[] {
    return didYouMeanNote(this.suggest(name, candidates));
  }
}

/** Words suggestions as a note: `did you mean 'a', 'b' or 'c'?`. */
export function didYouMeanNote(found: readonly string[]): string[] {
  if (found.length === 0) return [];
  if (found.length === 1) return [`did you mean '${found[0]}'?`];
  return [`did you mean ${found.slice(0, -1).map((s) => `'${s}'`).join(", ")} or '${found[found.length - 1]}'?`];
}
