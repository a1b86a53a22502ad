/**
 * Per-declaration reuse of diagnostics across versions of a program (the
 * `DeclarationReuse` hook of `checkProgram`).
 *
 * What a model reports depends on its own text, on the text of the blocks
 * it uses (directly or through other blocks), and on the names and kinds of
 * everything in scope (a name used wrongly is reported by what it is). A
 * pipeline depends on that too, on the data declarations (their text) and
 * on the text of the models it pretrains and of the blocks they use. None of it
 * depends on where the declaration is, so a result is kept with the text
 * of every file it points into and reused after edits elsewhere, its spans
 * moved with the text around them. An edit that touches a span a result
 * points at (a block a model uses, say) makes it unusable, and the
 * declaration is checked again.
 */
import type { Item, ModelDecl, PipelineDecl, Span } from "../../language/ast.js";
import type { Diagnostic } from "../../language/diagnostics/diagnostic.js";
import type { Source } from "../../language/source.js";
import type { DeclarationReuse, ModuleInfo } from "../../compiler/check/check.js";

/** Maps offsets of an older text to a newer one: unchanged before and after one edited range. */
export class OffsetMap {
  private readonly prefix: number;
  private readonly oldSuffixStart: number;
  private readonly delta: number;

  constructor(before: string, after: string) {
    const max = Math.min(before.length, after.length);
    let p = 0;
    while (p < max && before.charCodeAt(p) === after.charCodeAt(p)) p++;
    let s = 0;
    while (s < max - p && before.charCodeAt(before.length - 1 - s) === after.charCodeAt(after.length - 1 - s)) s++;
    this.prefix = p;
    this.oldSuffixStart = before.length - s;
    this.delta = after.length - before.length;
  }

  /** Where a span of the older text is in the newer one; null when the edit touched it. */
  span(span: Span): Span | null {
    if (span.end <= this.prefix) return span;
    if (span.start >= this.oldSuffixStart) return { start: span.start + this.delta, end: span.end + this.delta };
    return null;
  }

  /** Where an offset of the newer text was in the older one; null inside the edit. */
  back(offset: number): number | null {
    if (offset < this.prefix) return offset;
    if (offset >= this.oldSuffixStart + this.delta) return offset - this.delta;
    return null;
  }
}

/** Results kept for one version of a set of files. */
interface Generation {
  /** The text of each file (by source name) that results point into. */
  readonly texts: Map<string, string>;
  readonly results: Map<string, readonly Diagnostic[]>;
}

/** How many results one run reused and checked, for tests and the benchmark. */
export interface ReuseStats {
  reused: number;
  checked: number;
}

/** Reuse across the runs of one document's program. */
export class DeclarationCache {
  private last: Generation = { texts: new Map(), results: new Map() };
  stats: ReuseStats = { reused: 0, checked: 0 };

  /** The hook for one `checkProgram` run; call `finish` after it. */
  run(): DeclarationReuse & { finish(): void } {
    const previous = this.last;
    const next: Generation = { texts: new Map(), results: new Map() };
    const stats: ReuseStats = { reused: 0, checked: 0 };
    let context: RunContext | null = null;
    const ctx = (module: ModuleInfo): RunContext => (context ??= new RunContext(module, previous));
    return {
      diagnostics: (decl, module) => {
        const c = ctx(module);
        const old = c.oldOffset(module, decl);
        if (old === null) return undefined;
        const found = previous.results.get(c.key(module, decl, old));
        const moved = found && c.move(found);
        if (!moved) return undefined;
        next.results.set(c.key(module, decl, decl.span.start), moved);
        stats.reused++;
        return moved;
      },
      checked: (decl, module, diagnostics) => {
        const c = ctx(module);
        next.results.set(c.key(module, decl, decl.span.start), diagnostics);
        stats.checked++;
      },
      finish: () => {
        context?.keepTexts(next);
        this.last = next;
        this.stats = stats;
      },
    };
  }
}

/** Environments seen, numbered, so keys stay short (the texts they stand for may be long). */
const environments = new Map<string, number>();
let nextEnvironment = 0;

/** The number standing for an environment's text. */
function environmentId(text: string): number {
  let id = environments.get(text);
  if (id === undefined) {
    if (environments.size > 10_000) environments.clear();
    environments.set(text, (id = nextEnvironment++));
  }
  return id;
}

/** The identifiers of declarations, by their text (a declaration's text decides them). */
const identifiersByText = new Map<string, ReadonlySet<string>>();

/** Every identifier a declaration names, computed once per text. */
function identifiersOf(source: Source, decl: { span: Span }): ReadonlySet<string> {
  const text = source.slice(decl.span);
  let found = identifiersByText.get(text);
  if (!found) {
    if (identifiersByText.size > 50_000) identifiersByText.clear();
    identifiersByText.set(text, (found = identifiers(decl, new Set())));
  }
  return found;
}

