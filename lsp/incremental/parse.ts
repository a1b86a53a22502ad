/**
 * Incremental parsing: a document is parsed chunk by chunk (`chunks.ts`),
 * and a chunk whose text was parsed before is not parsed again.
 *
 * Why the result is what `parse` gives for the whole text: a chunk that
 * parses with no diagnostic at all is a run of whole declarations whose
 * brackets balance. Every declaration ends with a token (`}` or an import's
 * path) after which the parser decides nothing but "another declaration or
 * the end", so the parser enters each clean chunk in the same state, at the
 * top level, and reads it the same way alone or in the document.
 *
 * A chunk with diagnostics starts a segment, parsed as one text with the
 * chunks after it, one more at a time, until a later clean chunk is entered
 * at the top level: a declaration starts at its first token, no bracket of
 * the segment is still open there, and its diagnostics are its own. Past
 * that point the parser reads the rest as it would alone. Without such a
 * chunk within `MAX_SEGMENT` chunks, the whole text is parsed.
 */
import type { IToken } from "chevrotain";
import type { Comment, FileNode, Item } from "../../language/ast.js";
import type { Diagnostic } from "../../language/diagnostics/diagnostic.js";
import * as T from "../../language/lexer.js";
import { parse, type ParseResult } from "../../language/parser.js";
import { labelUnclosed, NEVER_CLOSED, unclosedBrackets } from "../../language/brackets.js";
import { Source } from "../../language/source.js";
import { chunksOf, rechunk, type Chunk } from "./chunks.js";
import { shiftDiagnostic, shiftTree } from "./shift.js";

/** The most chunks one segment may take before the whole text is parsed instead. */
const MAX_SEGMENT = 8;

/** A chunk's text parsed alone (offsets from the chunk's start). */
interface ChunkParse {
  readonly source: Source;
  readonly result: ParseResult;
  readonly clean: boolean;
}

/** How the last parse went, for tests and the benchmark. */
export interface ParseStats {
  readonly chunks: number;
  /** Chunks parsed in this call (the others came from earlier calls). */
  readonly parsed: number;
  readonly segments: number;
  readonly whole: boolean;
}

/** Parses successive versions of one document, reusing the chunks that did not change. */
export class IncrementalParser {
  private cache = new Map<string, ChunkParse>();
  /** The last call's chunks and where their items ended up, by chunk text and offset. */
  private placed = new Map<string, readonly Item[]>();
  /** The last text parsed and its chunks, to cut the next version only where it changed. */
  private last: { text: string; chunks: readonly Chunk[] } | null = null;
  stats: ParseStats = { chunks: 0, parsed: 0, segments: 0, whole: false };

  /** What `parse(source)` returns, computed from the chunks. */
  parse(source: Source): ParseResult {
    const chunks = (this.last && this.last.chunks.length > 0 && rechunk(this.last.text, this.last.chunks, source)) || chunksOf(source);
    this.last = { text: source.text, chunks };
    const next = new Map<string, ChunkParse>();
    const placed = new Map<string, readonly Item[]>();
    let parsed = 0;
    let segments = 0;
    const alone = (chunk: Chunk): ChunkParse => {
      let p = next.get(chunk.text) ?? this.cache.get(chunk.text);
      if (!p) {
        const s = new Source(source.name, chunk.text);
        const result = parse(s);
        p = { source: s, result, clean: result.diagnostics.length === 0 };
        parsed++;
      }
      next.set(chunk.text, p);
      return p;
    };

    const items: Item[] = [];
    const comments: Comment[] = [];
    const diagnostics: Diagnostic[] = [];
    let i = 0;
    while (i < chunks.length) {
      const chunk = chunks[i]!;
      const p = alone(chunk);
      if (p.clean) {
        const key = `${chunk.start}\u0000${chunk.text}`;
        const moved = this.placed.get(key) ?? shiftTree(p.result.ast.items, chunk.start);
        placed.set(key, moved);
        items.push(...moved);
        comments.push(...shiftTree(p.result.ast.comments, chunk.start));
        i++;
        continue;
      }
      segments++;
      const segment = this.segment(source, chunks, i, alone);
      if (!segment) {
        this.cache = next;
        this.placed = placed;
        this.stats = { chunks: chunks.length, parsed: parsed + 1, segments, whole: true };
        return parse(source);
      }
      parsed += segment.parsed;
      items.push(...segment.items);
      comments.push(...segment.comments);
      diagnostics.push(...segment.diagnostics);
      i = segment.next;
    }
    this.cache = next;
    this.placed = placed;
    this.stats = { chunks: chunks.length, parsed, segments, whole: false };
    const ast: FileNode = { kind: "File", items, comments, span: { start: 0, end: source.text.length } };
    return { ast, diagnostics: relabelBrackets(source, diagnostics) };
  }

