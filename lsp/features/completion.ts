/**
 * Completion: what may be written at the cursor.
 *
 * - at the start of a member, step or declaration: its keywords;
 * - after `encoder f =` and `->`: layers, bottlenecks, blocks and parts;
 *   after `mask m =` masks, after `views a, b =` augmentations, after
 *   `loss l =` objectives, elsewhere the names in scope;
 * - in a call: its named arguments (type and default), or the values of
 *   the argument being written;
 * - after `input`: the fields of the data in scope; after `x:` the types;
 * - in `import { ... } from "std"`: what that file exports; in the path: files;
 * - in a pipeline: step keywords, models, data, parts, settings and their values.
 */
import { readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { CompletionItemKind, InsertTextFormat, type CompletionItem } from "vscode-languageserver";
import type { IToken } from "chevrotain";
import { builtins, dataTypeByName } from "../../compiler/builtins/index.js";
import type { Builtin, BuiltinCategory, ParamSpec } from "../../compiler/builtins/spec.js";
import { STD_DIR, resolveImport } from "../../compiler/check/file-host.js";
import { stepSettings } from "../../compiler/check/settings.js";
import * as T from "../../language/lexer.js";
import { Source } from "../../language/source.js";
import type { BlockDecl } from "../../language/ast.js";
import type { Document } from "../documents.js";
import type { Workspace } from "../workspace.js";
import { cursorContext, type CursorContext } from "../analysis/context.js";
import type { Definition, FileSymbols, Target } from "../analysis/symbols.js";
import { blockSignature, builtinSignature, formatParamType, paramLabel } from "../analysis/signatures.js";

const memberKeywords = ["input", "encoder", "bottleneck", "decoder", "head", "part", "mask", "views", "let", "loss", "output"];
const stepKeywords = ["pretrain", "freeze", "unfreeze", "replace", "adapt", "test"];
const topKeywords = ["model", "data", "pipeline", "block", "import"];
const layerCategories: BuiltinCategory[] = ["layer", "bottleneck"];

const kindOf: Record<string, CompletionItemKind> = {
  layer: CompletionItemKind.Function,
  bottleneck: CompletionItemKind.Function,
  function: CompletionItemKind.Function,
  objective: CompletionItemKind.Function,
  mask: CompletionItemKind.Function,
  augment: CompletionItemKind.Function,
  optimizer: CompletionItemKind.Function,
  schedule: CompletionItemKind.Function,
  metric: CompletionItemKind.Value,
  datatype: CompletionItemKind.TypeParameter,
  dtype: CompletionItemKind.TypeParameter,
  block: CompletionItemKind.Function,
  model: CompletionItemKind.Class,
  data: CompletionItemKind.Struct,
  pipeline: CompletionItemKind.Module,
  part: CompletionItemKind.Variable,
  input: CompletionItemKind.Variable,
  /** A mask a model declares (the built-in strategies are functions). */
  maskMember: CompletionItemKind.Variable,
  view: CompletionItemKind.Variable,
  let: CompletionItemKind.Variable,
  loss: CompletionItemKind.Variable,
  param: CompletionItemKind.Variable,
  field: CompletionItemKind.Field,
};

/** Completion items for a built-in. */
function builtinItem(b: Builtin): CompletionItem {
  const sig = builtinSignature(b);
  return { label: b.name, kind: kindOf[b.category], detail: sig.label, documentation: sig.doc };
}

function builtinsIn(...categories: BuiltinCategory[]): CompletionItem[] {
  return builtins.filter((b) => categories.includes(b.category)).map(builtinItem);
}

function keywords(words: readonly string[]): CompletionItem[] {
  return words.map((w) => ({ label: w, kind: CompletionItemKind.Keyword }));
}

/** Completion items at an offset of a document. */
export function complete(ws: Workspace, doc: Document, offset: number): CompletionItem[] {
  const ctx = cursorContext(doc.text, offset);
  const symbols = ws.symbolsOf(doc.path);
  if (ctx.inString) return importPaths(doc, ctx);
  const prev = ctx.statement[ctx.statement.length - 1] ?? null;
  const inner = ctx.open[ctx.open.length - 1] ?? null;

  // `m.` and `digits.`: a mask's fields, a data set's splits.
  if (prev?.tokenType === T.Dot) {
    const name = ctx.statement[ctx.statement.length - 2];
    const target = symbols && name ? (resolvedBefore(symbols, name) ?? visibleNamed(ws, doc, symbols, ctx, name.image)) : null;
    if (target?.kind === "mask") return ["input", "target", "masked"].map((f) => ({ label: f, kind: CompletionItemKind.Field, detail: `field of mask '${target.name}'` }));
    if (target?.kind === "data") return ["train", "test"].map((f) => ({ label: f, kind: CompletionItemKind.Field, detail: `split of data '${target.name}'` }));
    return [];
  }

  if (!ctx.item) return ctx.open.length === 0 && ctx.statement.length === 0 ? keywords(topKeywords) : [];
  const keyword = ctx.item.keyword;
  if (keyword === "import") return importNames(ws, doc, ctx);
  if (inner && inner.token.tokenType === T.LParen) return callArguments(ws, doc, symbols, ctx, inner.index);
  if (inner && inner.token.tokenType === T.LBracket && keyword === "pipeline") return builtinsIn("metric");
  // Depth 1 is the declaration's body; a pipeline step's settings are a map inside it.
  if (keyword === "pipeline" && ctx.open.length > 1 && inner?.token.tokenType === T.LCurly) return settings(ws, doc, symbols, ctx);
  if (ctx.open.length !== 1) return scopeNames(ws, doc, symbols, ctx, null);
  switch (keyword) {
    case "model":
      return modelBody(ws, doc, symbols, ctx);
    case "block":
      if (ctx.statement.length === 0) return [...keywords(["input", "let", "output"]), ...layerItems(ws, doc, symbols, ctx)];
      if (ctx.statement[0]?.image === "input" && prev?.tokenType === T.Colon) return typeItems();
      return scopeNames(ws, doc, symbols, ctx, null);
    case "data":
      if (prev?.tokenType === T.Colon) return typeItems();
      return [];
    case "pipeline":
      return pipelineBody(ws, doc, symbols, ctx);
  }
  return [];
}

/** What a name just before the cursor resolves to. */
function resolvedBefore(symbols: FileSymbols, token: IToken | undefined): Target | null {
  if (!token) return null;
  const r = symbols.references.find((x) => x.span.start === token.startOffset);
  const d = symbols.definitions.find((x) => x.span.start === token.startOffset);
  return d ?? r?.target ?? null;
}

/** A name as the cursor's declaration sees it, found by name (for text the parser could not read). */
function visibleNamed(ws: Workspace, doc: Document, symbols: FileSymbols, ctx: CursorContext, name: string): Target | null {
  const here = ctx.item ? ctx.tokens[ctx.item.index + 1] : undefined;
  const container = here ? symbols.definitions.find((d) => d.container === null && d.span.start === here.startOffset) : undefined;
  return (
    symbols.definitions.find((d) => container && d.container === container && d.name === name) ??
    symbols.own.get(name) ??
    importedDefinitions(ws, doc).find((d) => d.name === name) ??
    null
  );
}

function typeItems(): CompletionItem[] {
  return builtinsIn("dtype", "datatype").map((i) => (dataTypeByName(i.label) ? { ...i, insertText: `${i.label}($1)`, insertTextFormat: InsertTextFormat.Snippet } : { ...i, insertText: `${i.label}[$1]`, insertTextFormat: InsertTextFormat.Snippet }));
}

/** A model's body: member keywords, input fields, then by member. */
function modelBody(ws: Workspace, doc: Document, symbols: FileSymbols | null, ctx: CursorContext): CompletionItem[] {
  const st = ctx.statement;
  if (st.length === 0) return keywords(memberKeywords);
  const head = st[0]!.image;
  const prev = st[st.length - 1]!;
  if (head === "input" && st.length === 1) return dataFields(ws, doc, symbols);
  if (head === "input" && prev.tokenType === T.Colon) return typeItems();
  const eq = st.findIndex((t) => t.tokenType === T.Equals);
  if (eq < 0) return head === "output" ? scopeNames(ws, doc, symbols, ctx, null) : [];
  const afterPipe = prev.tokenType === T.Arrow;
  switch (head) {
    case "mask":
      return st.length === eq + 1 ? builtinsIn("mask") : scopeNames(ws, doc, symbols, ctx, null);
    case "views":
      return st.length === eq + 1 ? builtinsIn("augment") : scopeNames(ws, doc, symbols, ctx, null);
    case "loss":
      return st.length === eq + 1 ? [...builtinsIn("objective"), ...scopeNames(ws, doc, symbols, ctx, null)] : scopeNames(ws, doc, symbols, ctx, null);
    case "encoder":
    case "bottleneck":
    case "decoder":
    case "head":
    case "part":
      return layerItems(ws, doc, symbols, ctx);
    default:
      return afterPipe ? layerItems(ws, doc, symbols, ctx) : scopeNames(ws, doc, symbols, ctx, null);
  }
}

/** Layers, bottlenecks, blocks and parts. */
function layerItems(ws: Workspace, doc: Document, symbols: FileSymbols | null, ctx: CursorContext): CompletionItem[] {
  return [...builtinsIn(...layerCategories), ...scopeNames(ws, doc, symbols, ctx, (d) => d.kind === "block" || d.kind === "part" || d.kind === "param")];
}

/** The names the cursor's declaration sees (its members or a block's parameters and statements, the file's and imported declarations), and built-in values and layers. */
function scopeNames(ws: Workspace, doc: Document, symbols: FileSymbols | null, ctx: CursorContext, keep: ((d: Definition) => boolean) | null): CompletionItem[] {
  const items: CompletionItem[] = [];
  const seen = new Set<string>();
  const add = (d: Definition) => {
    if (seen.has(d.name) || (keep && !keep(d))) return;
    if (d.kind === "model" || d.kind === "pipeline" || d.kind === "data" || d.kind === "loss" || d.kind === "field") return;
    seen.add(d.name);
    items.push({ label: d.name, kind: kindOf[d.kind === "mask" ? "maskMember" : d.kind], detail: d.container ? `${d.role ?? d.kind} of ${d.container.name}` : d.kind, ...(d.kind === "block" ? { documentation: blockDoc(ws, d) } : {}) });
  };
  if (symbols) {
    const here = ctx.item ? ctx.tokens[ctx.item.index + 1] : undefined;
    const container = here ? symbols.definitions.find((d) => d.container === null && d.span.start === here.startOffset) : undefined;
    for (const d of symbols.definitions) if (container && d.container === container) add(d);
    for (const d of symbols.own.values()) add(d);
    for (const d of importedDefinitions(ws, doc)) add(d);
  }
  if (!keep) items.push(...builtinsIn("layer", "bottleneck", "function"));
  return items;
}

function blockDoc(ws: Workspace, d: Definition): string {
  const text = ws.read(d.path);
  return text === null ? "" : `block ${blockSignature(d.node as BlockDecl, new Source(d.path, text)).label}\n\n${(d.node as BlockDecl).doc ?? ""}`;
}

/** The declarations a document's imports bring in. */
function importedDefinitions(ws: Workspace, doc: Document): Definition[] {
  const symbols = ws.symbolsOf(doc.path);
  const ast = ws.ast(doc.path);
  if (!symbols || !ast) return [];
  const out: Definition[] = [];
  for (const item of ast.items) {
    if (item.kind !== "Import") continue;
    const target = ws.symbolsOf(resolveImport(doc.path, item.path.value));
    if (!target) continue;
    for (const d of target.own.values()) {
      if (d.kind === "pipeline") continue;
      if (item.names === null || item.names.some((n) => n.text === d.name)) out.push(d);
    }
  }
  return out;
}

/** After `input`: the fields of the data declarations in scope, with their types. */
function dataFields(ws: Workspace, doc: Document, symbols: FileSymbols | null): CompletionItem[] {
  if (!symbols) return [];
  const all = [...symbols.own.values(), ...importedDefinitions(ws, doc)].filter((d) => d.kind === "data");
  const items: CompletionItem[] = [];
  for (const data of all) {
    const text = ws.read(data.path);
    if (text === null) continue;
    const source = new Source(data.path, text);
    for (const f of (data.node as { fields: readonly { name: { text: string }; type: { span: { start: number; end: number } } }[] }).fields) {
      const type = source.slice(f.type.span);
      items.push({ label: f.name.text, kind: CompletionItemKind.Field, detail: `${f.name.text}: ${type} (data ${data.name})`, insertText: `${f.name.text}: ${type}` });
    }
  }
  return items;
}

/** In a call: named arguments not given yet, or the values of the one being written. */
function callArguments(ws: Workspace, doc: Document, symbols: FileSymbols | null, ctx: CursorContext, openIndex: number): CompletionItem[] {
  const callee = ctx.before[openIndex - 1];
  const target = symbols && callee?.tokenType === T.Ident ? resolvedBefore(symbols, callee) ?? builtinNamed(callee.image) : null;
  const params: readonly { name: string; label: string; doc: string; spec?: ParamSpec }[] =
    target?.kind === "builtin"
      ? target.builtin.params.map((p) => ({ name: p.name, label: paramLabel(p), doc: p.doc, spec: p }))
      : target?.kind === "block"
        ? blockSignature(target.node as BlockDecl, new Source(target.path, ws.read(target.path) ?? "")).params
        : [];
  const st = ctx.statement;
  const prev = st[st.length - 1];
  if (prev?.tokenType === T.Colon && st.length >= 2) {
    const param = params.find((p) => p.name === st[st.length - 2]!.image);
    if (param?.spec?.type.kind === "enum") return param.spec.type.values.map((v) => ({ label: v, kind: CompletionItemKind.EnumMember, detail: `${param.name} of ${callee?.image}` }));
    if (param?.spec?.type.kind === "bool") return keywords(["true", "false"]);
    return scopeNames(ws, doc, symbols, ctx, null);
  }
  const given = new Set<string>();
  let depth = 0;
  for (let i = openIndex + 1; i < ctx.before.length; i++) {
    const t = ctx.before[i]!;
    if (t.tokenType === T.LParen || t.tokenType === T.LBracket || t.tokenType === T.LCurly) depth++;
    else if (t.tokenType === T.RParen || t.tokenType === T.RBracket || t.tokenType === T.RCurly) depth--;
    else if (depth === 0 && t.tokenType === T.Colon) given.add(ctx.before[i - 1]!.image);
  }
  const named: CompletionItem[] = params
    .filter((p) => !given.has(p.name) && !(p.spec?.type.kind === "value" && p.name === "x"))
    .map((p, i) => ({
      label: `${p.name}:`,
      kind: CompletionItemKind.Property,
      detail: p.label,
      documentation: p.doc,
      insertText: `${p.name}: `,
      sortText: `0${String(i).padStart(3, "0")}`,
      filterText: p.name,
    }));
  return [...named, ...scopeNames(ws, doc, symbols, ctx, null)];
}

function builtinNamed(name: string): Target | null {
  const b = builtins.find((x) => x.name === name && x.category !== "metric");
  return b ? { kind: "builtin", name, builtin: b } : null;
}

/** A pipeline's body: step keywords, then what each step names. */
function pipelineBody(ws: Workspace, doc: Document, symbols: FileSymbols | null, ctx: CursorContext): CompletionItem[] {
  const st = ctx.statement;
  if (st.length === 0) return keywords(stepKeywords);
  const prev = st[st.length - 1]!;
  const head = st[0]!.image;
  const visible = symbols ? [...symbols.own.values(), ...importedDefinitions(ws, doc)] : [];
  const named = (kind: Definition["kind"]) => visible.filter((d) => d.kind === kind).map((d) => ({ label: d.name, kind: kindOf[kind], detail: kind }));
  if (head === "pretrain" && st.length === 1) return named("model");
  if (prev.image === "on") return named("data");
  if (head === "pretrain" && st.length === 2) return keywords(["on"]);
  if (head === "adapt" || head === "test") return st.length === 1 ? keywords(["on"]) : [];
  if (head === "freeze" || head === "unfreeze" || (head === "replace" && st.length === 1)) return partsOfPipeline(ws, symbols, ctx);
  if (head === "replace" && st.length === 2) return keywords(["with"]);
  if (head === "replace") return layerItems(ws, doc, symbols, ctx);
  return [];
}

/** The parts of the model the cursor's pipeline pretrains. */
function partsOfPipeline(ws: Workspace, symbols: FileSymbols | null, ctx: CursorContext): CompletionItem[] {
  if (!symbols || !ctx.item) return [];
  const start = ctx.tokens[ctx.item.index]!.startOffset;
  const pretrain = symbols.references.find((r) => r.span.start > start && r.target?.kind === "model" && r.span.start < (ctx.before[ctx.before.length - 1]?.startOffset ?? 0));
  const model = pretrain?.target;
  if (!model || model.kind === "builtin") return [];
  return membersOfModel(ws, symbols, model).filter((d) => d.kind === "part").map((d) => ({ label: d.name, kind: CompletionItemKind.Variable, detail: `${d.role} of ${model.name}` }));
}

/** The members of a model, declared in this file or an imported one. */
function membersOfModel(ws: Workspace, symbols: FileSymbols, model: Definition): Definition[] {
  const index = model.path === symbols.path ? symbols : ws.symbolsOf(model.path);
  const decl = index?.definitions.find((d) => d.kind === "model" && d.span.start === model.span.start);
  return decl ? index!.definitions.filter((d) => d.container === decl) : [];
}

/** Inside a step's `{ }`: its settings, and their values. */
function settings(ws: Workspace, doc: Document, symbols: FileSymbols | null, ctx: CursorContext): CompletionItem[] {
  const outer = ctx.open[1]!;
  const stepToken = (() => {
    for (let i = outer.index - 1; i >= 0; i--) {
      const t = ctx.before[i]!;
      if (stepKeywords.includes(t.image) && t.tokenType !== T.Ident) return t.image;
    }
    return "pretrain";
  })();
  const st = ctx.statement;
  const prev = st[st.length - 1];
  // The keys of an `lr_scale` table are the model's parts (and paths inside them, spec/paths.md).
  if (ctx.open.length === 3 && ctx.before[ctx.open[2]!.index - 2]?.image === "lr_scale" && prev?.tokenType !== T.Colon) return partsOfPipeline(ws, symbols, ctx);
  if (ctx.open.length > 2) return [];
  if (prev?.tokenType === T.Colon) {
    const key = st[st.length - 2]?.image;
    if (key === "optimizer") return builtinsIn("optimizer");
    if (key === "schedule") return builtinsIn("schedule");
    if (key === "objective") return losses(ws, symbols, ctx);
    if (key === "metrics") return builtinsIn("metric");
    return [];
  }
  if (st.length > 0) return [];
  return stepSettings(stepToken).map((s) => ({
    label: s.name,
    kind: CompletionItemKind.Property,
    detail: s.spec ? `${s.name}: ${formatParamType(s.spec.type)}` : s.name,
    documentation: s.spec?.doc ?? settingDocs[s.name] ?? "",
    insertText: `${s.name}: `,
  }));
}

const settingDocs: Record<string, string> = {
  optimizer: "The optimizer: sgd, momentum, adam or adamw, with its learning rate.",
  schedule: "The learning-rate schedule: constant, cosine or warmup.",
  objective: "The losses this step trains (all of the model's by default).",
  lr_scale: "Learning-rate factors by part or layer path, the most specific key winning: { f: 0.1, f.3: 1 }.",
  metrics: "What the test reports: [accuracy, top_k(k: 5), ...].",
};

/** The losses of the model of the cursor's pipeline. */
function losses(ws: Workspace, symbols: FileSymbols | null, ctx: CursorContext): CompletionItem[] {
  if (!symbols || !ctx.item) return [];
  const start = ctx.tokens[ctx.item.index]!.startOffset;
  const model = symbols.references.find((r) => r.span.start > start && r.target?.kind === "model")?.target;
  if (!model || model.kind === "builtin") return [];
  return membersOfModel(ws, symbols, model).filter((d) => d.kind === "loss").map((d) => ({ label: d.name, kind: CompletionItemKind.Variable, detail: `loss of ${model.name}` }));
}

/** In `import { ... } from "path"`: the declarations of that file. */
function importNames(ws: Workspace, doc: Document, ctx: CursorContext): CompletionItem[] {
  const inner = ctx.open[ctx.open.length - 1];
  if (!inner || inner.token.tokenType !== T.LCurly) return [];
  const after = ctx.tokens.slice(ctx.before.length);
  const from = after.findIndex((t) => t.image === "from");
  const path = from >= 0 ? after[from + 1] : undefined;
  if (!path || path.tokenType !== T.StringTok) return [];
  const target = ws.symbolsOf(resolveImport(doc.path, T.decodeString(path.image, true)));
  if (!target) return [];
  return [...target.own.values()].filter((d) => d.kind !== "pipeline").map((d) => ({ label: d.name, kind: kindOf[d.kind], detail: d.kind === "block" ? blockDoc(ws, d).split("\n")[0] : d.kind }));
}

/** In an import's path: `std`, the standard library's files, and `.repr` files beside the document. */
function importPaths(doc: Document, ctx: CursorContext): CompletionItem[] {
  const tokenIndex = ctx.tokens.indexOf(ctx.inString!);
  const prev = ctx.tokens[tokenIndex - 1];
  if (!prev || (prev.image !== "import" && prev.image !== "from")) return [];
  const items: CompletionItem[] = [{ label: "std", kind: CompletionItemKind.Module, detail: "the standard library" }];
  const list = (dir: string) => {
    try {
      return readdirSync(dir).filter((f) => f.endsWith(".repr"));
    } catch {
      return [];
    }
  };
  for (const f of list(STD_DIR)) items.push({ label: `std/${f.replace(/\.repr$/, "")}`, kind: CompletionItemKind.Module, detail: "standard library" });
  const here = dirname(doc.path);
  for (const f of list(here)) {
    if (join(here, f) === doc.path) continue;
    items.push({ label: `./${relative(here, join(here, f))}`, kind: CompletionItemKind.File });
  }
  return items;
}
