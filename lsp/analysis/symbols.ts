/**
 * What every name in a file refers to: the declarations of a file
 * (top-level, model members, block parameters and statements, data fields)
 * and each use of a name, resolved as the checker resolves it — a model's
 * members, then the file's declarations and imports, then the built-ins; a
 * block's parameters, inputs and lets, then the file. Argument names refer
 * to the parameter of their callee, pipeline steps to the parts and losses
 * of the model they train.
 *
 * This works on the tree alone, so it answers in files that do not check.
 */
import { forEachChild } from "../../language/visit.js";
import type { Expr, FileNode, Item, ModelDecl, Name, PartRole, PipelineDecl, Span } from "../../language/ast.js";
import { builtinByName, builtins, dataTypeByName } from "../../compiler/builtins/index.js";
import type { Builtin, ParamSpec } from "../../compiler/builtins/spec.js";

/** What a declared name is. */
export type DefinitionKind = "model" | "data" | "pipeline" | "block" | "input" | "part" | "mask" | "view" | "let" | "loss" | "param" | "field";

/** A declared name. */
export interface Definition {
  readonly kind: DefinitionKind;
  readonly name: string;
  /** The file it is declared in. */
  readonly path: string;
  /** The name's span. */
  readonly span: Span;
  /** The whole declaration's span (for outlines and folding). */
  readonly full: Span;
  /** The model, block or data declaration it belongs to, if any. */
  readonly container: Definition | null;
  readonly role?: PartRole;
  readonly node: unknown;
}

/** A built-in (or one of its parameters) that a name refers to. */
export interface BuiltinTarget {
  readonly kind: "builtin";
  readonly name: string;
  readonly builtin: Builtin;
  readonly param?: ParamSpec;
}

export type Target = Definition | BuiltinTarget;

/** How a name is used. */
export type UseRole = "name" | "argument" | "member" | "key" | "enum";

/** One use of a name. */
export interface Reference {
  readonly span: Span;
  readonly name: string;
  readonly role: UseRole;
  /** What it refers to; null when nothing by that name is in scope (or it is a field, split or setting name). */
  readonly target: Target | null;
}

/** The names of one file. */
export interface FileSymbols {
  readonly path: string;
  readonly definitions: readonly Definition[];
  readonly references: readonly Reference[];
  /** Top-level declarations, by name (first wins, as in the checker). */
  readonly own: ReadonlyMap<string, Definition>;
}

/** The identity of a target, equal across files and runs. */
export function targetKey(t: Target): string {
  return t.kind === "builtin" ? `builtin:${t.name}${t.param ? `.${t.param.name}` : ""}` : `${t.path}:${t.span.start}`;
}

/** How the index reaches other files: the top-level declarations an import path names, from a file. */
export interface ImportResolver {
  (fromPath: string, importPath: string): { readonly path: string; readonly own: ReadonlyMap<string, Definition> } | null;
}

type Lookup = (name: string) => Target | null;

/** A built-in by name, in expressions (data types and element types included, metrics not). */
function builtinTarget(name: string): BuiltinTarget | null {
  const b = builtinByName(name) ?? dataTypeByName(name);
  return b ? { kind: "builtin", name, builtin: b } : null;
}

/** In a type (`input x: tokens(...)`), data types come before the mask strategy of the same name. */
function typeLookup(lookup: Lookup): Lookup {
  return (name) => {
    const t = dataTypeByName(name);
    return t ? { kind: "builtin", name, builtin: t } : lookup(name);
  };
}

/** Metrics are names only `test` settings use. */
function metricTarget(name: string): BuiltinTarget | null {
  const b = builtins.find((x) => x.category === "metric" && x.name === name);
  return b ? { kind: "builtin", name, builtin: b } : null;
}

/** The members (inputs, parts, losses, ...) of a model declared in another file. */
export type MemberResolver = (model: Definition) => readonly Definition[];

