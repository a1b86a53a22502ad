/**
 * Go to definition, find references and rename, across files: the open
 * documents, the files they import (the standard library included) and the
 * `.repr` files of the workspace's folders.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Location, Range, TextEdit, WorkspaceEdit } from "vscode-languageserver";
import type { Span } from "../../language/ast.js";
import { keywords } from "../../language/lexer.js";
import { STD_DIR, resolveImport } from "../../compiler/check/file-host.js";
import { reservedBuiltin } from "../../compiler/builtins/index.js";
import { LineIndex, type Document } from "../documents.js";
import type { Workspace } from "../workspace.js";
import { symbolAt, targetKey, type Definition, type Target } from "../analysis/symbols.js";

/** A problem with a rename, said to the user. */
export class RenameError extends Error {}

/** The target of the name at an offset. */
export function targetAt(ws: Workspace, doc: Document, offset: number): Target | null {
  const symbols = ws.symbolsOf(doc.path);
  const hit = symbols ? symbolAt(symbols, offset) : null;
  if (!hit) return null;
  return "definition" in hit ? hit.definition : hit.reference.target;
}

function location(ws: Workspace, path: string, span: Span): Location | null {
  const text = ws.read(path);
  if (text === null) return null;
  return { uri: pathToFileURL(path).href, range: new LineIndex(text).range(span) };
}

/** Where the name at an offset is declared (an import's path: the file it names). */
export function definition(ws: Workspace, doc: Document, offset: number): Location | null {
  const target = targetAt(ws, doc, offset);
  if (target && target.kind !== "builtin") return location(ws, target.path, target.span);
  const ast = ws.ast(doc.path);
  const imp = ast?.items.find((i) => i.kind === "Import" && i.path.span.start <= offset && offset <= i.path.span.end);
  if (imp?.kind === "Import") return location(ws, resolveImport(doc.path, imp.path.value), { start: 0, end: 0 });
  return null;
}

/** The files a search for uses looks in. */
function searchedFiles(ws: Workspace, roots: readonly string[]): string[] {
  const files = new Set<string>(ws.documents.keys());
  const walk = (dir: string, depth: number): void => {
    if (depth > 6 || files.size > 2000) return;
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.startsWith(".") || e === "node_modules" || e === "dist") continue;
      const p = join(dir, e);
      try {
        const st = statSync(p);
        if (st.isDirectory()) walk(p, depth + 1);
        else if (e.endsWith(".repr")) files.add(p);
      } catch {
        continue;
      }
    }
  };
  for (const root of roots) walk(root, 0);
  // And what those files import, the standard library included.
  for (const path of [...files]) {
    for (const item of ws.ast(path)?.items ?? []) if (item.kind === "Import") files.add(resolveImport(path, item.path.value));
  }
  return [...files];
}

/** Every use of a target (and its declaration, when asked), as file and span. */
function uses(ws: Workspace, target: Target, roots: readonly string[], withDeclaration: boolean): { path: string; span: Span }[] {
  const key = targetKey(target);
  const out: { path: string; span: Span }[] = [];
  const seen = new Set<string>();
  const add = (path: string, span: Span) => {
    const k = `${path}:${span.start}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push({ path, span });
  };
  if (withDeclaration && target.kind !== "builtin") add(target.path, target.span);
  for (const path of searchedFiles(ws, roots)) {
    const symbols = ws.symbolsOf(path);
    if (!symbols) continue;
    for (const r of symbols.references) if (r.target && targetKey(r.target) === key) add(path, r.span);
  }
  return out;
}

/** The references of the name at an offset. */
export function references(ws: Workspace, doc: Document, offset: number, roots: readonly string[], withDeclaration: boolean): Location[] {
  const target = targetAt(ws, doc, offset);
  if (!target) return [];
  return uses(ws, target, roots, withDeclaration).flatMap((u) => location(ws, u.path, u.span) ?? []);
}

/** The range of a renamable name at an offset; a RenameError says why a name cannot be renamed. */
export function prepareRename(ws: Workspace, doc: Document, offset: number): { range: Range; placeholder: string } | null {
  const target = targetAt(ws, doc, offset);
  if (!target) return null;
  renamable(target);
  const symbols = ws.symbolsOf(doc.path)!;
  const hit = symbolAt(symbols, offset)!;
  const span = "definition" in hit ? hit.definition.span : hit.reference.span;
  return { range: doc.lines.range(span), placeholder: target.name };
}

function renamable(target: Target): asserts target is Definition {
  if (target.kind === "builtin") throw new RenameError(`'${target.name}' is built in and cannot be renamed`);
  if (target.path.startsWith(STD_DIR)) throw new RenameError(`'${target.name}' is declared in the standard library and cannot be renamed`);
}

/** The edits that rename the name at an offset everywhere it is used. */
export function rename(ws: Workspace, doc: Document, offset: number, newName: string, roots: readonly string[]): WorkspaceEdit | null {
  const target = targetAt(ws, doc, offset);
  if (!target) return null;
  renamable(target);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(newName)) throw new RenameError(`'${newName}' is not a name: names are letters, digits and '_', not starting with a digit`);
  if (keywords.has(newName) || newName === "true" || newName === "false") throw new RenameError(`'${newName}' is a keyword`);
  if (reservedBuiltin(newName)) throw new RenameError(`'${newName}' is a built-in name`);
  const changes: Record<string, TextEdit[]> = {};
  for (const u of uses(ws, target, roots, true)) {
    const text = ws.read(u.path);
    if (text === null) continue;
    const uri = pathToFileURL(u.path).href;
    (changes[uri] ??= []).push({ range: new LineIndex(text).range(u.span), newText: newName });
  }
  return { changes };
}
