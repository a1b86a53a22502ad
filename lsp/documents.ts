/**
 * Open documents: their text as the editor has it, kept up to date from
 * `didChange` (full or incremental), and conversions between offsets and
 * LSP positions (lines and UTF-16 columns, as `Source` counts them).
 */
import type { Position, Range, TextDocumentContentChangeEvent } from "vscode-languageserver";
import type { Span } from "../language/ast.js";
import { Source } from "../language/source.js";

/** Line starts of a text: offsets just after each `\n`, and 0. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

/** Offsets and positions of one text. */
export class LineIndex {
  private readonly starts: number[];

  constructor(readonly text: string) {
    this.starts = lineStarts(text);
  }

  /** The offset of a position, clamped into the text (a column past the line's end is its end). */
  offsetAt(p: Position): number {
    if (p.line < 0) return 0;
    if (p.line >= this.starts.length) return this.text.length;
    const start = this.starts[p.line]!;
    const next = p.line + 1 < this.starts.length ? this.starts[p.line + 1]! - 1 : this.text.length;
    return Math.min(start + Math.max(0, p.character), next);
  }

  /** The position of an offset. */
  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - this.starts[lo]! };
  }

  /** The range of a span. */
  range(span: Span): Range {
    return { start: this.positionAt(span.start), end: this.positionAt(span.end) };
  }
}

/** One open document. */
export class Document {
  private index: LineIndex | null = null;
  private source: Source | null = null;

  constructor(
    readonly uri: string,
    /** The file's path: the name its `Source` has, and the key imports resolve to. */
    readonly path: string,
    public version: number,
    private content: string,
  ) {}

  get text(): string {
    return this.content;
  }

  /** The text as a `Source` named by the document's path (one object per version). */
  get asSource(): Source {
    return (this.source ??= new Source(this.path, this.content));
  }

  get lines(): LineIndex {
    return (this.index ??= new LineIndex(this.content));
  }

  /** Applies `didChange` content changes in order. */
  update(changes: readonly TextDocumentContentChangeEvent[], version: number): void {
    for (const change of changes) {
      if ("range" in change) {
        const lines = this.lines;
        const start = lines.offsetAt(change.range.start);
        const end = Math.max(start, lines.offsetAt(change.range.end));
        this.set(this.content.slice(0, start) + change.text + this.content.slice(end));
      } else this.set(change.text);
    }
    this.version = version;
  }

  private set(text: string): void {
    this.content = text;
    this.index = null;
    this.source = null;
  }
}