/** Indexes one parsed file. */
export function indexFile(path: string, ast: FileNode, resolveImport: ImportResolver, membersElsewhere: MemberResolver = () => []): FileSymbols {
  const definitions: Definition[] = [];
  const references: Reference[] = [];
  const own = new Map<string, Definition>();
  const define = (kind: DefinitionKind, name: Name, full: Span, node: unknown, container: Definition | null, role?: PartRole): Definition => {
    const d: Definition = { kind, name: name.text, path, span: name.span, full, container, node, ...(role ? { role } : {}) };
    if (name.text) definitions.push(d);
    return d;
  };
  const use = (span: Span, name: string, role: UseRole, target: Target | null): void => {
    if (name) references.push({ span, name, role, target });
  };

  // Top-level declarations first: they may be used before they are declared.
  const tops = new Map<Item, Definition>();
  for (const item of ast.items) {
    if (item.kind === "Import") continue;
    const kind = item.kind === "Model" ? "model" : item.kind === "Data" ? "data" : item.kind === "Pipeline" ? "pipeline" : "block";
    const d = define(kind, item.name, item.span, item, null);
    tops.set(item, d);
    if (!own.has(item.name.text)) own.set(item.name.text, d);
  }
  const fileScope = new Map<string, Target>(own);
  for (const item of ast.items) {
    if (item.kind !== "Import") continue;
    const target = resolveImport(path, item.path.value);
    if (!target) continue;
    const names = item.names ?? null;
    if (names === null) {
      for (const [name, d] of target.own) if (d.kind !== "pipeline" && !fileScope.has(name)) fileScope.set(name, d);
      continue;
    }
    for (const n of names) {
      const d = target.own.get(n.text) ?? null;
      use(n.span, n.text, "name", d);
      if (d && !fileScope.has(n.text)) fileScope.set(n.text, d);
    }
  }
  const inFile: Lookup = (name) => fileScope.get(name) ?? builtinTarget(name);

  for (const item of ast.items) {
    switch (item.kind) {
      case "Import":
        break;
      case "Block": {
        const block = tops.get(item)!;
        const local = new Map<string, Target>();
        const lookup: Lookup = (name) => local.get(name) ?? inFile(name);
        for (const p of item.params) {
          if (p.type) expr(p.type, typeLookup(lookup));
          if (p.default) expr(p.default, lookup);
          local.set(p.name.text, define("param", p.name, p.span, p, block));
        }
        for (const stmt of item.body) {
          if (stmt.kind === "Input") local.set(stmt.name.text, define("input", stmt.name, stmt.span, stmt, block));
          else if (stmt.kind === "Let") local.set(stmt.name.text, define("let", stmt.name, stmt.span, stmt, block));
        }
        for (const stmt of item.body) {
          if (stmt.kind === "Input") {
            if (stmt.type) expr(stmt.type, typeLookup(lookup));
          } else expr(stmt.value, lookup);
        }
        break;
      }
      case "Model":
        model(item, tops.get(item)!);
        break;
      case "Data": {
        const data = tops.get(item)!;
        for (const f of item.fields) {
          define("field", f.name, f.span, f, data);
          expr(f.type, typeLookup(inFile));
        }
        break;
      }
      case "Pipeline":
        pipeline(item);
        break;
    }
  }
  definitions.sort((a, b) => a.span.start - b.span.start);
  references.sort((a, b) => a.span.start - b.span.start);
  return { path, definitions, references, own };

  function membersOf(decl: ModelDecl, container: Definition): Map<string, Definition> {
    const members = new Map<string, Definition>();
    const add = (d: Definition) => {
      if (!members.has(d.name)) members.set(d.name, d);
    };
    for (const m of decl.members) {
      switch (m.kind) {
        case "Input":
          add(define("input", m.name, m.span, m, container));
          break;
        case "Part":
          add(define("part", m.name, m.span, m, container, m.role));
          break;
        case "Mask":
          add(define("mask", m.name, m.span, m, container));
          break;
        case "Views":
          for (const n of m.names) add(define("view", n, m.span, m, container));
          break;
        case "Let":
          add(define("let", m.name, m.span, m, container));
          break;
        case "Loss":
          add(define("loss", m.name, m.span, m, container));
          break;
        case "Output":
          break;
      }
    }
    return members;
  }

  function model(decl: ModelDecl, container: Definition): void {
    const members = membersOf(decl, container);
    const lookup: Lookup = (name) => members.get(name) ?? inFile(name);
    for (const m of decl.members) {
      switch (m.kind) {
        case "Input":
          if (m.type) expr(m.type, typeLookup(lookup));
          break;
        case "Loss":
          expr(m.value, lookup);
          if (m.on) expr(m.on, lookup);
          break;
        default:
          expr(m.value, lookup);
      }
    }
  }

  /** The members of the model a pipeline pretrains, as the index of its file (or an imported one) has them. */
  function pipeline(decl: PipelineDecl): void {
    let parts = new Map<string, Target>();
    for (const step of decl.steps) {
      switch (step.kind) {
        case "Pretrain": {
          const target = fileScope.get(step.model.text) ?? null;
          use(step.model.span, step.model.text, "name", target?.kind === "model" ? target : null);
          if (target?.kind === "model" && parts.size === 0) {
            const members = target.path === path ? definitions.filter((d) => d.container === target) : membersElsewhere(target);
            parts = new Map(members.map((d) => [d.name, d] as const));
          }
          expr(step.data, inFile);
          settings(step.config, parts);
          break;
        }
        case "Freeze":
        case "Unfreeze":
          for (const p of step.parts) use(p.span, p.text, "name", parts.get(p.text) ?? null);
          settings(step.config, parts);
          break;
        case "Replace":
          use(step.part.span, step.part.text, "name", parts.get(step.part.text) ?? null);
          expr(step.value, inFile);
          break;
        case "Adapt":
        case "Test":
          expr(step.data, inFile);
          settings(step.config, parts);
          break;
      }
    }
  }

  /** Step settings: keys are setting names; `objective` names losses, `lr_scale` keys name parts, the rest built-ins. */
  function settings(config: Extract<Expr, { kind: "Map" }> | null, members: Map<string, Target>): void {
    if (!config) return;
    const lookup: Lookup = (name) => members.get(name) ?? metricTarget(name) ?? builtinTarget(name);
    for (const e of config.entries) {
      use(e.name.span, e.name.text, "key", null);
      if (e.name.text === "lr_scale" && e.value.kind === "Map") {
        for (const inner of e.value.entries) {
          use(inner.name.span, inner.name.text, "name", members.get(inner.name.text) ?? null);
          expr(inner.value, lookup);
        }
      } else expr(e.value, lookup);
    }
  }

  function expr(e: Expr, lookup: Lookup): void {
    switch (e.kind) {
      case "Ident":
        use(e.span, e.name, "name", lookup(e.name));
        return;
      case "Call": {
        expr(e.callee, lookup);
        const callee = e.callee.kind === "Ident" ? lookup(e.callee.name) : null;
        const params = paramsOf(callee);
        for (const arg of e.args) {
          const param = arg.name ? params.find((p) => p.name === arg.name!.text) : undefined;
          if (arg.name) use(arg.name.span, arg.name.text, "argument", param ? param.target : null);
          const enumValues = param?.spec?.type.kind === "enum" ? param.spec.type.values : param?.spec?.type.kind === "axes" ? ["batch"] : null;
          const items = param?.spec?.type.kind === "axes" && arg.value.kind === "List" ? arg.value.items : [arg.value];
          for (const item of items) {
            if (enumValues && item.kind === "Ident" && enumValues.includes(item.name) && !lookup(item.name)) use(item.span, item.name, "enum", null);
            else expr(item, lookup);
          }
        }
        return;
      }
      case "Member":
        expr(e.target, lookup);
        use(e.name.span, e.name.text, "member", null);
        return;
      case "Map":
        for (const entry of e.entries) {
          use(entry.name.span, entry.name.text, "key", null);
          expr(entry.value, lookup);
        }
        return;
      default:
        forEachChild(e, (child) => expr(child, lookup));
        return;
    }
  }

  /** The parameters of what a call calls: a built-in's, or a block's (each a definition). */
  function paramsOf(callee: Target | null): { name: string; target: Target; spec?: ParamSpec }[] {
    if (!callee) return [];
    if (callee.kind === "builtin") return callee.builtin.params.map((p) => ({ name: p.name, spec: p, target: { ...callee, param: p } }));
    if (callee.kind !== "block") return [];
    const params = (callee.node as Extract<Item, { kind: "Block" }>).params;
    const found = callee.path === path ? definitions.filter((d) => d.container === callee && d.kind === "param") : [];
    return params.map((p) => ({
      name: p.name.text,
      target: found.find((d) => d.span.start === p.name.span.start) ?? { kind: "param", name: p.name.text, path: callee.path, span: p.name.span, full: p.span, container: callee, node: p },
    }));
  }
}

/** The definition or reference whose name covers an offset (the end of a name counts, for a cursor just after it). */
export function symbolAt(symbols: FileSymbols, offset: number): { definition: Definition } | { reference: Reference } | null {
  const covers = (s: Span) => s.start <= offset && offset <= s.end;
  const d = symbols.definitions.find((x) => covers(x.span));
  if (d) return { definition: d };
  const r = symbols.references.find((x) => covers(x.span));
  return r ? { reference: r } : null;
}
