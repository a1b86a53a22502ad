/**
 * Loading a program: the entry file and everything it imports, parsed once
 * each; then the names each file can see at top level (its own declarations
 * and the ones it imports).
 */
import type { BlockDecl, DataDecl, ImportDecl, ModelDecl, Name, PipelineDecl } from "../../language/ast.js";
import type { Location } from "./program.js";
import type { FileNode } from "../../language/ast.js";
import { Source } from "../../language/source.js";
import { parse, type ParseResult } from "../../language/parser.js";
import { messages } from "../../language/diagnostics/messages.js";
import { reservedBuiltin } from "../builtins/index.js";
import { categoryNoun } from "../builtins/spec.js";
import type { CheckEnv } from "./env.js";
import type { FileHost, FileRefusal } from "./file-host.js";
import { STD_DIR } from "./file-host.js";

/** A top-level declaration and the file it lives in. */
export type TopDecl =
  | { readonly kind: "block"; readonly decl: BlockDecl; readonly module: ModuleInfo }
  | { readonly kind: "model"; readonly decl: ModelDecl; readonly module: ModuleInfo }
  | { readonly kind: "data"; readonly decl: DataDecl; readonly module: ModuleInfo }
  | { readonly kind: "pipeline"; readonly decl: PipelineDecl; readonly module: ModuleInfo };

/** One loaded file. */
export interface ModuleInfo {
  /** The resolved path (the key imports are matched by). */
  readonly path: string;
  readonly source: Source;
  readonly ast: FileNode;
  readonly isStd: boolean;
  /** What its imports point at (null where the file could not be loaded). */
  readonly imports: { readonly decl: ImportDecl; readonly target: ModuleInfo | null }[];
  /** Its own declarations, by name. */
  readonly own: Map<string, TopDecl>;
  /** Everything visible at its top level: own declarations and imported ones. */
  readonly scope: Map<string, TopDecl>;
  /**
   * Names it imports that could not be bound: the target does not declare
   * them (RC205), or the import itself failed (RC203, RC204). They stand for
   * the error value, so their uses are not reported again.
   */
  readonly unresolved: Set<string>;
  /** True when a wildcard import of it failed: any name might have come from it, so unknown names stay quiet. */
  wildcardFailed: boolean;
}

/** The entry file's key: its path as the host resolves it. */
function entryPath(entry: Source, host: FileHost): string {
  const base = entry.name.split(/[\\/]/).pop() ?? entry.name;
  return base.endsWith(".repr") ? host.resolve(entry.name, `./${base}`) : entry.name;
}

/** How a loaded file is named in diagnostics. */
function displayName(path: string, host: FileHost): string {
  if (path.startsWith(STD_DIR)) return `std/${path.slice(STD_DIR.length)}`;
  return host.displayName ? host.displayName(path) : path;
}

/**
 * Parses the entry and, depth first, every file it imports. A missing file is
 * reported at the import's path; an import that leads back to a file being
 * loaded is a cycle, reported at that import with the cycle in a note.
 */
export function loadModules(entry: Source, host: FileHost, env: CheckEnv, parseFile: (source: Source) => ParseResult = parse): ModuleInfo[] {
  const loaded = new Map<string, ModuleInfo>();
  const order: ModuleInfo[] = [];
  // Files being loaded, outermost first, each with the index of its next item: depth first with
  // an explicit stack, so a chain of thousands of imports does not exhaust the call stack.
  const stack: { module: ModuleInfo; next: number }[] = [];

  const open = (path: string, source: Source): ModuleInfo => {
    const parsed = parseFile(source);
    parsed.diagnostics.forEach((d) => env.add(d));
    const module: ModuleInfo = {
      path,
      source,
      ast: parsed.ast,
      isStd: path.startsWith(STD_DIR),
      imports: [],
      own: new Map(),
      scope: new Map(),
      unresolved: new Set(),
      wildcardFailed: false,
    };
    if (module.isStd) env.stdSources.add(source);
    loaded.set(path, module);
    order.push(module);
    stack.push({ module, next: 0 });
    return module;
  };

  open(entryPath(entry, host), entry);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const { module } = top;
    const item = module.ast.items[top.next++];
    if (!item) {
      stack.pop();
      continue;
    }
    if (item.kind !== "Import") continue;
    const source = module.source;
    const target = host.resolve(module.path, item.path.value);
    const onStack = stack.findIndex((e) => e.module.path === target);
    if (onStack >= 0) {
      const cycle = [...stack.slice(onStack), stack[onStack]!].map((e) => e.module.source.name).join(" -> ");
      env.report(messages.importCycle, { source, span: item.path.span }, { path: item.path.value }, { notes: [`the cycle: ${cycle}`] });
      module.imports.push({ decl: item, target: null });
      continue;
    }
    const known = loaded.get(target);
    if (known) {
      module.imports.push({ decl: item, target: known });
      continue;
    }
    const text = host.readFile(target);
    if (typeof text !== "string") {
      reportUnreadable(env, { source, span: item.path.span }, item.path.value, displayName(target, host), text);
      module.imports.push({ decl: item, target: null });
      continue;
    }
    // The import is recorded now; the imported file is loaded next, before this one's later imports.
    module.imports.push({ decl: item, target: open(target, new Source(displayName(target, host), text)) });
  }
  for (const m of order) collectOwn(m, env);
  for (const m of order) bindImports(m, env);
  return order;
}

