/**
 * "Did you mean ...?": the closest names to a misspelt one, by edit distance.
 */

/** Levenshtein distance with adjacent transpositions counting as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Candidates close enough to `name` to be what was meant, best first: at most
 * a third of the name's length in edits (at least one), or equal ignoring case.
 */
export function suggest(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const threshold = Math.max(1, Math.floor(name.length / 3));
  const scored: { candidate: string; distance: number }[] = [];
  for (const candidate of new Set(candidates)) {
    if (candidate === name) continue;
    const lower = name.toLowerCase();
    const other = candidate.toLowerCase();
    // A name that extends a candidate (`integer` for `int`) or is cut short of one counts as close.
    const prefix = Math.min(lower.length, other.length) >= 3 && (lower.startsWith(other) || other.startsWith(lower));
    const distance = other === lower ? 0 : prefix ? threshold : editDistance(name, candidate);
    if (distance <= threshold) scored.push({ candidate, distance });
  }
  scored.sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate));
  return scored.slice(0, limit).map((s) => s.candidate);
}

/** The note for a diagnostic: `did you mean 'dense'?`, or none. */
export function didYouMean(name: string, candidates: Iterable<string>): string[] {
  const found = suggest(name, candidates);
  if (found.length === 0) return [];
  if (found.length === 1) return [`did you mean '${found[0]}'?`];
  return [`did you mean ${found.slice(0, -1).map((s) => `'${s}'`).join(", ")} or '${found[found.length - 1]}'?`];
}
