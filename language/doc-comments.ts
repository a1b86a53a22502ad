import type { IToken } from "chevrotain";
import { DocComment } from "./lexer.js";

/**
 * Attaches `///` doc comments to the declarations they precede.
 *
 * Consecutive `///` lines separated only by whitespace form one run; a run
 * documents the node that starts at the first non-blank character after it.
 * A run that documents nothing (before a parameter, a map entry, the end of a
 * body) is not lost: `leftovers()` hands it back as ordinary comments.
 */
export class DocTable {
  private readonly runs = new Map<number, IToken[]>();
  private readonly taken = new Set<IToken[]>();

  constructor(text: string, comments: readonly IToken[]) {
    let run: IToken[] | null = null;
    const close = () => {
      if (!run) return;
      const last = run[run.length - 1]!;
      let next = last.startOffset + last.image.length;
      while (next < text.length && /\s|\uFEFF/.test(text[next]!)) next++;
      this.runs.set(next, run);
      run = null;
    };
    for (const c of comments) {
      if (c.tokenType !== DocComment) {
        close();
        continue;
      }
      if (run) {
        const prev = run[run.length - 1]!;
        const between = text.slice(prev.startOffset + prev.image.length, c.startOffset);
        if (/^[\s\uFEFF]*$/.test(between)) {
          run.push(c);
          continue;
        }
        close();
      }
      run = [c];
    }
    close();
  }

  /** The doc text for a node starting at `offset`, or null; each run is given once. */
  take(offset: number): string | null {
    const run = this.runs.get(offset);
    if (!run || this.taken.has(run)) return null;
    this.taken.add(run);
    return run.map((t) => docLine(t.image)).join("\n");
  }

  /** Doc comment tokens no node took. */
  leftovers(): IToken[] {
    const out: IToken[] = [];
    for (const run of this.runs.values()) if (!this.taken.has(run)) out.push(...run);
    return out;
  }
}

/** The text of one `///` line: the slashes and one following space removed. */
function docLine(image: string): string {
  const body = image.slice(3);
  return body.startsWith(" ") ? body.slice(1) : body;
}