  /**
   * Parses the segment that starts at chunk `i` (which has diagnostics):
   * its items, comments and diagnostics in document offsets, and the chunk
   * the parser leaves it for; null when no later chunk within reach is
   * entered at the top level.
   */
  private segment(
    source: Source,
    chunks: readonly Chunk[],
    i: number,
    alone: (chunk: Chunk) => ChunkParse,
  ): { items: Item[]; comments: Comment[]; diagnostics: Diagnostic[]; next: number; parsed: number } | null {
    const start = chunks[i]!.start;
    let parsed = 0;
    for (let j = i + 1; j <= Math.min(chunks.length, i + MAX_SEGMENT); j++) {
      const last = j === chunks.length;
      const s = new Source(source.name, source.text.slice(start, last ? source.text.length : chunks[j]!.end));
      const r = parse(s);
      parsed++;
      const place = (keep: (offset: number) => boolean) => ({
        items: shiftTree(r.ast.items.filter((it) => keep(it.span.start)), start),
        comments: shiftTree(r.ast.comments.filter((c) => keep(c.span.start)), start),
      });
      if (last) {
        const all = place(() => true);
        return { ...all, diagnostics: r.diagnostics.map((d) => shiftDiagnostic(d, s, source, start)), next: chunks.length, parsed };
      }
      const cj = chunks[j]!;
      const pj = alone(cj);
      const first = pj.result.ast.items[0];
      if (!pj.clean || !first) continue;
      const boundary = cj.start - start;
      const at = boundary + first.span.start;
      // The parser must enter chunk j at the top level, with nothing of the segment still open ...
      if (!r.ast.items.some((it) => it.span.start === at) || !bracketsClosed(new Source(source.name, s.text.slice(0, boundary)))) continue;
      // ... and read it as it does alone: no diagnostic past its first token, where the segment's last error may point.
      if (r.diagnostics.some((d) => d.span.start > at)) continue;
      const segment = place((offset) => offset < boundary);
      return { ...segment, diagnostics: r.diagnostics.map((d) => shiftDiagnostic(d, s, source, start)), next: j, parsed };
    }
    return null;
  }
}

/** True when every bracket the text opens is closed, matched as `nesting.ts` matches them. */
function bracketsClosed(source: Source): boolean {
  const opens = new Map([
    [T.LParen, T.RParen],
    [T.LBracket, T.RBracket],
    [T.LCurly, T.RCurly],
  ]);
  const stack: unknown[] = [];
  for (const t of T.tokenize(source).tokens as IToken[]) {
    const close = opens.get(t.tokenType);
    if (close) stack.push(close);
    else if (t.tokenType === T.RParen || t.tokenType === T.RBracket || t.tokenType === T.RCurly) {
      const at = stack.lastIndexOf(t.tokenType);
      if (at >= 0) stack.length = at;
    }
  }
  return stack.length === 0;
}

/**
 * The "this '(' is never closed" labels as `parse` gives them for the whole
 * text. A segment labels its errors from its own brackets, but a bracket a
 * later closer skipped is unclosed in the whole text while its segment ends
 * balanced, and its label belongs to the first syntax error after it, which
 * may be in another segment. So the labels are taken off and put back from
 * the whole text's tokens (lexing only, and only when there is an error).
 */
function relabelBrackets(source: Source, diagnostics: readonly Diagnostic[]): Diagnostic[] {
  if (diagnostics.length === 0) return [...diagnostics];
  const bare = diagnostics.map((d) => (d.related.some((r) => NEVER_CLOSED.test(r.message)) ? { ...d, related: d.related.filter((r) => !NEVER_CLOSED.test(r.message)) } : d));
  return labelUnclosed(source, bare, unclosedBrackets(T.tokenize(source).tokens));
}