/** An import whose file is missing, or exists but is refused (spec/names.md, "Where imports may lead"). */
function reportUnreadable(env: CheckEnv, at: Location, path: string, resolved: string, refusal: FileRefusal | null): void {
  if (refusal === null) env.report(messages.importNotFound, at, { path, resolved });
  else if (refusal.kind === "not-regular") env.report(messages.notRegularFile, at, { path: resolved, what: refusal.what });
  else if (refusal.kind === "not-utf8") env.report(messages.notUtf8, at, { path: resolved, offset: refusal.offset });
  else env.report(messages.importOutsideRoot, at, { path, root: refusal.root, real: refusal.real });
}

function declName(decl: TopDecl): Name {
  return decl.decl.name;
}

/** A file's own declarations; duplicates and built-in names are errors. */
function collectOwn(module: ModuleInfo, env: CheckEnv): void {
  for (const item of module.ast.items) {
    let decl: TopDecl;
    switch (item.kind) {
      case "Import":
        continue;
      case "Block":
        decl = { kind: "block", decl: item, module };
        break;
      case "Model":
        decl = { kind: "model", decl: item, module };
        break;
      case "Data":
        decl = { kind: "data", decl: item, module };
        break;
      case "Pipeline":
        decl = { kind: "pipeline", decl: item, module };
        break;
    }
    const name = item.name;
    const builtin = reservedBuiltin(name.text);
    if (builtin) {
      env.report(messages.shadowsBuiltin, { source: module.source, span: name.span }, { name: name.text, category: `built-in ${categoryNoun[builtin.category]}` });
      continue;
    }
    const first = module.own.get(name.text);
    if (first) {
      env.report(messages.duplicateDefinition, { source: module.source, span: name.span }, { name: name.text, scope: "file" }, {
        related: [{ source: module.source, span: declName(first).span, message: "first defined here" }],
      });
      continue;
    }
    module.own.set(name.text, decl);
    module.scope.set(name.text, decl);
  }
}

/**
 * Adds imported declarations to a file's scope. A name imported by name twice
 * is RC202; a wildcard import adds only what is not already in scope, so it
 * may overlap an explicit import of the same declaration. Pipelines are never
 * imported (RC213).
 */
function bindImports(module: ModuleInfo, env: CheckEnv): void {
  // Where each declaration was first imported by name.
  const named = new Map<object, { readonly span: Name["span"] }>();
  const bind = (name: string, decl: TopDecl, at: Name | ImportDecl["path"], byName: boolean): void => {
    const existing = module.scope.get(name);
    const first = byName ? named.get(decl.decl) : undefined;
    if (existing?.decl === decl.decl && !first) {
      if (byName) named.set(decl.decl, at);
      return;
    }
    if (existing) {
      const related = first
        ? { source: module.source, span: first.span, message: "first imported here" }
        : { source: existing.module.source, span: declName(existing).span, message: "first defined here" };
      env.report(messages.duplicateDefinition, { source: module.source, span: at.span }, { name, scope: "file" }, { related: [related] });
      return;
    }
    module.scope.set(name, decl);
    if (byName) named.set(decl.decl, at);
  };
  for (const { decl: imp, target } of module.imports) {
    if (!target) {
      // The import was reported (a cycle, a missing file): what it would have bound is not reported again.
      if (imp.names === null) module.wildcardFailed = true;
      else for (const name of imp.names) if (!module.scope.has(name.text)) module.unresolved.add(name.text);
      continue;
    }
    if (imp.names === null) {
      for (const [name, decl] of target.own) if (decl.kind !== "pipeline") bind(name, decl, imp.path, false);
      continue;
    }
    for (const name of imp.names) {
      const decl = target.own.get(name.text);
      if (!decl) {
        env.report(messages.importedNameMissing, { source: module.source, span: name.span }, { path: imp.path.value, name: name.text }, {
          notes: env.didYouMean(name.text, [...target.own.values()].filter((d) => d.kind !== "pipeline").map((d) => d.decl.name.text)),
        });
        module.unresolved.add(name.text);
        continue;
      }
      if (decl.kind === "pipeline") {
        env.report(messages.importedPipeline, { source: module.source, span: name.span }, { path: imp.path.value, name: name.text });
        module.unresolved.add(name.text);
        continue;
      }
      bind(name.text, decl, name, true);
    }
  }
}
