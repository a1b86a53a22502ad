/**
 * The server's view of the files: open documents as the editor has them,
 * other files as they are on disk, each parsed once per text (open
 * documents incrementally), checked with per-declaration reuse, and indexed
 * for names.
 */
import { readFileSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { FileNode } from "../language/ast.js";
import type { Diagnostic } from "../language/diagnostics/diagnostic.js";
import { parse, type ParseResult } from "../language/parser.js";
import { Source } from "../language/source.js";
import { checkProgram, type CheckResult, type DeclarationReuse } from "../compiler/check/check.js";
import { STD_DIR, resolveImport, type FileHost } from "../compiler/check/file-host.js";
import { Document } from "./documents.js";
import { IncrementalParser } from "./incremental/parse.js";
import { DeclarationCache } from "./incremental/reuse.js";
import { indexFile, type Definition, type FileSymbols } from "./analysis/symbols.js";

/** The path a diagnostic's source name stands for (`std/nn.repr` is the bundled file). */
export function pathOfSourceName(name: string): string {
  return !isAbsolute(name) && name.startsWith("std/") ? join(STD_DIR, name.slice("std/".length)) : name;
}

/** What checking a document's program found. */
export interface Checked {
  readonly version: number;
  readonly diagnostics: readonly Diagnostic[];
  /** Paths of the files the program loaded (the document first). */
  readonly files: readonly string[];
}

/** Open documents and everything derived from files. */
export class Workspace {
  readonly documents = new Map<string, Document>();
  private readonly parsers = new Map<string, IncrementalParser>();
  private readonly caches = new Map<string, DeclarationCache>();
  private readonly parsed = new Map<string, { text: string; result: ParseResult }>();
  private readonly symbols = new Map<string, { text: string; symbols: FileSymbols }>();
  private readonly disk = new Map<string, { mtime: number; text: string | null }>();
  /** Files being indexed (an import cycle must not index a file inside itself). */
  private readonly indexing = new Set<string>();

  /** Reads files for the checker: open documents first, then the disk; never throws. */
  readonly host: FileHost = {
    readFile: (path) => this.read(path),
    resolve: (from, importPath) => resolveImport(from, importPath),
    displayName: (path) => path,
  };

  /** A file's text: the open document's, else the file's on disk (null when unreadable). */
  read(path: string): string | null {
    const doc = this.documents.get(path);
    if (doc) return doc.text;
    try {
      const mtime = statSync(path).mtimeMs;
      const cached = this.disk.get(path);
      if (cached && cached.mtime === mtime) return cached.text;
      const text = readFileSync(path, "utf8");
      this.disk.set(path, { mtime, text });
      return text;
    } catch {
      return null;
    }
  }

  open(doc: Document): void {
    this.documents.set(doc.path, doc);
    this.changed();
  }

  /**
   * Says that a document's text changed. A file's names depend on what the
   * files it imports declare, so every index is made again when next asked.
   */
  changed(): void {
    this.symbols.clear();
  }

  close(path: string): void {
    this.changed();
    this.documents.delete(path);
    this.parsers.delete(path);
    this.caches.delete(path);
  }

  /** Parses a file's text; open documents incrementally, others once per text. */
  parse(source: Source): ParseResult {
    const path = pathOfSourceName(source.name);
    if (this.documents.get(path)?.text === source.text) {
      let parser = this.parsers.get(path);
      if (!parser) this.parsers.set(path, (parser = new IncrementalParser()));
      const cached = this.parsed.get(path);
      if (cached?.text === source.text) return cached.result;
      const result = parser.parse(source);
      this.parsed.set(path, { text: source.text, result });
      return result;
    }
    const cached = this.parsed.get(path);
    if (cached?.text === source.text) return cached.result;
    const result = parse(source);
    this.parsed.set(path, { text: source.text, result });
    return result;
  }

  /** The parser of an open document (for its statistics). */
  parserOf(path: string): IncrementalParser | undefined {
    return this.parsers.get(path);
  }

  /** The declaration cache of an open document's program (for its statistics). */
  cacheOf(path: string): DeclarationCache | undefined {
    return this.caches.get(path);
  }

  /** The tree of a file (open or on disk); null when it cannot be read. */
  ast(path: string): FileNode | null {
    const text = this.read(path);
    return text === null ? null : this.parse(new Source(path, text)).ast;
  }

  /** The names of a file (open or on disk), indexed once per text. */
  symbolsOf(path: string): FileSymbols | null {
    const text = this.read(path);
    if (text === null) return null;
    const cached = this.symbols.get(path);
    if (cached?.text === text) return cached.symbols;
    const ast = this.parse(new Source(path, text)).ast;
    this.indexing.add(path);
    try {
      const symbols = indexFile(path, ast, (from, importPath) => this.importTarget(from, importPath), (model) => this.membersOf(model));
      this.symbols.set(path, { text, symbols });
      return symbols;
    } finally {
      this.indexing.delete(path);
    }
  }

  /** The members of a model of another file, from that file's index (none while that file is being indexed). */
  private membersOf(model: Definition): readonly Definition[] {
    if (this.indexing.has(model.path)) return [];
    const other = this.symbolsOf(model.path);
    const decl = other?.definitions.find((d) => d.kind === "model" && d.span.start === model.span.start);
    return decl ? other!.definitions.filter((d) => d.container === decl) : [];
  }

  /** The top-level declarations of the file an import names (its tree alone: imports may form a cycle). */
  private importTarget(from: string, importPath: string): { path: string; own: ReadonlyMap<string, Definition> } | null {
    const target = resolveImport(from, importPath);
    const ast = this.ast(target);
    if (!ast) return null;
    const own = new Map<string, Definition>();
    for (const item of ast.items) {
      if (item.kind === "Import" || own.has(item.name.text)) continue;
      const kind = item.kind === "Model" ? "model" : item.kind === "Data" ? "data" : item.kind === "Pipeline" ? "pipeline" : "block";
      own.set(item.name.text, { kind, name: item.name.text, path: target, span: item.name.span, full: item.span, container: null, node: item });
    }
    return { path: target, own };
  }

  /** Checks a document's program, reusing what did not change since the last check. */
  check(doc: Document): Checked {
    let cache = this.caches.get(doc.path);
    if (!cache) this.caches.set(doc.path, (cache = new DeclarationCache()));
    const run = cache.run();
    const { result, files } = this.run(doc.asSource, run);
    run.finish();
    return { version: doc.version, diagnostics: result.diagnostics, files };
  }

  /**
   * Checks a document's program for one declaration's results: everything
   * else is left unchecked (a pipeline still checks its model), so the
   * program holds that declaration alone.
   */
  checkOnly(source: Source, focus: object | null): CheckResult {
    const skip: DeclarationReuse = {
      diagnostics: (decl) => (decl === focus ? undefined : []),
      checked: () => {},
    };
    return this.run(source, skip).result;
  }

  private run(source: Source, reuse: DeclarationReuse): { result: CheckResult; files: string[] } {
    const files: string[] = [];
    const host: FileHost = {
      ...this.host,
      readFile: (path) => {
        files.push(path);
        return this.read(path);
      },
    };
    const result = checkProgram(source, host, { parse: (s) => this.parse(s), reuse });
    return { result, files: [pathOfSourceName(source.name), ...files] };
  }
}
