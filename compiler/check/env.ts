/**
 * The state shared by one `checkProgram` run: where diagnostics go, which
 * sources are the standard library, and how a diagnostic found inside a block
 * is placed when that block was used from elsewhere.
 */
import type { Span } from "../../language/ast.js";
import type { Source } from "../../language/source.js";
import { diagnostic, type Diagnostic, type MessageArgs, type RelatedSpan } from "../../language/diagnostics/diagnostic.js";
import { messages, type MessageTemplate } from "../../language/diagnostics/messages.js";
import type { Location } from "./program.js";
import { Suggester } from "./suggest.js";

/** One level of block instantiation: the block used and where it was used. */
export interface Site {
  readonly block: string;
  readonly location: Location;
}

/** Extra parts of a diagnostic. */
export interface ReportExtra {
  readonly notes?: readonly string[];
  /** The fix, with the code to write (`= help:` lines). */
  readonly help?: readonly string[];
  readonly related?: readonly RelatedSpan[];
}

/**
 * How deeply parts and blocks may be applied inside one another: a part
 * whose layers use a part whose layers use a part ..., or a block whose body
 * uses a block .... Each level is a few nested calls of the checker, so the
 * limit keeps deep programs within the stack (spec/names.md).
 */
export const MAX_NESTING = 1500;

/**
 * How many layers checking may make in one run: every built-in layer
 * applied, every block instantiated, every copy a `repeat` makes. Nested
 * `repeat`s and blocks multiply, so without a limit a short program could
 * expand to billions of layers (spec/layers.md#repeat).
 */
export const MAX_LAYERS = 100_000;

/** Collects diagnostics, without duplicates (a block used twice reports its problems once). */
export class CheckEnv {
  private readonly list: Diagnostic[] = [];
  private readonly seen = new Set<string>();
  private capturing: Diagnostic[][] = [];
  readonly stdSources = new Set<Source>();
  /** Block declarations on a cycle of uses, already reported at their declarations (RC212). */
  readonly recursiveBlocks = new Set<object>();
  private readonly memos = new Map<string, WeakMap<object, unknown>>();

  constructor(
    /** Finds "did you mean" suggestions within this run's budget. */
    readonly suggester: Suggester = new Suggester(),
  ) {}

  /** The "did you mean" note for a misspelt name, or none. */
  didYouMean(name: string, candidates: Iterable<string>): string[] {
    return this.suggester.didYouMean(name, candidates);
  }

  /** Computes something once per key for this run (e.g. a block's parameter types). */
  memo<K extends object, V>(table: string, key: K, compute: () => V): V {
    let map = this.memos.get(table);
    if (!map) this.memos.set(table, (map = new WeakMap()));
    if (map.has(key)) return map.get(key) as V;
    const value = compute();
    map.set(key, value);
    return value;
  }

  /** Where parts and blocks are being applied, outermost first. */
  private readonly nesting: Location[] = [];
  /** The innermost application seen so far and its level, for a program that overflows the stack anyway (check.ts). */
  deepest: { readonly site: Location; readonly level: number } | null = null;

  /**
   * Enters the application of a part or a block at `site`; false (after
   * reporting RC214 once) when that would nest deeper than `MAX_NESTING`.
   * Every `enter` that returns true is paired with a `leave`.
   */
  enter(site: Location): boolean {
    if (this.nesting.length >= MAX_NESTING) {
      if (!this.tooDeep) {
        this.tooDeep = true;
        this.report(messages.applicationTooDeep, site, { levels: MAX_NESTING.toLocaleString("en-US") }, {
          notes: [`at most ${MAX_NESTING.toLocaleString("en-US")} levels are checked; the outermost application is at ${describeLocation(this.nesting[0]!)}`],
        });
      }
      return false;
    }
    this.nesting.push(site);
    if (this.nesting.length > (this.deepest?.level ?? 0)) this.deepest = { site, level: this.nesting.length };
    return true;
  }

  /** Leaves the innermost application. */
  leave(): void {
    this.nesting.pop();
  }

  private tooDeep = false;

  /** Layers made so far in this run (see `MAX_LAYERS`). */
  layersMade = 0;
  private tooLarge = false;

  /**
   * Counts a layer made at `site`; false (after reporting RC534 once) past
   * `MAX_LAYERS`, when the caller stops expanding.
   */
  makeLayer(site: Location, sites: readonly Site[]): boolean {
    if (this.layersMade >= MAX_LAYERS) {
      if (!this.tooLarge) {
        this.tooLarge = true;
        const outermost = this.nesting[0];
        this.report(messages.expansionTooLarge, site, { limit: MAX_LAYERS.toLocaleString("en-US") }, {
          notes: outermost ? [`the outermost application is at ${describeLocation(outermost)}`] : [],
        }, sites);
      }
      return false;
    }
    this.layersMade++;
    return true;
  }

  /** Marks the expansion limit as reported (a repeat refused up front, RC533), so it is not reported again. */
  refuseExpansion(): void {
    this.tooLarge = true;
  }

  /** Adds a finished diagnostic (e.g. from the parser). */
  add(d: Diagnostic): void {
    const sink = this.capturing[this.capturing.length - 1];
    if (sink) {
      sink.push(d);
      return;
    }
    const key = `${d.code}|${d.source.name}|${d.span.start}|${d.span.end}|${d.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(d);
  }

  /**
   * Reports a problem at a location. Inside a block used from elsewhere, the
   * uses are added as related spans; a problem inside the standard library is
   * reported at the user's use of the std block, with the std position in a note.
   */
  report(
    template: MessageTemplate,
    location: Location,
    args: MessageArgs = {},
    extra: ReportExtra = {},
    sites: readonly Site[] = [],
  ): void {
    let at = location;
    const notes = [...(extra.notes ?? [])];
    const related = [...(extra.related ?? [])];
    if (this.stdSources.has(at.source)) {
      for (let i = sites.length - 1; i >= 0; i--) {
        const site = sites[i]!;
        if (this.stdSources.has(site.location.source)) continue;
        const p = at.source.position(at.span.start);
        notes.push(`inside standard-library block '${site.block}' (${at.source.name}:${p.line}:${p.column})`);
        at = site.location;
        sites = sites.slice(0, i);
        break;
      }
    }
    for (const site of [...sites].reverse().slice(0, 3)) {
      if (site.location.source === at.source && site.location.span.start === at.span.start) continue;
      related.push({ source: site.location.source, span: site.location.span, message: `in this use of block '${site.block}'` });
    }
    this.add(diagnostic(template, at.source, at.span, args, { notes, related, help: extra.help ?? [] }));
  }

  /** Runs `fn`, keeping the diagnostics it reports out of the result; returns them. */
  capture<T>(fn: () => T): { result: T; diagnostics: Diagnostic[] } {
    const sink: Diagnostic[] = [];
    this.capturing.push(sink);
    try {
      return { result: fn(), diagnostics: sink };
    } finally {
      this.capturing.pop();
    }
  }

  /** How many errors have been reported so far (to tell whether a declaration added any). */
  errorCount(): number {
    const sink = this.capturing[this.capturing.length - 1] ?? this.list;
    return sink.filter((d) => d.severity === "error").length;
  }

  /** Every diagnostic reported, in report order. */
  diagnostics(): Diagnostic[] {
    return this.list.slice();
  }
}

/** `main.repr:3:15`, for notes. */
export function describeLocation(l: Location): string {
  const p = l.source.position(l.span.start);
  return `${l.source.name}:${p.line}:${p.column}`;
}

/** A location in a source. */
export function at(source: Source, span: Span): Location {
  return { source, span };
}
