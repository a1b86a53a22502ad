import type { Span } from "./ast.js";

/** A position for people: 1-based line and column. */
export interface LineCol {
  readonly line: number;
  readonly column: number;
}

/**
 * The text of one `.repr` file and its name. Nodes hold offsets; line and
 * column are computed here, on demand, from a table of line starts.
 */
export class Source {
  private lineStarts: number[] | null = null;

  constructor(
    /** The file name as the user gave it (shown in diagnostics). */
    readonly name: string,
    readonly text: string,
  ) {}

  /** 1-based line and column of an offset (columns count UTF-16 code units). */
  position(offset: number): LineCol {
    const starts = this.starts();
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= clamped) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: clamped - starts[lo]! + 1 };
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const starts = this.starts();
    const start = starts[line - 1];
    if (start === undefined) return "";
    const next = starts[line];
    let end = next === undefined ? this.text.length : next - 1;
    if (end > start && this.text[end - 1] === "\r") end--;
    return this.text.slice(start, end);
  }

  /** The number of lines in the text. */
  get lineCount(): number {
    return this.starts().length;
  }

  /** The source text a span covers. */
  slice(span: Span): string {
    return this.text.slice(span.start, span.end);
  }

  private starts(): number[] {
    if (this.lineStarts) return this.lineStarts;
    const starts = [0];
    for (let i = 0; i < this.text.length; i++) {
      if (this.text.charCodeAt(i) === 10) starts.push(i + 1);
    }
    this.lineStarts = starts;
    return starts;
  }
}