/** Every identifier an expression tree names (any node of kind `Ident`). */
function identifiers(node: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(node)) {
    for (const n of node) identifiers(n, out);
  } else if (node !== null && typeof node === "object") {
    const record = node as Record<string, unknown>;
    if (record["kind"] === "Ident" && typeof record["name"] === "string") out.add(record["name"]);
    for (const key in record) if (key !== "span" && key !== "doc") identifiers(record[key], out);
  }
  return out;
}

/** What one run knows: every loaded file, how each moved, and what the declarations depend on. */
class RunContext {
  private readonly modules = new Map<string, ModuleInfo>();
  private readonly maps = new Map<string, OffsetMap | null>();
  /** The names and kinds of every file's declarations, and the text of its data declarations. */
  private readonly names: number;
  private readonly blockClosures = new Map<object, string>();

  constructor(
    entry: ModuleInfo,
    private readonly previous: Generation,
  ) {
    const visit = (m: ModuleInfo): void => {
      if (this.modules.has(m.source.name)) return;
      this.modules.set(m.source.name, m);
      for (const i of m.imports) if (i.target) visit(i.target);
    };
    visit(entry);
    const parts: string[] = [];
    for (const [name, m] of [...this.modules].sort(([a], [b]) => a.localeCompare(b))) {
      parts.push(`file ${name}`);
      for (const item of m.ast.items) {
        if (item.kind === "Import" || item.kind === "Data") parts.push(m.source.slice(item.span));
        else parts.push(`${item.kind} ${item.name.text}`);
      }
    }
    this.names = environmentId(parts.join("\u0000"));
  }

  /**
   * The texts of the blocks a declaration uses, directly or through other
   * blocks, wherever they are declared (a model's result depends on them,
   * not on blocks it does not use).
   */
  private blocksUsed(module: ModuleInfo, node: { span: Span }): string {
    const cached = this.blockClosures.get(node);
    if (cached !== undefined) return cached;
    const texts: string[] = [];
    const seen = new Set<object>();
    const visit = (m: ModuleInfo, n: { span: Span }): void => {
      for (const name of identifiersOf(m.source, n)) {
        const top = m.scope.get(name);
        if (top?.kind !== "block" || seen.has(top.decl)) continue;
        seen.add(top.decl);
        texts.push(`${top.module.source.name}\u0000${top.module.source.slice(top.decl.span)}`);
        visit(top.module, top.decl);
      }
    };
    visit(module, node);
    const key = texts.sort().join("\u0000");
    this.blockClosures.set(node, key);
    return key;
  }

  /** How a file moved since the previous generation; null when it was not kept. */
  private map(name: string): OffsetMap | null {
    if (!this.maps.has(name)) {
      const before = this.previous.texts.get(name);
      const now = this.modules.get(name)?.source.text;
      this.maps.set(name, before === undefined || now === undefined ? null : new OffsetMap(before, now));
    }
    return this.maps.get(name)!;
  }

  /** Where a declaration began in the previous generation. */
  oldOffset(module: ModuleInfo, decl: Item): number | null {
    return this.map(module.source.name)?.back(decl.span.start) ?? null;
  }

  /** The key of a declaration's result: what it depends on, and where it starts. */
  key(module: ModuleInfo, decl: ModelDecl | PipelineDecl, offset: number): string {
    const own = `${this.names}\u0001${module.source.name}\u0000${offset}\u0000${module.source.slice(decl.span)}`;
    if (decl.kind === "Model") return `${own}\u0001${environmentId(this.blocksUsed(module, decl))}`;
    const models = decl.steps.flatMap((s) => {
      if (s.kind !== "Pretrain") return [];
      const top = module.scope.get(s.model.text);
      if (top?.kind !== "model") return [];
      return [`${top.module.source.name}\u0000${top.module.source.slice(top.decl.span)}\u0000${environmentId(this.blocksUsed(top.module, top.decl))}`];
    });
    return `${own}\u0001${environmentId(`${this.blocksUsed(module, decl)}\u0001${models.join("\u0001")}`)}`;
  }

  /** An earlier result moved to this version's offsets and sources; null when an edit touched one of its spans. */
  move(diagnostics: readonly Diagnostic[]): Diagnostic[] | null {
    const out: Diagnostic[] = [];
    const place = (source: Source, span: Span): { source: Source; span: Span } | null => {
      const now = this.modules.get(source.name);
      const map = this.map(source.name);
      const moved = now && map ? map.span(span) : null;
      return moved && now ? { source: now.source, span: moved } : null;
    };
    for (const d of diagnostics) {
      const at = place(d.source, d.span);
      if (!at) return null;
      const related = [];
      for (const r of d.related) {
        const rat = place(r.source, r.span);
        if (!rat) return null;
        related.push({ ...r, ...rat });
      }
      out.push({ ...d, ...at, related });
    }
    return out;
  }

  /** Records the text of every file this run loaded, which results point into. */
  keepTexts(into: Generation): void {
    for (const m of this.modules.values()) into.texts.set(m.source.name, m.source.text);
  }
}
